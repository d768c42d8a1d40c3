package e2e

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// payFlow sends a steady stream of real signed payments to one escrow, in process through the
// simulator's Submit (the path of sendTransaction with skipPreflight), so that faults injected
// into the simulator's RPC do not stop the money from moving. Three in four carry the campaign's
// reference, one in fifteen fails for lack of funds.
type payFlow struct {
	sim    *soltest.Server
	escrow solana.PublicKey
	ref    solana.PublicKey
	payers []solana.PrivateKey
	poor   solana.PrivateKey

	n    atomic.Int64 // payments submitted
	errs atomic.Int64
	tick chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func newPayFlow(sim *soltest.Server, escrow, ref solana.PublicKey) *payFlow {
	return &payFlow{
		sim: sim, escrow: escrow, ref: ref,
		payers: fundedPayers(sim, 5, 100*solana.LAMPORTS_PER_SOL),
		poor:   fundedPayers(sim, 1, 20_000_000)[0],
		tick:   make(chan struct{}, 1),
	}
}

// submit sends payment number i.
func (f *payFlow) submit(i int64) error {
	payer := f.payers[i%int64(len(f.payers))]
	lamports := uint64(1_000_000 + i*7) // distinct amounts keep every transaction distinct
	ref := &f.ref
	if i%4 == 3 {
		ref = nil
	}
	if i%15 == 14 {
		payer, lamports = f.poor, solana.LAMPORTS_PER_SOL+uint64(i)
	}
	_, err := f.sim.Submit(payment(f.sim.LatestBlockhash(), payer, f.escrow, lamports, ref))
	return err
}

// start sends a payment every interval until stop.
func (f *payFlow) start(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Lock()
	f.cancel, f.done = cancel, make(chan struct{})
	done := f.done
	f.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := f.submit(f.n.Load()); err != nil {
				f.errs.Add(1)
			}
			f.n.Add(1)
			select {
			case f.tick <- struct{}{}:
			default:
			}
		}
	}()
}

func (f *payFlow) stop() {
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// await blocks until k more payments have been submitted.
func (f *payFlow) await(t *testing.T, k int64) {
	t.Helper()
	target := f.n.Load() + k
	timeout := time.After(30 * time.Second)
	for f.n.Load() < target {
		select {
		case <-f.tick:
		case <-timeout:
			t.Fatalf("payments stalled at %d of %d", f.n.Load(), target)
		}
	}
}

// TestFaultsKeepLedgerEqualToChain injects, one after another while payments flow, every fault
// the backend must survive, and after each one waits until the ledger (escrow-transactions) and
// the campaign's totals (campaign-detail) equal the chain's truth exactly: every successful
// transfer counted once, no failed one.
func TestFaultsKeepLedgerEqualToChain(t *testing.T) {
	s := newStack(t, stackOptions{SlotInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := s.createCampaign(ctx, usdcMint, "100000", time.Now().Add(time.Hour), "")
	flow := newPayFlow(s.sim, s.wallet, solana.MustPublicKeyFromBase58(c.Reference))
	const every = 40 * time.Millisecond

	// Each fault lasts while `during` payments are made (one every 40ms); the silent socket and
	// the 429 storm outlast INDEXER_STALE_AFTER (2s) so the indexer must notice and recover.
	type fault struct {
		name   string
		during int64
		inject func()
		heal   func()
	}
	var faults []fault
	for _, svc := range []string{"indexer", "campaign", "pricer", "gateway"} {
		faults = append(faults, fault{"kill -9 " + svc, 40, func() { s.kill9(svc) }, func() { s.restart(svc) }})
	}
	faults = append(faults,
		fault{"NATS restart", 40, func() {
			if err := s.nats.Restart(); err != nil {
				t.Fatalf("restart nats: %v", err)
			}
		}, func() {}},
		fault{"database connections terminated", 40, func() {
			if n := s.terminateDB(ctx); n == 0 {
				t.Errorf("no database connection to terminate")
			}
		}, func() {}},
		fault{"Solana WebSockets dropped", 40, func() {
			if n := s.sim.Faults().DropConnections(); n == 0 {
				t.Errorf("no Solana WebSocket to drop")
			}
		}, func() {}},
		fault{"Solana WebSockets silent", 100, func() { s.sim.Faults().SetSilent(true) }, func() { s.sim.Faults().SetSilent(false) }},
		fault{"429 storm", 100, func() { s.sim.Faults().SetRateLimit(3, soltest.RateLimitHTTP) }, func() { s.sim.Faults().Reset() }},
		fault{"429 storm as JSON-RPC errors", 100, func() { s.sim.Faults().SetRateLimit(3, soltest.RateLimitJSONRPC) }, func() { s.sim.Faults().Reset() }},
	)

	for _, f := range faults {
		start := time.Now()
		flow.start(every)
		flow.await(t, 10)
		f.inject()
		flow.await(t, f.during) // payments made while the fault lasts
		f.heal()
		flow.await(t, 10)
		flow.stop()
		l := s.waitLedger(s.wallet, 90*time.Second)
		s.waitCampaignTotals(c.ID, 30*time.Second)
		t.Logf("%s: ledger == chain (%d transfers, %d lamports) %.1fs after the fault began",
			f.name, l.Count, l.Total, time.Since(start).Seconds())
		s.checkAlive()
	}
	if flow.errs.Load() > 0 {
		t.Errorf("%d payments could not be submitted", flow.errs.Load())
	}

	// After all of it, every payment settles: the ledger holds only finalized entries and the
	// campaign's settled figure is the chain's total.
	eventually(t, 60*time.Second, "every ledger entry finalized", func(ctx context.Context) error {
		l, err := s.escrowLedger(ctx, s.wallet.String())
		if err != nil {
			return err
		}
		tr := chainTruth(s.sim, s.wallet)
		if d := compareLedger(l, tr); d != "" {
			return fmt.Errorf("ledger: %s", d)
		}
		for _, e := range l.Entries {
			if e.State != "finalized" {
				return fmt.Errorf("%s is %s", e.Signature, e.State)
			}
		}
		c, err := s.campaignByID(ctx, c.ID)
		if err != nil {
			return err
		}
		if !tr.Final || c.SettledLamports != strconv.FormatUint(tr.Total, 10) || c.PendingLamports != "0" {
			return fmt.Errorf("campaign settled %s pending %s; chain %d (all final: %v)", c.SettledLamports, c.PendingLamports, tr.Total, tr.Final)
		}
		return nil
	})
}

// waitCampaignTotals polls until the campaign's exact totals equal the chain's truth for its
// escrow (which only this campaign uses, so every inflow is attributed to it).
func (s *stack) waitCampaignTotals(id string, within time.Duration) {
	s.t.Helper()
	eventually(s.t, within, "campaign totals equal the chain", func(ctx context.Context) error {
		c, err := s.campaignByID(ctx, id)
		if err != nil {
			return err
		}
		tr := chainTruth(s.sim, s.wallet)
		if c.CurrentBalanceLamports != strconv.FormatUint(tr.Total, 10) || c.ContributionCount != int64(tr.Count) {
			return fmt.Errorf("campaign %s lamports, %d contributions; chain %d lamports, %d transfers",
				c.CurrentBalanceLamports, c.ContributionCount, tr.Total, tr.Count)
		}
		return nil
	})
}

// TestColdStartWithTwoThousandPaymentsOnChain stops every service, lets 2,000 payments land on
// chain meanwhile, starts them again and waits until every one is credited exactly once.
func TestColdStartWithTwoThousandPaymentsOnChain(t *testing.T) {
	s := newStack(t, stackOptions{SlotInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := s.createCampaign(ctx, usdcMint, "100000", time.Now().Add(time.Hour), "")
	s.stopAll()

	flow := newPayFlow(s.sim, s.wallet, solana.MustPublicKeyFromBase58(c.Reference))
	flow.payers = fundedPayers(s.sim, 20, 10*solana.LAMPORTS_PER_SOL)
	const total = 2000
	for i := int64(0); i < total; i++ {
		if err := flow.submit(i); err != nil {
			t.Fatalf("payment %d: %v", i, err)
		}
	}
	tr := chainTruth(s.sim, s.wallet)
	if tr.Count != total-total/15 {
		t.Fatalf("chain has %d successful transfers, want %d", tr.Count, total-total/15)
	}

	start := time.Now()
	s.startAll()
	l := s.waitLedger(s.wallet, 150*time.Second)
	took := time.Since(start)
	s.waitCampaignTotals(c.ID, 30*time.Second)
	t.Logf("cold start: %d transfers (%d lamports) credited %.1fs after the services started", l.Count, l.Total, took.Seconds())
}
