package indexer

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// health asks the indexer for chain health; before the indexer answers it returns the zero reply.
func (h *harness) health() events.ChainHealthReply {
	r, _ := bus.Request[events.ChainHealthReply](h.ctx(2*time.Second), h.conn, events.SubjectIndexerHealth, events.ChainHealthRequest{})
	return r
}

// stats asks the indexer for its counters; before the indexer answers it returns the zero reply.
func (h *harness) stats() events.IndexerStatsReply {
	r, _ := bus.Request[events.IndexerStatsReply](h.ctx(2*time.Second), h.conn, events.SubjectIndexerStats, events.IndexerStatsRequest{})
	return r
}

// metric reads one sample from the indexer's /metrics (0 when absent).
func metric(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if name, val, ok := strings.Cut(sc.Text(), " "); ok && name == series {
			f, _ := strconv.ParseFloat(val, 64)
			return f
		}
	}
	return 0
}

func (h *harness) checkpoint(escrow solana.PublicKey) events.Checkpoint {
	kv, err := h.conn.KV(h.ctx(2*time.Second), events.BucketIndexer)
	if err != nil {
		h.t.Fatal(err)
	}
	e, err := kv.Get(h.ctx(2*time.Second), events.KeyCheckpoint(escrow.String()))
	if err != nil {
		return events.Checkpoint{}
	}
	var cp events.Checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		h.t.Fatal(err)
	}
	return cp
}

func TestDroppedAndSilentSocketsWhilePaymentsLand(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	a, _ := h.campaign("a", solana.PublicKey{})
	b, _ := h.campaign("b", solana.PublicKey{})
	c, _ := h.campaign("c", solana.PublicKey{}) // SubsPerConn 2: two connections
	h.startIndexer(h.cfg)
	h.waitLive(3)
	payer := h.payer()
	sent := 0
	pay := func(n int) {
		for range n {
			// A distinct amount per payment: the same transfer signed with the same blockhash
			// would be the same transaction, which the chain rejects as already processed.
			to := []solana.PublicKey{a, b, c}[sent%3]
			h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), to, uint64(1_000_000+sent))})
			sent++
		}
	}
	pay(3)
	if n := h.sim.Faults().DropConnections(); n < 2 {
		t.Fatalf("dropped %d connections, want >= 2", n)
	}
	pay(6) // lands while the sockets reconnect
	h.waitTruth(false, a, b, c)

	h.sim.Faults().SetSilent(true)
	pay(6) // notifications for these are lost for good
	waitFor(t, "health degraded while silent", 10*time.Second, func() bool { return h.health().Degraded })
	h.waitTruth(false, a, b, c) // found by polling while degraded
	h.sim.Faults().SetSilent(false)
	h.waitLive(3)
	pay(3)
	h.waitTruth(true, a, b, c)
}

func TestSubscribeRefusedFallsBackToPolling(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	h.sim.Faults().SetSubscribeDisabled(true)
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	payer := h.payer()
	h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 1_000_000)})
	h.waitTruth(true, a)
	if r := h.health(); !r.Degraded || r.Subscriptions != 0 {
		t.Fatalf("health while subscriptions are refused: %+v", r)
	}
	h.sim.Faults().SetSubscribeDisabled(false)
	h.waitLive(1)
	h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 2_000_000)})
	h.waitTruth(true, a)
}

func TestSkippedNotificationsFoundByBackfillWithOneFetchEach(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	h.cfg.BackfillInterval = 300 * time.Millisecond
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.waitLive(1)
	payer := h.payer()
	const n = 8
	for i := range n {
		tx := h.sign(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, uint64(1_000_000+i))})
		if i%2 == 0 {
			h.sim.Faults().SkipNotifications(tx.Signatures[0])
		}
		if _, err := h.sim.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	h.waitTruth(true, a)
	// One getTransaction per payment (plus the escrow's funding airdrop found by the first
	// backfill), no matter how often backfill lists them again.
	if got := h.sim.Calls()["getTransaction"]; got > n+1 {
		t.Fatalf("getTransaction called %d times for %d payments", got, n)
	}
}

func TestBackfillOf2500PaymentsThrough429Storms(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	a, _ := h.campaign("a", solana.PublicKey{})
	payer := h.payer()
	const n = 2500
	t0 := time.Now()
	defer func() { t.Logf("total %v", time.Since(t0)) }()
	for i := range n {
		h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, uint64(1_000+i))})
	}
	t.Logf("created %d payments in %v", n, time.Since(t0))
	// First storm: HTTP 429 with Retry-After beyond 400 requests a second.
	h.sim.Faults().SetRateLimit(400, soltest.RateLimitHTTP)
	cfg := h.cfg
	cfg.RPCRPS = 1000
	_, ops := h.startIndexerOps(cfg)
	waitFor(t, "half the history fetched", 120*time.Second, func() bool { return h.stats().Published >= n/2 })
	// Second storm: every fifth request answered 200 with JSON-RPC error 429.
	h.sim.Faults().SetRateLimit(0, soltest.RateLimitHTTP)
	h.sim.Faults().SetRateLimitEvery(5, soltest.RateLimitJSONRPC)
	t.Logf("half at %v", time.Since(t0))
	h.waitTruthWithin(120*time.Second, false, a)
	t.Logf("confirmed at %v", time.Since(t0))
	h.sim.Faults().Reset()
	h.waitTruthWithin(60*time.Second, true, a)
	t.Logf("finalized at %v", time.Since(t0))

	addr := ops()
	if v := metric(t, addr, `indexer_rpc_calls_total{method="getTransaction",outcome="rate_limited"}`); v == 0 {
		t.Error("no rate-limited getTransaction attempts recorded")
	}
	// At most one successful getTransaction per payment (plus the escrow's funding).
	if v := metric(t, addr, `indexer_rpc_calls_total{method="getTransaction",outcome="ok"}`); v > n+1 {
		t.Errorf("%v successful getTransaction calls for %d payments", v, n)
	}
	waitFor(t, "checkpoint at the newest payment", 20*time.Second, func() bool {
		tr := h.sim.Transfers(a)
		return h.checkpoint(a).Signature == tr[len(tr)-1].Signature.String()
	})
}

func TestLaggingHistoryNodeNeverMovesCheckpointBack(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	h.cfg.BackfillInterval = 200 * time.Millisecond
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.waitLive(1)
	payer := h.payer()
	for i := range 3 {
		h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, uint64(1_000_000+i))})
	}
	h.waitTruth(true, a)
	tr := h.sim.Transfers(a)
	last := tr[len(tr)-1].Signature.String()
	waitFor(t, "checkpoint at the newest payment", 10*time.Second, func() bool { return h.checkpoint(a).Signature == last })
	cp := h.checkpoint(a)

	h.sim.Faults().SetHistoryLag(100_000) // the history node knows nothing newer than genesis-ish
	var skipped []solana.Signature
	for i := range 2 {
		tx := h.sign(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, uint64(2_000_000+i))})
		h.sim.Faults().SkipNotifications(tx.Signatures[0])
		sig, err := h.sim.Submit(tx)
		if err != nil {
			t.Fatal(err)
		}
		skipped = append(skipped, sig)
	}
	calls := h.sim.Calls()["getSignaturesForAddress"]
	waitFor(t, "backfills against the lagging node", 10*time.Second, func() bool {
		return h.sim.Calls()["getSignaturesForAddress"] >= calls+3
	})
	if got := h.checkpoint(a); got != cp {
		t.Fatalf("checkpoint moved with a lagging node: %+v → %+v", cp, got)
	}
	h.sim.Faults().SetHistoryLag(0)
	cs := h.waitTruth(true, a)
	for _, s := range skipped {
		if len(bySig(cs, s, events.StateConfirmed)) != 1 {
			t.Fatalf("skipped payment %s not found after the node caught up", s)
		}
	}
}

func TestForkedAwayTransactionIsDropped(t *testing.T) {
	h := newHarness(t, soltest.Config{SlotInterval: 40 * time.Millisecond})
	h.cfg.DropAfterSlots = 40
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.waitLive(1)
	payer := h.payer()
	keep := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 1_000_000)})
	gone := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 2_000_000)})
	waitFor(t, "the doomed payment confirmed in the stream", 10*time.Second, func() bool {
		return len(bySig(h.streamed(), gone, events.StateConfirmed)) == 1
	})
	if err := h.sim.Faults().ForkDrop(gone); err != nil {
		t.Fatalf("fork drop: %v", err)
	}
	waitFor(t, "dropped event", 20*time.Second, func() bool {
		return len(bySig(h.streamed(), gone, events.StateDropped)) == 1
	})
	cs := h.waitTruth(true, a)
	if len(bySig(cs, gone, events.StateFinalized)) != 0 || len(bySig(cs, keep, events.StateFinalized)) != 1 {
		t.Fatal("finality of the kept/dropped payments is wrong")
	}
}

func TestIndexerRestartedMidStream(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	a, _ := h.campaign("a", solana.PublicKey{})
	b, _ := h.campaign("b", solana.PublicKey{})
	stop := h.startIndexer(h.cfg)
	h.waitLive(2)
	payer := h.payer()
	pay := func(n, base int) {
		for i := range n {
			to := []solana.PublicKey{a, b}[i%2]
			h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), to, uint64(base+i))})
		}
	}
	pay(6, 1_000_000)
	waitFor(t, "some events published", 10*time.Second, func() bool { return len(h.streamed()) >= 3 })
	stop() // mid-stream: some confirmed, some not yet finalized, some not yet seen
	pay(6, 2_000_000)
	h.startIndexer(h.cfg)
	pay(4, 3_000_000)
	h.waitTruth(true, a, b)
}

func TestTwoIndexersPublishEachEventOnce(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	a, _ := h.campaign("a", solana.PublicKey{})
	b, _ := h.campaign("b", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.startIndexer(h.cfg)
	payer := h.payer()
	for i := range 10 {
		to := []solana.PublicKey{a, b}[i%2]
		h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), to, uint64(1_000_000+i))})
	}
	cs := h.waitTruth(true, a, b)
	// waitTruth compared multisets and streamed() rejected repeated ids: nothing is doubled.
	if len(cs) != 2*len(h.truth(a, b)) {
		t.Fatalf("%d events for %d transfers", len(cs), len(h.truth(a, b)))
	}
}

func TestWatchListFollowsCampaignEvents(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	// The watch list starts empty; campaigns arrive as CAMPAIGNS events.
	h.startIndexer(h.cfg)

	escrow := solana.NewWallet().PublicKey()
	h.sim.Airdrop(escrow, 1_000_000_000)
	ev := events.CampaignEvent{Version: events.Version, Type: events.CampaignCreated, At: time.Now(),
		Campaign: events.Campaign{ID: "new", WalletAddress: escrow.String(), Reference: solana.NewWallet().PublicKey().String(), Status: events.StatusActive, Revision: 1}}
	waitFor(t, "indexer follows CAMPAIGNS", 10*time.Second, func() bool {
		ev.Campaign.Revision++ // a new fact each time: the indexer may not have been following yet
		if _, err := h.conn.PublishJSON(h.ctx(2*time.Second), ev.Subject(), ev.MsgID(), ev); err != nil {
			t.Fatal(err)
		}
		return h.stats().Escrows == 1
	})
	h.waitLive(1)
	payer := h.payer()
	sig := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), escrow, 1_000_000)})
	cs := h.waitTruth(true, escrow)
	if got := bySig(cs, sig, events.StateConfirmed); len(got) != 1 || got[0].CampaignID != "new" {
		t.Fatalf("contribution = %+v", got)
	}
	// Cancelled: the escrow is no longer watched.
	ev.Type, ev.Campaign.Status = events.CampaignStatusChanged, events.StatusCancelled
	ev.Campaign.Revision++
	if _, err := h.conn.PublishJSON(h.ctx(2*time.Second), ev.Subject(), ev.MsgID(), ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "escrow removed", 10*time.Second, func() bool { return h.stats().Escrows == 0 })
}

func TestWatchListRetriedUntilCampaignAnswers(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	// A second responder group that refuses: requests go to one member of the queue group at
	// random, so the indexer must retry until the real stub answers.
	svc, err := h.conn.NewService("campaign", "0.0.1", h.log)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	a, _ := h.campaign("a", solana.PublicKey{})
	if err := bus.Handle(svc, "watchlist", events.SubjectCampaignWatch, func(context.Context, events.WatchListRequest) (events.WatchListReply, error) {
		return events.WatchListReply{}, apperr.Unavailablef("database down")
	}); err != nil {
		t.Fatal(err)
	}
	h.startIndexer(h.cfg)
	h.waitLive(1)
	payer := h.payer()
	h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 1_000_000)})
	h.waitTruth(true, a)
}

func TestUndecodableTransactionIsParkedOnce(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	h.cfg.MaxTxVersion = "legacy" // the node refuses v0 transactions with -32015
	h.cfg.BackfillInterval = 200 * time.Millisecond
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.waitLive(1)
	payer := h.payer()
	table := h.sim.CreateLookupTable([]solana.PublicKey{solana.SystemProgramID, a})
	v0 := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 1_000_000)},
		solana.TransactionAddressTables(map[solana.PublicKey]solana.PublicKeySlice{table: {solana.SystemProgramID, a}}))
	legacy := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, 2_000_000)})

	waitFor(t, "parked", 10*time.Second, func() bool { return h.stats().Parked == 1 })
	waitFor(t, "legacy payment published", 10*time.Second, func() bool {
		return len(bySig(h.streamed(), legacy, events.StateFinalized)) == 1
	})
	kv, err := h.conn.KV(h.ctx(2*time.Second), events.BucketIndexer)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(h.ctx(2*time.Second), "parked."+v0.String())
	if err != nil {
		t.Fatalf("parked entry: %v", err)
	}
	var p ParkedTx
	if err := json.Unmarshal(e.Value(), &p); err != nil || p.Signature != v0.String() || !strings.Contains(p.Reason, "-32015") {
		t.Fatalf("parked entry = %+v, %v", p, err)
	}
	// Later backfills list it again but never fetch it again.
	calls := h.sim.Calls()
	waitFor(t, "more backfills", 10*time.Second, func() bool {
		return h.sim.Calls()["getSignaturesForAddress"] >= calls["getSignaturesForAddress"]+3
	})
	if got := h.sim.Calls()["getTransaction"]; got != calls["getTransaction"] {
		t.Fatalf("parked transaction fetched again: %d → %d getTransaction calls", calls["getTransaction"], got)
	}
	if len(bySig(h.streamed(), v0, events.StateConfirmed)) != 0 {
		t.Fatal("parked transaction published")
	}
}
