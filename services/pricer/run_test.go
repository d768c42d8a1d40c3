package pricer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/fixtures"
)

// TestRunRequestReply runs the production wiring against an embedded JetStream server, the chain
// simulator and replayed price APIs, and talks to it only over NATS.
func TestRunRequestReply(t *testing.T) {
	kv, conn, natsURL := pricesKV(t)
	sim := chain(t)
	cg := newUpstream(t, 200, fixtures.Market("coingecko-simple-price-solana.json"))
	dex := newUpstream(t, 200, fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	gw := newUpstream(t, 200, []byte(`{"image":"https://img.example/2235.png"}`))

	// A stand-in campaign service answering the watch list over NATS: one open campaign for wSOL.
	camp, err := conn.NewService(events.ServiceCampaign, "0.0.1", discard())
	if err != nil {
		t.Fatal(err)
	}
	defer camp.Stop()
	if err := bus.Handle(camp, "watchlist", events.SubjectCampaignWatch, func(context.Context, events.WatchListRequest) (events.WatchListReply, error) {
		return events.WatchListReply{Entries: []events.WatchEntry{
			{CampaignID: "c1", Mint: wsolMint, Status: events.StatusActive},
			{CampaignID: "c2", Mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", Status: events.StatusCancelled},
		}}, nil
	}); err != nil {
		t.Fatal(err)
	}

	cfg, err := LoadConfig(map[string]string{
		"NATS_URL":                natsURL,
		"PRICER_OPS_ADDR":         "127.0.0.1:0",
		"SOLANA_RPC_URL":          sim.URL,
		"PRICE_SOURCES":           "pyth,coingecko",
		"PYTH_MAX_AGE":            "1000000h", // the recording is from 2026-08; freshness is tested with a clock elsewhere
		"COINGECKO_URL":           cg.URL,
		"DEXSCREENER_URL":         dex.URL,
		"IPFS_GATEWAY":            gw.URL,
		"PRICER_REFRESH_INTERVAL": "200ms",
		"UPSTREAM_TIMEOUT":        "2s",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, discard()) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()

	var sol events.SOLPrice
	waitFor(t, "sol price reply", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		sol, err = bus.Request[events.SOLPrice](ctx, conn, events.SubjectPricerSOLPrice, events.SOLPriceRequest{})
		return err == nil
	})
	if sol.USD != "93.85943752" || sol.Source != "pyth" || sol.Stale || sol.UpdatedAt.Unix() != pythPublish {
		t.Fatalf("sol price %+v", sol)
	}
	if cg.hits.Load() != 0 {
		t.Fatalf("coingecko asked although pyth answered")
	}

	info, err := bus.Request[events.TokenInfo](ctx, conn, events.SubjectPricerToken, events.TokenInfoRequest{Mint: goobergMint})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Gooberg #2235" || info.Symbol != "TGB" || info.MetadataURI != goobergURI || info.ImageURL != "https://img.example/2235.png" {
		t.Fatalf("token info %+v", info)
	}

	_, err = bus.Request[events.TokenInfo](ctx, conn, events.SubjectPricerToken, events.TokenInfoRequest{Mint: "not-a-mint"})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Field != "mint" {
		t.Fatalf("malformed mint: %v", err)
	}
	if _, err = bus.Request[events.TokenInfo](ctx, conn, events.SubjectPricerToken, events.TokenInfoRequest{Mint: pythAccount}); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("not a mint: %v", err)
	}

	// KV PRICES: SOL from the refresh loop, the requested token, and the open campaign's mint.
	get := func(key string, v any) bool {
		e, err := kv.Get(ctx, key)
		if err != nil {
			return false
		}
		return json.Unmarshal(e.Value(), v) == nil
	}
	var kvSOL events.SOLPrice
	waitFor(t, "sol.usd in KV", func() bool { return get(events.KeySOLUSD, &kvSOL) })
	if kvSOL.USD != "93.85943752" {
		t.Fatalf("kv sol %+v", kvSOL)
	}
	var kvTok events.TokenInfo
	if !get(events.KeyToken(goobergMint), &kvTok) || kvTok.Name != "Gooberg #2235" {
		t.Fatalf("kv token %+v", kvTok)
	}
	var wsol events.TokenInfo
	waitFor(t, "watched mint in KV", func() bool { return get(events.KeyToken(wsolMint), &wsol) })
	if wsol.PriceUSD != "100.17" || wsol.LiquidityUSD != "14247194.46" {
		t.Fatalf("kv wsol %+v", wsol)
	}
	// Each round refetches the watched mint's market data (TOKEN_MARKET_TTL is 30s, the period 200ms).
	waitFor(t, "market data refreshed every round", func() bool { return dex.hits.Load() >= 3 })
	if _, err := kv.Get(ctx, events.KeyToken("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("cancelled campaign's mint refreshed: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources(); len(got) != 3 || got[0] != "pyth" || cfg.DexScreenerURL != "https://api.dexscreener.com" {
		t.Fatalf("defaults %+v", cfg)
	}
	for name, vars := range map[string]map[string]string{
		"PRICE_SOURCES":           {"PRICE_SOURCES": "pyth,binance"},
		"COINGECKO_URL":           {"COINGECKO_URL": "ftp://x"},
		"PYTH_SOL_USD_FEED_ID":    {"PYTH_SOL_USD_FEED_ID": "abc"},
		"PYTH_SOL_USD_ACCOUNT":    {"PYTH_SOL_USD_ACCOUNT": "0OIl"},
		"PRICER_REFRESH_INTERVAL": {"PRICER_REFRESH_INTERVAL": "0s"},
		"DEXSCREENER_RPS":         {"DEXSCREENER_RPS": "-1"},
	} {
		_, err := LoadConfig(vars)
		if err == nil || !contains(err.Error(), name) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	cfg, _ = LoadConfig(map[string]string{"JUPITER_API_KEY": "s3cret"})
	if b, _ := json.Marshal(cfg); contains(string(b), "s3cret") {
		t.Fatal("secret printed")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
