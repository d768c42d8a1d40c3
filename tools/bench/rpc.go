package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// benchRPC measures what the indexer costs in RPC calls, counted by the simulator per JSON-RPC
// method (HTTP and PubSub): per payment at steady state, and for a cold start that finds
// historical payments through getSignaturesForAddress.
func benchRPC(ctx context.Context, o options) (*table, error) {
	t := &table{title: fmt.Sprintf("RPC economy (steady state: %d payments at 100/s; cold start: %d historical payments)", o.steady, o.cold)}
	for r := range o.runs {
		calls, err := steadyRPC(ctx, o)
		if err != nil {
			return t, fmt.Errorf("steady run %d: %w", r+1, err)
		}
		n := float64(o.steady)
		t.add("steady state: RPC calls per payment (all methods)", "calls", float64(sum(calls))/n)
		t.add("steady state: getTransaction per payment", "calls", float64(calls["getTransaction"])/n)
		t.note("steady run %d calls: %s", r+1, breakdown(calls))

		res, err := coldStart(ctx, o, o.cold, 100000)
		if err != nil {
			return t, fmt.Errorf("cold run %d: %w", r+1, err)
		}
		pages := res.calls["getSignaturesForAddress"]
		t.add(fmt.Sprintf("cold start: getSignaturesForAddress pages (bound ceil(N/1000) = %d + retries)", (o.cold+999)/1000), "pages", float64(pages))
		t.add("cold start: RPC calls per payment until all committed", "calls", float64(sum(res.calls))/float64(o.cold))
		t.add("cold start: RPC calls per payment until all finalized", "calls", float64(sum(res.callsFinal))/float64(o.cold))
		t.add("cold start: time until all committed", "s", res.committed.Seconds())
		t.note("cold run %d calls until finalized: %s", r+1, breakdown(res.callsFinal))
	}
	t.note("target ≤ 1.1 calls per payment at steady state; the window runs from the first payment until every payment is finalized in Postgres, so periodic calls (finality checks, health) are included")
	return t, nil
}

// steadyRPC lands o.steady payments at 100 per second on a running, warmed-up stack and returns
// the simulator's call counters from the first payment until all are finalized in Postgres.
func steadyRPC(ctx context.Context, o options) (map[string]int64, error) {
	st, err := startStack(ctx, stackOptions{slot: o.slot, env: o.env}, o.log)
	if err != nil {
		return nil, err
	}
	defer st.close()
	for _, s := range []string{"campaign", "pricer", "indexer"} {
		if err := st.start(s); err != nil {
			return nil, err
		}
	}
	if err := st.createCampaign(ctx); err != nil {
		return nil, err
	}
	if err := st.waitWatched(ctx); err != nil {
		return nil, err
	}
	// The pricer reads mints from the chain too; it is not part of what a payment costs.
	if err := st.stop("pricer"); err != nil {
		return nil, err
	}
	payers := fundPayers(st.sim, 16)
	ps, err := signPayments(st.sim, payers, st.escrow, st.reference, o.steady, 1_000_000)
	if err != nil {
		return nil, err
	}
	st.sim.ResetCalls()
	tk := time.NewTicker(10 * time.Millisecond)
	for _, p := range ps {
		<-tk.C
		if err := submit(st.sim, p); err != nil {
			tk.Stop()
			return nil, err
		}
	}
	tk.Stop()
	err = st.waitFor(ctx, 120*time.Second, "every payment finalized", func() (bool, error) {
		l, err := st.ledger(ctx)
		return err == nil && l.finalized >= int64(len(ps)), err
	})
	if err != nil {
		return nil, err
	}
	calls := st.sim.Calls()
	if err := verifyLedger(ctx, st, ps); err != nil {
		return nil, err
	}
	return calls, nil
}

type coldResult struct {
	committed, finalized time.Duration
	calls, callsFinal    map[string]int64
}

// coldStart lands n payments while no indexer runs, lets them finalize, then starts the indexer
// with SOLANA_RPC_RPS=rps and measures until Postgres holds every one, then until every one is
// finalized there, with the simulator's call counters at both moments.
func coldStart(ctx context.Context, o options, n int, rps float64) (coldResult, error) {
	var res coldResult
	st, err := startStack(ctx, stackOptions{slot: o.slot, env: o.env, vars: map[string]string{"SOLANA_RPC_RPS": fmt.Sprint(rps)}}, o.log)
	if err != nil {
		return res, err
	}
	defer st.close()
	for _, s := range []string{"campaign", "pricer"} {
		if err := st.start(s); err != nil {
			return res, err
		}
	}
	if err := st.createCampaign(ctx); err != nil {
		return res, err
	}
	if err := st.stop("pricer"); err != nil {
		return res, err
	}
	payers := fundPayers(st.sim, 64)
	ps, err := signPayments(st.sim, payers, st.escrow, st.reference, n, 1_000_000)
	if err != nil {
		return res, err
	}
	if err := submitAll(st.sim, ps, nil); err != nil {
		return res, err
	}
	// Make all of it history: 33 slots and the payments are finalized.
	st.pauseClock()
	st.sim.Advance(40)
	st.startClock(o.slot)
	if err := verifyChain(st.sim, st.escrow, ps); err != nil {
		return res, err
	}

	st.sim.ResetCalls()
	start := time.Now()
	if err := st.start("indexer"); err != nil {
		return res, err
	}
	limit := max(60*time.Second, time.Duration(float64(n)/rps*2*float64(time.Second)))
	err = st.waitFor(ctx, limit, fmt.Sprintf("%d historical payments committed", n), func() (bool, error) {
		l, err := st.ledger(ctx)
		return err == nil && l.count >= int64(n), err
	})
	if err != nil {
		l, _ := st.ledger(ctx)
		return res, fmt.Errorf("%w (committed %d of %d)", err, l.count, n)
	}
	res.committed = time.Since(start)
	res.calls = st.sim.Calls()
	err = st.waitFor(ctx, limit, fmt.Sprintf("%d historical payments finalized", n), func() (bool, error) {
		l, err := st.ledger(ctx)
		return err == nil && l.finalized >= int64(n), err
	})
	if err != nil {
		return res, err
	}
	res.finalized = time.Since(start)
	res.callsFinal = st.sim.Calls()
	return res, verifyLedger(ctx, st, ps)
}

func sum(calls map[string]int64) int64 {
	var t int64
	for _, v := range calls {
		t += v
	}
	return t
}

func breakdown(calls map[string]int64) string {
	keys := slices.Sorted(maps.Keys(calls))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, calls[k]))
	}
	return strings.Join(parts, ", ")
}

// benchBackfill measures how long the indexer takes to catch up o.backfill historical payments
// under an RPC limit of o.rps requests per second, against the floor that limit sets: one
// getSignaturesForAddress page per 1000 signatures plus one getTransaction per payment, all
// through the same limiter.
func benchBackfill(ctx context.Context, o options) (*table, error) {
	n := o.backfill
	needed := float64((n+999)/1000 + n)
	floor := needed / o.rps
	t := &table{title: fmt.Sprintf("Backfill speed (%d historical payments, SOLANA_RPC_RPS=%g)", n, o.rps)}
	for r := range o.runs {
		res, err := coldStart(ctx, o, n, o.rps)
		if err != nil {
			return t, fmt.Errorf("run %d: %w", r+1, err)
		}
		t.add("time until every payment is committed in Postgres", "s", res.committed.Seconds())
		t.add(fmt.Sprintf("floor set by the limit: %g calls / %g per s", needed, o.rps), "s", floor)
		t.add("ratio to the floor", "×", res.committed.Seconds()/floor)
		t.add("RPC calls until committed", "calls", float64(sum(res.calls)))
		t.add("time until every payment is finalized in Postgres", "s", res.finalized.Seconds())
		t.note("run %d calls until committed: %s", r+1, breakdown(res.calls))
	}
	t.note("target: within 10%% of the floor (ratio ≤ 1.10)")
	return t, nil
}
