package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// demoMint is USDC, whose real mint account is among the recorded fixtures the simulator serves.
const demoMint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"

// runDemo creates a campaign through the public API and then sends real signed transfers to its
// escrow through the simulator's JSON-RPC: most carry the campaign's Solana Pay reference, some do
// not, and one in twenty is meant to fail (the payer cannot cover it).
func runDemo(ctx context.Context, log *slog.Logger, sim *soltest.Server, api string, every time.Duration) error {
	// The services answer readiness before every NATS endpoint of the others is known to the
	// gateway, so creation is retried for a while.
	var id, escrow, reference string
	var err error
	for attempt := 1; ; attempt++ {
		id, escrow, reference, err = createDemoCampaign(ctx, api)
		if err == nil {
			break
		}
		if attempt == 30 || ctx.Err() != nil {
			log.Error("demo campaign not created; no demo traffic", "err", err)
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	log.Info("demo campaign created", "campaign_id", id, "escrow", escrow, "reference", reference)
	escrowKey := solana.MustPublicKeyFromBase58(escrow)
	refKey := solana.MustPublicKeyFromBase58(reference)

	client := rpc.New(sim.URL)
	payers := make([]solana.PrivateKey, 5)
	for i := range payers {
		payers[i] = solana.NewWallet().PrivateKey
		sim.Airdrop(payers[i].PublicKey(), 50*solana.LAMPORTS_PER_SOL)
	}
	poor := solana.NewWallet().PrivateKey
	sim.Airdrop(poor.PublicKey(), 10_000_000) // 0.01 SOL: its transfers of 1 SOL fail

	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		payer := payers[rand.IntN(len(payers))]
		amount := uint64(rand.IntN(40)+1) * 5_000_000 // 0.005 .. 0.2 SOL
		withRef := n%4 != 0
		if n%20 == 0 {
			payer, amount, withRef = poor, solana.LAMPORTS_PER_SOL, true
		}
		sig, err := sendTransfer(ctx, client, payer, escrowKey, amount, refKey, withRef)
		if err != nil {
			log.Warn("demo transfer not sent", "err", err)
			continue
		}
		log.Info("demo transfer sent", "signature", sig, "lamports", amount, "with_reference", withRef, "expect_failure", payer.PublicKey().Equals(poor.PublicKey()))
	}
}

func sendTransfer(ctx context.Context, client *rpc.Client, payer solana.PrivateKey, to solana.PublicKey, lamports uint64, ref solana.PublicKey, withRef bool) (solana.Signature, error) {
	bh, err := client.GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return solana.Signature{}, err
	}
	var ix solana.Instruction = system.NewTransferInstruction(lamports, payer.PublicKey(), to).Build()
	if withRef {
		// Solana Pay: the reference is an extra read-only, non-signer key on the transfer.
		accounts := append(ix.Accounts(), solana.Meta(ref))
		ix = solana.NewInstruction(ix.ProgramID(), accounts, mustData(ix))
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, bh.Value.Blockhash, solana.TransactionPayer(payer.PublicKey()))
	if err != nil {
		return solana.Signature{}, err
	}
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		if k.Equals(payer.PublicKey()) {
			return &payer
		}
		return nil
	}); err != nil {
		return solana.Signature{}, err
	}
	return client.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{SkipPreflight: true})
}

func mustData(ix solana.Instruction) []byte {
	d, err := ix.Data()
	if err != nil {
		panic(err) // a system transfer always encodes
	}
	return d
}

func createDemoCampaign(ctx context.Context, api string) (id, escrow, reference string, err error) {
	body, _ := json.Marshal(map[string]any{
		"contract_address": demoMint,
		"goal_amount":      json.Number("5"),
		"expires_at":       time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339),
		"description":      "Demo campaign on the local chain simulator",
		"social_website":   "https://example.com",
	})
	var created struct {
		Success    bool   `json:"success"`
		CampaignID string `json:"campaign_id"`
		Escrow     string `json:"escrow_address"`
		Error      any    `json:"error"`
	}
	err = postJSON(ctx, api+"/api/campaigns", body, &created)
	var he *httpError
	switch {
	case errors.As(err, &he) && he.status == http.StatusConflict:
		// A database kept from an earlier start (DATABASE_URL set) still holds the open demo
		// campaign: keep using it.
	case err != nil:
		return "", "", "", err
	case !created.Success:
		return "", "", "", fmt.Errorf("create campaign: %v", created.Error)
	}
	var detail struct {
		Campaign struct {
			ID        string `json:"id"`
			Escrow    string `json:"wallet_address"`
			Reference string `json:"reference"`
		} `json:"campaign"`
	}
	if err := getJSON(ctx, api+"/api/campaign-detail/"+demoMint, &detail); err != nil {
		return "", "", "", err
	}
	return detail.Campaign.ID, detail.Campaign.Escrow, detail.Campaign.Reference, nil
}

// httpError is an answer other than 2xx.
type httpError struct {
	method, path string
	status       int
	body         []byte
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

func postJSON(ctx context.Context, url string, body []byte, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(req, out)
}

func getJSON(ctx context.Context, url string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	return do(req, out)
}

func do(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return &httpError{method: req.Method, path: req.URL.Path, status: resp.StatusCode, body: b}
	}
	return json.Unmarshal(b, out)
}
