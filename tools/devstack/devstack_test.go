package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/pgtest"
)

// syncBuffer is an io.Writer safe for the services' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestSimulatorModeRunsTheDemo is `make run` in simulator mode on free ports: every service
// becomes ready, the banner names the API, the demo campaign is created, and the ledger of the
// demo escrow matches what the chain says landed there (failed demo payments excluded). Then the
// whole stack stops cleanly when its context ends.
func TestSimulatorModeRunsTheDemo(t *testing.T) {
	api := freeAddr(t)
	sim := freeAddr(t)
	_, natsPort, _ := net.SplitHostPort(freeAddr(t))
	env := []string{
		"DATA_DIR=" + t.TempDir(),
		"DEVSTACK_NATS_PORT=" + natsPort,
		"DEVSTACK_SIM_ADDR=" + sim,
		"DEVSTACK_DEMO_INTERVAL=150ms",
		"HTTP_ADDR=" + api,
		"CAMPAIGN_OPS_ADDR=" + freeAddr(t),
		"INDEXER_OPS_ADDR=" + freeAddr(t),
		"PRICER_OPS_ADDR=" + freeAddr(t),
		"GATEWAY_OPS_ADDR=" + freeAddr(t),
		"DATABASE_URL=" + pgtest.NewDatabase(t, ""),
		"LOG_LEVEL=warn",
		"INDEXER_FINALITY_INTERVAL=200ms",
	}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, env, &out) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("devstack output:\n%s", out.String())
		}
	})

	escrow := demoKey("escrow").PublicKey()
	chain := rpc.New("http://" + sim)
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for {
		select {
		case err := <-done:
			t.Fatalf("devstack stopped early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo ledger never matched the chain: %s", last)
		}
		last = demoMatches(ctx, chain, "http://"+api, escrow.String())
		if last == "" {
			break
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
	banner := out.String()
	for _, want := range []string{"solcrowd backend is running", "SIMULATOR", "http://" + api + "/api", "ws://" + api + "/ws", escrow.String(), tryMint.String()} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devstack stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("devstack did not stop within 60s of its context ending")
	}
}

// chainPayments lists the demo escrow's successful and failed payments as the chain reports them.
func chainPayments(ctx context.Context, chain *rpc.Client) (ok, failed map[string]bool, err error) {
	sigs, err := chain.GetSignaturesForAddressWithOpts(ctx, demoKey("escrow").PublicKey(), &rpc.GetSignaturesForAddressOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, nil, err
	}
	ok, failed = map[string]bool{}, map[string]bool{}
	for _, s := range sigs {
		if s.Err != nil {
			failed[s.Signature.String()] = true
		} else {
			ok[s.Signature.String()] = true
		}
	}
	return ok, failed, nil
}

// demoMatches returns "" once the chain holds at least one failed and several successful demo
// payments and the API's ledger of the escrow is exact: it lists every payment that had succeeded
// before it was read, each once, and nothing that is not a successful payment on chain. (The demo
// keeps paying, so the chain is read before and after the ledger.)
func demoMatches(ctx context.Context, chain *rpc.Client, api, escrow string) string {
	before, failed, err := chainPayments(ctx, chain)
	if err != nil {
		return err.Error()
	}
	if len(failed) == 0 || len(before) < 5 {
		return fmt.Sprintf("chain has %d successful and %d failed demo payments so far", len(before), len(failed))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/escrow-transactions/"+escrow, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var page struct {
		TransactionCount int64 `json:"transactionCount"`
		Transactions     []struct {
			Signature string `json:"signature"`
		} `json:"transactions"`
	}
	if resp.StatusCode != http.StatusOK {
		return "escrow-transactions: HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return err.Error()
	}
	after, failed, err := chainPayments(ctx, chain)
	if err != nil {
		return err.Error()
	}
	listed := map[string]bool{}
	for _, tx := range page.Transactions {
		switch {
		case listed[tx.Signature]:
			return "ledger lists " + tx.Signature + " twice"
		case failed[tx.Signature]:
			return "ledger lists failed payment " + tx.Signature
		case !after[tx.Signature]:
			return "ledger lists " + tx.Signature + ", not a successful payment on chain"
		}
		listed[tx.Signature] = true
	}
	if page.TransactionCount != int64(len(listed)) {
		return fmt.Sprintf("transactionCount %d, %d entries listed", page.TransactionCount, len(listed))
	}
	for sig := range before {
		if !listed[sig] {
			return "ledger lacks " + sig
		}
	}
	return ""
}
