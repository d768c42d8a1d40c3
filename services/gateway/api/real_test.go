package api_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/pgtest"
	"github.com/solcrowd/backend/libs/solana/soltest"
	"github.com/solcrowd/backend/services/campaign"
	"github.com/solcrowd/backend/services/pricer"
)

const wsolMint = "So11111111111111111111111111111111111111112"

// TestContractRealServices runs the seed endpoints through the real campaign service (on a fresh
// Postgres database) and the real pricer (reading the chain simulator and recorded CoinGecko and
// DexScreener responses), all over an embedded JetStream server. Only the indexer is a stub
// responder here.
func TestContractRealServices(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres-backed services")
	}
	ns := natstest.Run(t)
	dsn := pgtest.NewDatabase(t, os.Getenv("TEST_DATABASE_URL"))
	chain := soltest.NewServer(t, soltest.Config{LoadFixtures: true})
	mint := make([]byte, 82)
	binary.LittleEndian.PutUint64(mint[36:], 5_000_000_000_000_000) // 5,000,000 SOL of wSOL supply
	mint[44], mint[45] = 9, 1
	chain.SetAccount(solana.MustPublicKeyFromBase58(wsolMint), soltest.Account{Lamports: 1461600, Owner: solana.TokenProgramID, Data: mint})
	serve := func(body []byte) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	cg := serve(fixtures.Market("coingecko-simple-price-solana.json"))
	dex := serve(fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	ipfs := serve([]byte(`{}`))

	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	pcfg, err := pricer.LoadConfig(map[string]string{
		"NATS_URL": ns.URL(), "PRICER_OPS_ADDR": "127.0.0.1:0", "SOLANA_RPC_URL": chain.URL,
		"PRICE_SOURCES": "coingecko", "COINGECKO_URL": cg, "DEXSCREENER_URL": dex, "IPFS_GATEWAY": ipfs,
		"COINGECKO_RPS": "100", "DEXSCREENER_RPS": "100", "PRICER_SOLANA_RPC_RPS": "100",
	})
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := campaign.LoadConfig(map[string]string{
		"NATS_URL": ns.URL(), "DATABASE_URL": dsn, "WALLET": seedWallet, "CAMPAIGN_OPS_ADDR": "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Create the streams once up front: two services creating the same stream at the same
	// instant race in CreateOrUpdateStream ("stream name already in use").
	setup, err := bus.Connect(ctx, bus.ConnectConfig{URL: ns.URL(), Name: "setup"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()
	done := make(chan error, 2)
	go func() { done <- pricer.Run(ctx, pcfg, log) }()
	go func() { done <- campaign.Run(ctx, ccfg, log) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("service: %v", err)
			}
		}
	})

	e := newEnv(t, envOpts{natsURL: ns.URL()})
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.do("GET", "/api/health", nil)
		if r.status == 200 && r.json(t)["sol_price"] != nil {
			m := r.json(t)
			if m["sol_price"] != json.Number("13.96") || m["monitored_campaigns"] != json.Number("0") {
				t.Fatalf("health: %s", r.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("services did not become healthy: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// POST /api/campaigns with the seed's body shape.
	exp := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	body := strings.NewReplacer(seedMint, wsolMint, "2099-12-31T23:59:59Z", exp).Replace(seedCreateBody)
	r := e.do("POST", "/api/campaigns", body)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "create", m, map[string]string{"success": "boolean", "campaign_id": "string", "escrow_address": "string", "error": "null", "campaign": "object|null"})
	id := m["campaign_id"].(string)
	if m["escrow_address"] != seedWallet {
		t.Fatalf("escrow: %v", m["escrow_address"])
	}
	// A second open campaign for the same token is a conflict; an unknown mint is the seed's 400.
	if r := e.do("POST", "/api/campaigns", body); r.status != http.StatusConflict {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/campaigns", strings.Replace(body, wsolMint, payer1, 1)); r.status != http.StatusBadRequest {
		t.Fatalf("unknown mint: %d %s", r.status, r.body)
	}

	// GET /api/campaign-detail/{contract_address}
	r = e.do("GET", "/api/campaign-detail/"+wsolMint, nil)
	if r.status != 200 {
		t.Fatalf("detail: %d %s", r.status, r.body)
	}
	c := r.json(t)["campaign"].(map[string]any)
	requireShape(t, "detail.campaign", c, seedCampaignShape)
	if c["id"] != id || c["goal_amount"] != json.Number("100") || c["goal_lamports"] != "100000000000" || c["expires_at"] != exp || c["current_balance"] != json.Number("0") {
		t.Fatalf("campaign: %v", c)
	}

	// GET /api/campaigns/{id}/qr
	r = e.do("GET", "/api/campaigns/"+id+"/qr?amount=0.25", nil)
	if q := r.json(t); r.status != 200 || !strings.HasPrefix(q["solana_pay_uri"].(string), "solana:"+seedWallet+"?amount=0.25&reference="+c["reference"].(string)) {
		t.Fatalf("qr: %d %.300s", r.status, r.body)
	}

	// GET /api/token/{contract_address}
	r = e.do("GET", "/api/token/"+wsolMint, nil)
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	d := r.json(t)["data"].(map[string]any)
	requireShape(t, "token.data", d, map[string]string{"contract_address": "string", "name": "string", "symbol": "string", "decimals": "number", "price_usd": "number|null", "total_supply": "string", "holders_count": "number|null"})
	if d["decimals"] != json.Number("9") || d["total_supply"] != "5000000" || d["price_usd"] != json.Number("100.17") {
		t.Fatalf("token: %v", d)
	}

	// GET /api/escrow-transactions/{wallet} and /api/escrow-balance on an escrow with no payments yet.
	r = e.do("GET", "/api/escrow-transactions/"+seedWallet, nil)
	if r.status == 200 {
		requireShape(t, "escrow-transactions", r.json(t), map[string]string{"transactionCount": "number", "contributors": "array", "transactions": "array"})
	} else if r.status != 404 {
		t.Fatalf("escrow-transactions: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/escrow-balance?wallet="+seedWallet, nil)
	if d := r.json(t)["data"].(map[string]any); r.status != 200 || d["balanceUSD"] != json.Number("38.39") { // 2.75 SOL × 13.96
		t.Fatalf("escrow-balance: %d %s", r.status, r.body)
	}

	// A confirmed payment published by the "indexer" is credited by the real campaign service and
	// shows in the seed's escrow and campaign shapes.
	ref := c["reference"].(string)
	pay := events.Contribution{Version: 1, State: events.StateConfirmed,
		Signature: "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW",
		Escrow:    seedWallet, Payer: payer1, Amount: 1_500_000_000, Decimals: 9, Reference: ref, CampaignID: id,
		Slot: 1000, BlockTime: 1678886400, Observed: time.Now()}
	if _, err := e.conn.PublishJSON(ctx, pay.State.Subject(), pay.MsgID(), pay); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		r = e.do("GET", "/api/escrow-transactions/"+seedWallet, nil)
		if r.status == 200 && r.json(t)["transactionCount"] == json.Number("1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment not credited: %d %s", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	et := r.json(t)
	tx := et["transactions"].([]any)[0].(map[string]any)
	if tx["amount"] != json.Number("1.5") || tx["from"] != payer1 || tx["timestamp"] != json.Number("1678886400") || tx["signature"] != pay.Signature ||
		len(et["contributors"].([]any)) != 1 || et["contributors"].([]any)[0] != payer1 {
		t.Fatalf("escrow-transactions: %s", r.body)
	}
	c = e.do("GET", "/api/campaign-detail/"+wsolMint, nil).json(t)["campaign"].(map[string]any)
	if c["current_balance"] != json.Number("1.5") || c["pending_balance"] != json.Number("1.5") || c["settled_balance"] != json.Number("0") ||
		c["current_balance_lamports"] != "1500000000" || c["contributor_count"] != json.Number("1") {
		t.Fatalf("campaign after payment: %v", c)
	}

	// GET /api/health now counts the campaign.
	if m := e.do("GET", "/api/health", nil).json(t); m["monitored_campaigns"] != json.Number("1") {
		t.Fatalf("health: %v", m)
	}
}
