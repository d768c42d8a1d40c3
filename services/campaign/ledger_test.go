package campaign

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"github.com/solcrowd/backend/services/campaign/postgres"
)

// transfer is one payment of a generated history and the states the chain reported for it.
type transfer struct {
	c      events.Contribution
	states []events.ContributionState // confirmed, then maybe finalized or dropped
}

// totals is what one clean pass over a history must produce for a campaign.
type totals struct {
	raised, settled, pending uint64
	contributions            int64
	payers                   map[string]campaigns.PayerTotal
}

// history generates n transfers into the given campaigns from a small pool of payers, several of
// them in one transaction (same signature, several transfer indexes) and some SPL.
func history(r *rand.Rand, cs []events.Campaign, n int) []transfer {
	payers := []string{addr(), addr(), addr(), addr()}
	splMint := addr()
	var out []transfer
	for len(out) < n {
		sig := fmt.Sprintf("sig%08d", r.IntN(1e8))
		parts := 1 + r.IntN(3)
		for idx := 0; idx < parts && len(out) < n; idx++ {
			camp := cs[r.IntN(len(cs))]
			c := events.Contribution{Version: 1, State: events.StateConfirmed, Signature: sig, TransferIndex: idx * 2,
				Escrow: camp.WalletAddress, Payer: payers[r.IntN(len(payers))], Amount: 1 + r.Uint64N(5_000_000_000),
				Decimals: 9, Reference: camp.Reference, CampaignID: camp.ID, Slot: uint64(1000 + len(out)),
				BlockTime: time.Now().Unix(), Observed: time.Now().UTC()}
			if r.IntN(8) == 0 {
				c.Mint, c.Decimals = splMint, 6
			}
			st := []events.ContributionState{events.StateConfirmed}
			switch x := r.IntN(20); {
			case x < 12:
				st = append(st, events.StateFinalized)
			case x < 17:
				st = append(st, events.StateDropped)
			}
			out = append(out, transfer{c: c, states: st})
		}
	}
	return out
}

// clean computes the expected totals per campaign by one in-order pass over the history.
func clean(h []transfer) map[string]*totals {
	out := map[string]*totals{}
	for _, tr := range h {
		final := tr.states[len(tr.states)-1]
		t := out[tr.c.CampaignID]
		if t == nil {
			t = &totals{payers: map[string]campaigns.PayerTotal{}}
			out[tr.c.CampaignID] = t
		}
		if final == events.StateDropped {
			continue
		}
		sol := uint64(0)
		if tr.c.Mint == "" {
			sol = tr.c.Amount
		}
		t.raised += sol
		if final == events.StateFinalized {
			t.settled += sol
		} else {
			t.pending += sol
		}
		t.contributions++
		p := t.payers[tr.c.Payer]
		p.Lamports += sol
		p.Transfers++
		t.payers[tr.c.Payer] = p
	}
	return out
}

// checkTotals compares the store with the clean pass.
func checkTotals(t *testing.T, s *postgres.Store, cs []events.Campaign, want map[string]*totals) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cs {
		w := want[c.ID]
		if w == nil {
			w = &totals{payers: map[string]campaigns.PayerTotal{}}
		}
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RaisedLamports != w.raised || got.SettledLamports != w.settled || got.PendingLamports != w.pending ||
			got.ContributionCount != w.contributions || got.ContributorCount != int64(len(w.payers)) {
			t.Fatalf("campaign %s: raised=%d settled=%d pending=%d contributions=%d contributors=%d; clean pass: %d %d %d %d %d",
				c.ID, got.RaisedLamports, got.SettledLamports, got.PendingLamports, got.ContributionCount, got.ContributorCount,
				w.raised, w.settled, w.pending, w.contributions, len(w.payers))
		}
		payers, err := s.Contributors(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(payers) != len(w.payers) {
			t.Fatalf("campaign %s: %d payers, want %d", c.ID, len(payers), len(w.payers))
		}
		for p, pt := range w.payers {
			if payers[p] != pt {
				t.Fatalf("campaign %s payer %s: %+v, want %+v", c.ID, p, payers[p], pt)
			}
		}
	}
}

func createCampaigns(t *testing.T, s *postgres.Store, n int) []events.Campaign {
	t.Helper()
	return createCampaignsIn(t, s, n)
}

func createCampaignsTB(t testing.TB, h *harness, n int) []events.Campaign {
	t.Helper()
	return createCampaignsIn(t, h.store, n)
}

func createCampaignsIn(t testing.TB, s *postgres.Store, n int) []events.Campaign {
	t.Helper()
	var out []events.Campaign
	for range n {
		mint := addr()
		c, _, err := s.Create(context.Background(), campaigns.NewCampaign{
			ID: newUUID(), Reference: addr(), Mint: mint, Escrow: addr(), Name: "T", Symbol: "T",
			Goal: 1 << 62, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond), Token: events.TokenInfo{Version: 1, Mint: mint},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestReplayEqualsCleanPass feeds a random history through JetStream as a random mix of
// duplicates (past the dedup window: new message ids), reorderings (finalized or dropped before
// confirmed), a consumer killed after its commit but before its ack, redeliveries after the ack
// wait, several transfers in one transaction and batches with one payer several times. The
// ledger must end exactly where one clean pass ends.
func TestReplayEqualsCleanPass(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, seed*7919))
			h := newHarness(t)
			cs := createCampaigns(t, h.store, 3)
			hist := history(r, cs, 60)
			want := clean(hist)

			type delivery struct {
				c     events.Contribution
				msgID string
			}
			var ds []delivery
			for _, tr := range hist {
				for _, st := range tr.states {
					c := tr.c
					c.State = st
					copies := 1 + r.IntN(3)
					for k := range copies {
						id := c.MsgID()
						if k > 0 {
							id = fmt.Sprintf("%s:replay%d", id, k) // a replay beyond the dedup window
						}
						ds = append(ds, delivery{c, id})
					}
				}
			}
			r.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
			for _, d := range ds {
				h.publishContribution(d.c, d.msgID)
			}

			m := newMetrics(newTestRegistry())
			lc := LedgerConfig{Durable: "campaign-ledger", Batch: 8, AckWait: time.Second, MaxDeliver: 20}
			// Replica A commits two batches and "crashes" before acking the second.
			a := newLedger(h.store, h.conn, quiet(), m, lc, func() {})
			batches := 0
			a.afterCommit = func() bool { batches++; return batches < 2 }
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := a.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if batches != 2 {
				t.Fatalf("replica A ran %d batches", batches)
			}
			// Replica B takes over; A's unacked batch comes back after the ack wait.
			bctx, bcancel := context.WithCancel(ctx)
			b := newLedger(h.store, h.conn, quiet(), m, lc, func() {})
			done := make(chan error, 1)
			go func() { done <- b.Run(bctx) }()
			waitFor(t, 20*time.Second, func() (bool, string) { return h.consumerDrained(lc.Durable) })
			bcancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			checkTotals(t, h.store, cs, want)
			// A full replay of the history much later (new message ids) changes nothing.
			for _, d := range ds[:len(ds)/2] {
				h.publishContribution(d.c, d.msgID+":late-replay")
			}
			cctx, ccancel := context.WithCancel(ctx)
			c := newLedger(h.store, h.conn, quiet(), m, lc, func() {})
			go func() { done <- c.Run(cctx) }()
			waitFor(t, 20*time.Second, func() (bool, string) { return h.consumerDrained(lc.Durable) })
			ccancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			checkTotals(t, h.store, cs, want)
			if got := counter(t, m, "applied") + counter(t, m, "duplicate"); got < float64(len(ds)) {
				t.Fatalf("counted %v outcomes for %d deliveries", got, len(ds))
			}
			if p := counter(t, m, "poison"); p != 0 {
				t.Fatalf("%v poison messages in a valid history", p)
			}
		})
	}
}

// TestPoisonIsTerminatedAndCounted: undecodable, unknown-version and invalid events are
// terminated (not redelivered) and counted; the valid event beside them still applies.
func TestPoisonIsTerminatedAndCounted(t *testing.T) {
	h := newHarness(t)
	cs := createCampaigns(t, h.store, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, body := range []string{`{not json`, `{"version":99,"state":"confirmed"}`} {
		if _, err := h.conn.JS.Publish(ctx, events.SubjectContributionConfirmed, []byte(body), jetstream.WithMsgID(fmt.Sprint("bad", i))); err != nil {
			t.Fatal(err)
		}
	}
	good := events.Contribution{Version: 1, State: events.StateConfirmed, Signature: "g", Escrow: cs[0].WalletAddress,
		Payer: addr(), Amount: 5, Decimals: 9, CampaignID: cs[0].ID}
	zero := good
	zero.Signature, zero.Amount = "z", 0
	h.publishContribution(zero, "")
	h.publishContribution(good, "")
	m := newMetrics(newTestRegistry())
	lc := LedgerConfig{Durable: "campaign-ledger", Batch: 8, AckWait: time.Second, MaxDeliver: 3}
	l := newLedger(h.store, h.conn, quiet(), m, lc, func() {})
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(lctx) }()
	// Wait for the outcome (the consumer may report nothing pending before it has fetched).
	waitFor(t, 10*time.Second, func() (bool, string) {
		got, _ := h.store.Get(ctx, cs[0].ID)
		if p := counter(t, m, "poison"); p != 3 || got.RaisedLamports != 5 {
			return false, fmt.Sprintf("poison counted %v (want 3), raised %d (want 5)", p, got.RaisedLamports)
		}
		return h.consumerDrained(lc.Durable)
	})
	lcancel()
	<-done
	// Terminated messages are not redelivered: the count stays at 3.
	if p := counter(t, m, "poison"); p != 3 {
		t.Fatalf("poison counted %v after drain, want 3", p)
	}
}

// TestTwoReplicasExactTotals runs two full service replicas (Run) on one database and one
// durable consumer while a history is published: the totals are exact.
func TestTwoReplicasExactTotals(t *testing.T) {
	h := newHarness(t)
	cs := createCampaigns(t, h.store, 2)
	h.run()
	h.run()
	r := rand.New(rand.NewPCG(42, 43))
	hist := history(r, cs, 150)
	want := clean(hist)
	var all []events.Contribution
	for _, tr := range hist {
		for _, st := range tr.states {
			c := tr.c
			c.State = st
			all = append(all, c)
		}
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i, c := range all {
		h.publishContribution(c, "")
		if i%3 == 0 { // and a replay of every third event
			h.publishContribution(c, c.MsgID()+":again")
		}
	}
	waitFor(t, 30*time.Second, func() (bool, string) { return h.consumerDrained(h.cfg.LedgerDurable) })
	checkTotals(t, h.store, cs, want)
	// Every progress snapshot the replicas published has a distinct revision per campaign.
	waitFor(t, 10*time.Second, func() (bool, string) {
		n, _, err := h.store.OutboxBacklog(context.Background(), time.Now())
		return err == nil && n == 0, "outbox not empty"
	})
	seen := map[string]bool{}
	for _, ev := range h.campaignEvents() {
		if seen[ev.MsgID()] {
			t.Fatalf("event %s published twice", ev.MsgID())
		}
		seen[ev.MsgID()] = true
	}
}
