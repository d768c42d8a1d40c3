package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// benchThroughput measures sustained payments per second end to end: payments land in the
// simulator as fast as it takes them, the indexer hears them (logsSubscribe), fetches and parses
// each, publishes contribution events to JetStream, and the campaign service commits them to
// Postgres. The run ends when Postgres holds every payment; totals are then checked exactly.
// Baselines in the same run: the simulator alone (its ceiling) and raw JetStream publishing.
func benchThroughput(ctx context.Context, o options) (*table, error) {
	t := &table{title: fmt.Sprintf("Pipeline throughput (%d payments per run)", o.n)}
	for r := range o.runs {
		ceiling, err := simCeiling(o.n)
		if err != nil {
			return t, err
		}
		st, err := startStack(ctx, stackOptions{slot: o.slot, env: o.env}, o.log)
		if err != nil {
			return t, err
		}
		asyncRate, syncRate, err := jetstreamCeiling(ctx, st, o.n)
		if err != nil {
			st.close()
			return t, err
		}
		var stages pipelineStages
		rate, err := pipelineRun(ctx, st, o, &stages)
		st.close()
		if err != nil {
			return t, fmt.Errorf("run %d: %w", r+1, err)
		}
		t.add("end to end (simulator → indexer → JetStream → campaign → Postgres)", "payments/s", rate)
		t.add("stage: payments landed in the simulator (during the run)", "payments/s", stages.submitted)
		t.add("stage: contribution.confirmed stored in JetStream by the indexer", "events/s", stages.published)
		t.add("CPU used by the bench process (services, simulator, NATS) during the run", "cores of 2", stages.cores)
		t.add("run-queue delay of the bench process's threads (runnable, no CPU free)", "cores", stages.waiting)
		perPayment := stages.cores / rate // CPU-seconds per payment, all parts in this process
		t.add("CPU per payment (simulator + services + NATS; Postgres excluded)", "µs", perPayment*1e6)
		t.add("implied end-to-end rate with both cores free (2 / CPU per payment)", "payments/s", 2/perPayment)
		t.add("baseline: simulator alone (in-process Submit)", "transfers/s", ceiling)
		t.add("baseline: raw JetStream async publish (file storage, Nats-Msg-Id)", "msgs/s", asyncRate)
		t.add("baseline: raw JetStream sync publish, 4 publishers (the indexer's pattern)", "msgs/s", syncRate)
		t.add("ratio to the simulator's ceiling", "×", rate/ceiling)
		t.add("ratio to raw JetStream async publish", "×", rate/asyncRate)
		t.add("ratio to raw JetStream sync publish", "×", rate/syncRate)
	}
	t.note("target ≥ 2,000 payments/s; totals (count, sum of lamports, the campaign's raised_lamports and contribution_count) verified exact in Postgres after every run")
	t.note("slots advanced every %s by the bench; services at their defaults except SOLANA_RPC_RPS=100000 (the simulator is local)", o.slot)
	return t, nil
}

// simCeiling submits n pre-signed payments to a fresh simulator with no services and no
// subscribers, from GOMAXPROCS goroutines, and returns transfers per second.
func simCeiling(n int) (float64, error) {
	sim, err := soltest.Start(soltest.Config{}, "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer sim.Close()
	escrow, ref := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	payers := fundPayers(sim, 64)
	ps, err := signPayments(sim, payers, escrow, ref, n, 1_000_000)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := submitAll(sim, ps, nil); err != nil {
		return 0, err
	}
	sim.Advance(1)
	el := time.Since(start)
	if err := verifyChain(sim, escrow, ps); err != nil {
		return 0, err
	}
	return float64(n) / el.Seconds(), nil
}

// submitAll lands ps from GOMAXPROCS goroutines; onDone, when set, is called after each.
func submitAll(sim *soltest.Server, ps []payment, onDone func()) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ps) || firstErr.Load() != nil {
					return
				}
				if err := submit(sim, ps[i]); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if onDone != nil {
					onDone()
				}
			}
		})
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		return e
	}
	return nil
}

// jetstreamCeiling publishes n messages the size of a contribution event to a file-backed
// stream on the same server, with a Nats-Msg-Id each: once asynchronously (a window of 4096 in
// flight) and once synchronously from 4 publishers.
func jetstreamCeiling(ctx context.Context, st *stack, n int) (asyncRate, syncRate float64, err error) {
	payload := sampleContribution()
	measure := func(name string, pub func(context.Context, jetstream.JetStream, *nats.Msg) error, conc int) (float64, error) {
		s, err := st.bus.JS.CreateStream(ctx, jetstream.StreamConfig{
			Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute,
		})
		if err != nil {
			return 0, err
		}
		defer func() { _ = st.bus.JS.DeleteStream(context.Background(), name) }()
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr atomic.Value
		start := time.Now()
		for range conc {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if int(i) >= n || firstErr.Load() != nil {
						return
					}
					m := nats.NewMsg(name + ".contribution.confirmed")
					m.Header.Set(jetstream.MsgIDHeader, strconv.FormatInt(i, 10)+":0:confirmed")
					m.Data = payload
					if err := pub(ctx, st.bus.JS, m); err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if e, ok := firstErr.Load().(error); ok {
			return 0, e
		}
		if name == "BENCHASYNC" {
			select {
			case <-st.bus.JS.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				return 0, fmt.Errorf("async publish acks not complete in 60s")
			}
		}
		el := time.Since(start)
		info, err := s.Info(ctx)
		if err != nil {
			return 0, err
		}
		if info.State.Msgs != uint64(n) {
			return 0, fmt.Errorf("%s holds %d messages, want %d", name, info.State.Msgs, n)
		}
		return float64(n) / el.Seconds(), nil
	}
	asyncRate, err = measure("BENCHASYNC", func(_ context.Context, js jetstream.JetStream, m *nats.Msg) error {
		_, err := js.PublishMsgAsync(m)
		return err
	}, 1)
	if err != nil {
		return 0, 0, fmt.Errorf("raw async publish: %w", err)
	}
	syncRate, err = measure("BENCHSYNC", func(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
		_, err := js.PublishMsg(ctx, m)
		return err
	}, 4)
	if err != nil {
		return 0, 0, fmt.Errorf("raw sync publish: %w", err)
	}
	return asyncRate, syncRate, nil
}

// sampleContribution is a realistic contribution.confirmed payload.
func sampleContribution() []byte {
	ev := events.Contribution{
		Version: events.Version, State: events.StateConfirmed,
		Signature:  solana.Signature{1, 2, 3}.String(),
		Escrow:     solana.NewWallet().PublicKey().String(),
		Payer:      solana.NewWallet().PublicKey().String(),
		Amount:     1_234_567_890,
		Decimals:   9,
		Reference:  solana.NewWallet().PublicKey().String(),
		CampaignID: "4b9f0f3e-8a47-4d6b-9d43-6f3c2a1b0c9d",
		Slot:       312_345_678,
		BlockTime:  time.Now().Unix(),
		Observed:   time.Now().UTC(),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // a fixed struct always encodes
	}
	return b
}

// pipelineRun runs the services on st, lands o.n payments and returns payments per second from
// the first submit until Postgres holds all of them, after checking the totals.
// pipelineStages are the rates of the stages of one run, each from the first submit.
type pipelineStages struct {
	submitted float64 // payments landed in the simulator per second
	published float64 // contribution.confirmed stored in JetStream per second
	cores     float64 // CPU the bench process used meanwhile
	waiting   float64 // run-queue delay of its threads: runnable, but no CPU free
}

func pipelineRun(ctx context.Context, st *stack, o options, stages *pipelineStages) (float64, error) {
	for _, s := range []string{"campaign", "pricer", "indexer"} {
		if err := st.start(s); err != nil {
			return 0, err
		}
	}
	if err := st.createCampaign(ctx); err != nil {
		return 0, err
	}
	if err := st.waitWatched(ctx); err != nil {
		return 0, err
	}
	payers := fundPayers(st.sim, 64)
	ps, err := signPayments(st.sim, payers, st.escrow, st.reference, o.n, 1_000_000)
	if err != nil {
		return 0, err
	}
	stopProfile := o.profile()
	defer stopProfile()
	cpu := startCPU()
	start := time.Now()
	if err := submitAll(st.sim, ps, nil); err != nil {
		return 0, err
	}
	submitted := time.Since(start)
	limit := max(60*time.Second, time.Duration(o.n)*5*time.Millisecond)
	var published time.Duration
	err = st.waitFor(ctx, limit, fmt.Sprintf("%d payments committed", o.n), func() (bool, error) {
		if published == 0 {
			if n, err := confirmedInStream(ctx, st); err == nil && n >= uint64(o.n) {
				published = time.Since(start)
			}
		}
		l, err := st.ledger(ctx)
		return err == nil && l.count >= int64(o.n), err
	})
	el := time.Since(start)
	stages.cores, stages.waiting = cpu.cores(), cpu.waiting()
	stopProfile()
	if published == 0 {
		published = el
	}
	if err != nil {
		l, _ := st.ledger(ctx)
		return 0, fmt.Errorf("%w (committed %d of %d)", err, l.count, o.n)
	}
	if err := verifyChain(st.sim, st.escrow, ps); err != nil {
		return 0, err
	}
	if err := verifyLedger(ctx, st, ps); err != nil {
		return 0, err
	}
	o.log.Info("throughput run", "payments", o.n, "submitted_in", submitted, "committed_in", el)
	stages.submitted = float64(o.n) / submitted.Seconds()
	stages.published = float64(o.n) / published.Seconds()
	return float64(o.n) / el.Seconds(), nil
}

// confirmedInStream counts contribution.confirmed messages stored in CONTRIBUTIONS.
func confirmedInStream(ctx context.Context, st *stack) (uint64, error) {
	s, err := st.bus.JS.Stream(ctx, events.StreamContributions)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(events.SubjectContributionConfirmed))
	if err != nil {
		return 0, err
	}
	return info.State.Subjects[events.SubjectContributionConfirmed], nil
}

// verifyLedger checks the committed totals against the payments: count and sum in the ledger,
// and the campaign's stored raised total and contribution count.
func verifyLedger(ctx context.Context, st *stack, ps []payment) error {
	// The campaign's totals are updated in the same transaction as the ledger rows.
	l, err := st.ledger(ctx)
	if err != nil {
		return err
	}
	want := total(ps)
	if l.count != int64(len(ps)) || l.sum != want || l.raised != want || l.contributionsCount != int64(len(ps)) {
		return fmt.Errorf("ledger not exact: %d contributions summing %d, campaign raised %d over %d; want %d summing %d",
			l.count, l.sum, l.raised, l.contributionsCount, len(ps), want)
	}
	return nil
}

// advanceEvery produces one slot every d until the returned stop is called.
func advanceEvery(sim *soltest.Server, d time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(d)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				sim.Advance(1)
			}
		}
	}()
	return func() { close(done); <-finished }
}
