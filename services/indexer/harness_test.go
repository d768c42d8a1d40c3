package indexer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// harness is one simulated chain, one embedded JetStream server, a stub campaign watch-list
// responder over real NATS, and indexers started with the production wiring (run).
type harness struct {
	t    testing.TB
	sim  *soltest.Server
	ns   *natstest.Server
	conn *bus.Conn
	cfg  Config
	log  *slog.Logger

	mu      sync.Mutex
	entries []events.WatchEntry
}

func testLogger() *slog.Logger {
	if os.Getenv("INDEXER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newHarness(t testing.TB, simCfg soltest.Config) *harness {
	t.Helper()
	if simCfg.SlotInterval == 0 {
		simCfg.SlotInterval = 10 * time.Millisecond
	}
	h := &harness{t: t, sim: soltest.NewServer(t, simCfg), ns: natstest.Run(t), log: testLogger()}
	ctx := h.ctx(10 * time.Second)
	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: h.ns.URL(), Name: "test"}, h.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	h.conn = conn
	svc, err := conn.NewService("campaign", "0.0.1", h.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop() })
	if err := bus.Handle(svc, "watchlist", events.SubjectCampaignWatch, func(context.Context, events.WatchListRequest) (events.WatchListReply, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return events.WatchListReply{Entries: append([]events.WatchEntry(nil), h.entries...)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		OpsAddr:      "127.0.0.1:0",
		SolanaRPCURL: h.sim.URL, SolanaWSURL: h.sim.WSURL,
		RPCRPS: 2000, RPCTimeout: 5 * time.Second, Commitment: "confirmed",
		SubsPerConn: 2, BackfillInterval: 3 * time.Second, PollInterval: 100 * time.Millisecond,
		StaleAfter: 400 * time.Millisecond, SubscribeTimeout: 400 * time.Millisecond,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		FinalityInterval: 50 * time.Millisecond, DropAfterSlots: 60, FetchWorkers: 8, MaxTxVersion: "0", NullRetries: 6,
		WatchListRetry: 50 * time.Millisecond,
	}
	h.cfg.NATSURL = h.ns.URL()
	h.cfg.NATSReplicas = 1
	h.cfg.ShutdownTimeout = 5 * time.Second
	return h
}

func (h *harness) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.t.Cleanup(cancel)
	return ctx
}

// campaign registers a campaign in the stub's watch list and returns its escrow (funded, so
// small payments do not trip the rent-exempt minimum) and reference.
func (h *harness) campaign(id string, escrow solana.PublicKey) (solana.PublicKey, solana.PublicKey) {
	if escrow.IsZero() {
		escrow = solana.NewWallet().PublicKey()
		h.sim.Airdrop(escrow, 1_000_000_000)
	}
	ref := solana.NewWallet().PublicKey()
	h.mu.Lock()
	h.entries = append(h.entries, events.WatchEntry{CampaignID: id, Escrow: escrow.String(), Reference: ref.String(), Status: events.StatusActive})
	h.mu.Unlock()
	return escrow, ref
}

// startIndexer runs an indexer with cfg until the returned stop is called (or the test ends).
func (h *harness) startIndexer(cfg Config) (stop func()) {
	stop, _ = h.startIndexerOps(cfg)
	return stop
}

// startIndexerOps also returns the indexer's ops address (for /metrics) once it is bound.
func (h *harness) startIndexerOps(cfg Config) (stop func(), ops func() string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	addr := make(chan string, 1)
	go func() { done <- run(ctx, cfg, h.log, func(a net.Addr) { addr <- a.String() }) }()
	var opsAddr string
	ops = func() string {
		if opsAddr == "" {
			select {
			case opsAddr = <-addr:
			case <-time.After(10 * time.Second):
				h.t.Fatal("ops server did not start")
			}
		}
		return opsAddr
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("indexer: %v", err)
				}
			case <-time.After(15 * time.Second):
				h.t.Error("indexer did not stop")
			}
		})
	}
	h.t.Cleanup(stop)
	return stop, ops
}

func (h *harness) payer() solana.PrivateKey {
	k := solana.NewWallet().PrivateKey
	h.sim.Airdrop(k.PublicKey(), 100_000_000_000)
	return k
}

func transferIx(from, to solana.PublicKey, lamports uint64, extra ...solana.PublicKey) solana.Instruction {
	d := make([]byte, 12)
	d[0] = 2
	binary.LittleEndian.PutUint64(d[4:], lamports)
	metas := solana.AccountMetaSlice{solana.Meta(from).WRITE().SIGNER(), solana.Meta(to).WRITE()}
	for _, e := range extra {
		metas = append(metas, solana.Meta(e)) // a Solana Pay reference: read-only, not a signer
	}
	return solana.NewInstruction(solana.SystemProgramID, metas, d)
}

func memoIx(text string) solana.Instruction {
	return solana.NewInstruction(solana.MemoProgramID, solana.AccountMetaSlice{}, []byte(text))
}

func computeBudgetIxs() []solana.Instruction {
	limit := make([]byte, 5)
	limit[0] = 2
	binary.LittleEndian.PutUint32(limit[1:], 200_000)
	price := make([]byte, 9)
	price[0] = 3
	binary.LittleEndian.PutUint64(price[1:], 1000)
	return []solana.Instruction{
		solana.NewInstruction(solana.ComputeBudget, solana.AccountMetaSlice{}, limit),
		solana.NewInstruction(solana.ComputeBudget, solana.AccountMetaSlice{}, price),
	}
}

func relayIx(from, to solana.PublicKey, lamports uint64) solana.Instruction {
	d := make([]byte, 9)
	binary.LittleEndian.PutUint64(d[1:], lamports)
	return solana.NewInstruction(soltest.RelayProgramID, solana.AccountMetaSlice{
		solana.Meta(from).WRITE().SIGNER(), solana.Meta(to).WRITE(), solana.Meta(solana.SystemProgramID)}, d)
}

// send signs and submits a transaction paid by payer; the caller's instructions run in order.
func (h *harness) send(payer solana.PrivateKey, ixs []solana.Instruction, opts ...solana.TransactionOption) solana.Signature {
	h.t.Helper()
	sig, err := h.sim.Submit(h.sign(payer, ixs, opts...))
	if err != nil {
		h.t.Fatal(err)
	}
	return sig
}

// sign builds and signs a transaction without submitting it.
func (h *harness) sign(payer solana.PrivateKey, ixs []solana.Instruction, opts ...solana.TransactionOption) *solana.Transaction {
	h.t.Helper()
	opts = append(opts, solana.TransactionPayer(payer.PublicKey()))
	tx, err := solana.NewTransaction(ixs, h.sim.LatestBlockhash(), opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := tx.Sign(func(pk solana.PublicKey) *solana.PrivateKey {
		if pk == payer.PublicKey() {
			return &payer
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return tx
}

// streamed reads every contribution event in the CONTRIBUTIONS stream (through an ordered
// consumer, in batches) and fails the test if a dedup id appears twice.
func (h *harness) streamed() []events.Contribution {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := h.conn.JS.Stream(ctx, events.StreamContributions)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []events.Contribution
	ids := map[string]bool{}
	for uint64(len(out)) < info.State.Msgs {
		batch, err := cons.FetchNoWait(1000)
		if err != nil {
			h.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var c events.Contribution
			if err := json.Unmarshal(m.Data(), &c); err != nil {
				h.t.Fatal(err)
			}
			id := m.Headers().Get(jetstream.MsgIDHeader)
			if id != c.MsgID() || ids[id] {
				h.t.Fatalf("message id %q (payload id %q) stored twice or inconsistent", id, c.MsgID())
			}
			ids[id] = true
			if m.Subject() != c.State.Subject() {
				h.t.Fatalf("event in state %s on subject %s", c.State, m.Subject())
			}
			out = append(out, c)
		}
		if n == 0 {
			if ctx.Err() != nil {
				h.t.Fatal("stream read timed out")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return out
}

type transferKey struct {
	sig, from, to, mint string
	amount              uint64
}

func (k transferKey) String() string {
	return fmt.Sprintf("%.8s… %.6s→%.6s %d %.6s", k.sig, k.from, k.to, k.amount, k.mint)
}

// truth returns the chain's transfers into escrows as sorted keys.
func (h *harness) truth(escrows ...solana.PublicKey) []transferKey {
	var out []transferKey
	for _, e := range escrows {
		for _, t := range h.sim.Transfers(e) {
			k := transferKey{sig: t.Signature.String(), from: t.From.String(), to: t.To.String(), amount: t.Amount}
			if !t.Mint.IsZero() {
				k.mint = t.Mint.String()
			}
			out = append(out, k)
		}
	}
	sortKeys(out)
	return out
}

func sortKeys(ks []transferKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.sig != b.sig {
			return a.sig < b.sig
		}
		if a.to != b.to {
			return a.to < b.to
		}
		if a.amount != b.amount {
			return a.amount < b.amount
		}
		if a.from != b.from {
			return a.from < b.from
		}
		return a.mint < b.mint
	})
}

// published returns the contributions in state as sorted transfer keys.
func published(cs []events.Contribution, state events.ContributionState) []transferKey {
	var out []transferKey
	for _, c := range cs {
		if c.State != state {
			continue
		}
		to := c.Escrow
		if c.Mint != "" {
			to = c.TokenAccount
		}
		out = append(out, transferKey{sig: c.Signature, from: c.Payer, to: to, amount: c.Amount, mint: c.Mint})
	}
	sortKeys(out)
	return out
}

// minus removes the keys of b from a (a confirmed transfer that was later dropped is not truth).
func minus(a, b []transferKey) []transferKey {
	drop := map[transferKey]int{}
	for _, k := range b {
		drop[k]++
	}
	var out []transferKey
	for _, k := range a {
		if drop[k] > 0 {
			drop[k]--
			continue
		}
		out = append(out, k)
	}
	return out
}

func equalKeys(a, b []transferKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitTruth waits until the confirmed contributions in the stream equal the chain's truth for
// escrows exactly, and, when final, until every one of them is also finalized. It returns the
// stream's events.
func (h *harness) waitTruth(final bool, escrows ...solana.PublicKey) []events.Contribution {
	h.t.Helper()
	return h.waitTruthWithin(30*time.Second, final, escrows...)
}

// waitTruthWithin is waitTruth with a deadline for large histories.
func (h *harness) waitTruthWithin(d time.Duration, final bool, escrows ...solana.PublicKey) []events.Contribution {
	h.t.Helper()
	deadline := time.Now().Add(d)
	var want, got, fin []transferKey
	for {
		readStart := time.Now()
		want = h.truth(escrows...)
		cs := h.streamed()
		readTook := time.Since(readStart)
		got = minus(published(cs, events.StateConfirmed), published(cs, events.StateDropped))
		fin = published(cs, events.StateFinalized)
		if equalKeys(want, got) && (!final || equalKeys(want, fin)) {
			return cs
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("stream does not match chain truth:\n want %d %v\n confirmed %d %v\n finalized %d", len(want), head(want), len(got), head(got), len(fin))
		}
		// Reading a large stream costs CPU the indexer needs; poll no more than half the time.
		time.Sleep(max(50*time.Millisecond, readTook))
	}
}

func head(ks []transferKey) []transferKey {
	if len(ks) > 6 {
		return ks[:6]
	}
	return ks
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
