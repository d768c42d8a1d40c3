package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/ws"
	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/solcrowd/backend/libs/events"
)

// seen records when a watcher first saw each signature.
type seen struct {
	mu sync.Mutex
	at map[solana.Signature]time.Time
}

func newSeen() *seen { return &seen{at: map[solana.Signature]time.Time{}} }

func (s *seen) mark(sig solana.Signature, t time.Time) {
	s.mu.Lock()
	if _, ok := s.at[sig]; !ok {
		s.at[sig] = t
	}
	s.mu.Unlock()
}

func (s *seen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at)
}

// latencies returns, for every confirmed signature the watcher saw, the time from confirmation
// to seeing it, and how many it never saw.
func (s *seen) latencies(confirmed map[solana.Signature]time.Time) (durations, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d durations
	missing := 0
	for sig, c := range confirmed {
		t, ok := s.at[sig]
		if !ok {
			missing++
			continue
		}
		d = append(d, t.Sub(c))
	}
	return d, missing
}

// benchDetect measures detection latency: from the simulator confirming a payment (the bench
// produces the slot that confirms it and notes the time just before) until a WebSocket client of
// the gateway, subscribed to the campaign's channel, receives contribution.confirmed for it; at
// o.rate payments per second. Baselines watch the same payments in the same run: a bare solana-go
// logsSubscribe client on the escrow (the floor) and a monitor polling getSignaturesForAddress
// once a second (what a user would build instead).
func benchDetect(ctx context.Context, o options) (*table, error) {
	t := &table{title: fmt.Sprintf("Detection latency (%d payments/s for %s per run, slot every %s)", o.rate, o.duration, o.slot)}
	for r := range o.runs {
		if err := detectRun(ctx, o, t); err != nil {
			return t, fmt.Errorf("run %d: %w", r+1, err)
		}
	}
	t.note("target: gateway p99 within 50 ms of the floor's p99")
	t.note("every payment's confirmation time is the moment the bench produces the slot that confirms it (sim.Advance); all three watchers run at once on the same payments")
	return t, nil
}

func detectRun(ctx context.Context, o options, t *table) error {
	st, err := startServingStack(ctx, o)
	if err != nil {
		return err
	}
	defer st.close()
	wctx, stopWatchers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopWatchers(); wg.Wait() }()
	floor, poll, gw := newSeen(), newSeen(), newSeen()
	// Each watcher sends nil once subscribed, and its error (or nil) when it ends.
	ready := make(chan error, 6)
	wg.Go(func() { ready <- watchLogs(wctx, st.sim.WSURL, st.escrow, floor, ready) })
	wg.Go(func() { ready <- watchPolling(wctx, st.sim.URL, st.escrow, poll, ready) })
	wg.Go(func() {
		ready <- watchGateway(wctx, strings.Replace(st.api, "http://", "ws://", 1)+"/ws", "campaign:"+st.campaignID, gw, ready)
	})
	// Where the time goes: when the indexer's event passes through NATS.
	busSeen := newSeen()
	sub, err := st.bus.NC.Subscribe(events.SubjectContributionConfirmed, func(m *nats.Msg) {
		now := time.Now()
		var c events.Contribution
		if json.Unmarshal(m.Data, &c) != nil {
			return
		}
		if sig, err := solana.SignatureFromBase58(c.Signature); err == nil {
			busSeen.mark(sig, now)
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	for range 3 {
		select {
		case err := <-ready:
			if err != nil {
				return err
			}
		case <-time.After(20 * time.Second):
			return errors.New("watchers not subscribed in 20s")
		}
	}

	n := int(float64(o.rate) * o.duration.Seconds())
	payers := fundPayers(st.sim, 32)
	ps, err := signPayments(st.sim, payers, st.escrow, st.reference, n, 1_000_000)
	if err != nil {
		return err
	}
	// The bench drives the slots itself from here, so it knows when each payment is confirmed.
	st.pauseClock()
	confirmed := make(map[solana.Signature]time.Time, n)
	var pending []solana.Signature
	advance := func() {
		at := time.Now()
		st.sim.Advance(1)
		for _, s := range pending {
			confirmed[s] = at
		}
		pending = pending[:0]
	}
	interval := time.Second / time.Duration(o.rate)
	stopProfile := o.profile()
	defer stopProfile()
	cpu := startCPU()
	start := time.Now()
	lastSlot := start
	for i, p := range ps {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if err := submit(st.sim, p); err != nil {
			return err
		}
		pending = append(pending, p.sig)
		if time.Since(lastSlot) >= o.slot {
			advance()
			lastSlot = time.Now()
		}
	}
	// Keep the chain going until every watcher has seen every payment (bounded).
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (floor.len() < n || poll.len() < n || gw.len() < n) {
		time.Sleep(time.Until(lastSlot.Add(o.slot)))
		advance()
		lastSlot = time.Now()
	}
	cores, waiting := cpu.cores(), cpu.waiting()
	stopProfile()
	st.startClock(o.slot)
	if err := verifyChain(st.sim, st.escrow, ps); err != nil {
		return err
	}
	fd, fmiss := floor.latencies(confirmed)
	pd, pmiss := poll.latencies(confirmed)
	gd, gmiss := gw.latencies(confirmed)
	bd, _ := busSeen.latencies(confirmed)
	t.add("gateway WebSocket client p50", "ms", ms(gd.pct(50)))
	t.add("gateway WebSocket client p99", "ms", ms(gd.pct(99)))
	t.add("floor: bare solana-go logsSubscribe p50", "ms", ms(fd.pct(50)))
	t.add("floor: bare solana-go logsSubscribe p99", "ms", ms(fd.pct(99)))
	t.add("polling monitor (getSignaturesForAddress every 1 s) p50", "ms", ms(pd.pct(50)))
	t.add("polling monitor (getSignaturesForAddress every 1 s) p99", "ms", ms(pd.pct(99)))
	t.add("stage: contribution.confirmed on NATS (indexer output) p50", "ms", ms(bd.pct(50)))
	t.add("stage: contribution.confirmed on NATS (indexer output) p99", "ms", ms(bd.pct(99)))
	t.add("gateway p99 minus floor p99", "ms", ms(gd.pct(99)-fd.pct(99)))
	t.add("gateway p99 / floor p99", "×", float64(gd.pct(99))/float64(fd.pct(99)))
	t.add("gateway p99 / polling p99", "×", float64(gd.pct(99))/float64(pd.pct(99)))
	t.add("payments per run", "payments", float64(n))
	t.add("CPU used by the bench process during the run", "cores of 2", cores)
	t.add("run-queue delay of the bench process's threads (runnable, no CPU free)", "cores", waiting)
	if fmiss+pmiss+gmiss > 0 {
		t.note("missed payments: floor %d, polling %d, gateway %d (of %d)", fmiss, pmiss, gmiss, n)
	}
	return nil
}

// watchLogs is the floor: solana-go's own logsSubscribe on the escrow at confirmed commitment.
func watchLogs(ctx context.Context, wsURL string, escrow solana.PublicKey, s *seen, ready chan<- error) error {
	cl, err := ws.Connect(ctx, wsURL)
	if err != nil {
		return err
	}
	defer cl.Close()
	sub, err := cl.LogsSubscribeMentions(escrow, rpc.CommitmentConfirmed)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	ready <- nil
	for {
		res, err := sub.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("floor watcher: %w", err)
		}
		if res.Value.Err == nil {
			s.mark(res.Value.Signature, time.Now())
		}
	}
}

// watchPolling is what a user would build instead: every second, the escrow's signatures since
// the newest one already seen.
func watchPolling(ctx context.Context, url string, escrow solana.PublicKey, s *seen, ready chan<- error) error {
	cl := rpc.New(url)
	var newest solana.Signature
	first, err := cl.GetSignaturesForAddressWithOpts(ctx, escrow, &rpc.GetSignaturesForAddressOpts{Commitment: rpc.CommitmentConfirmed, Limit: ptr(1)})
	if err != nil {
		return err
	}
	if len(first) > 0 {
		newest = first[0].Signature
	}
	ready <- nil
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		limit := 1000
		opts := &rpc.GetSignaturesForAddressOpts{Commitment: rpc.CommitmentConfirmed, Limit: &limit}
		if !newest.IsZero() {
			opts.Until = newest
		}
		page, err := cl.GetSignaturesForAddressWithOpts(ctx, escrow, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("polling watcher: %w", err)
		}
		now := time.Now()
		for _, e := range page {
			if e.Err == nil {
				s.mark(e.Signature, now)
			}
		}
		if len(page) > 0 {
			newest = page[0].Signature
		}
	}
}

func ptr[T any](v T) *T { return &v }

// gatewayFrame is the part of the gateway's WebSocket frames the bench reads.
type gatewayFrame struct {
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Event   struct {
		Signature string `json:"signature"`
	} `json:"event"`
}

// dialGateway opens /ws and subscribes to channel, waiting for the ack.
func dialGateway(ctx context.Context, url, channel string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if err := c.WriteJSON(map[string]any{"type": "subscribe", "id": "1", "channels": []string{channel}}); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f gatewayFrame
		if err := c.ReadJSON(&f); err != nil {
			c.Close()
			return nil, err
		}
		switch f.Type {
		case "ack":
			_ = c.SetReadDeadline(time.Time{})
			return c, nil
		case "error":
			c.Close()
			return nil, fmt.Errorf("subscribe %s: %s: %s", channel, f.Code, f.Message)
		}
	}
}

// watchGateway is the product: a WebSocket client of the gateway subscribed to the campaign.
func watchGateway(ctx context.Context, url, channel string, s *seen, ready chan<- error) error {
	c, err := dialGateway(ctx, url, channel)
	if err != nil {
		return fmt.Errorf("gateway watcher: %w", err)
	}
	ready <- nil
	go func() { <-ctx.Done(); c.Close() }()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("gateway watcher: %w", err)
		}
		now := time.Now()
		var f gatewayFrame
		if json.Unmarshal(data, &f) != nil || f.Type != "event" || f.Subject != "contribution.confirmed" {
			continue
		}
		if sig, err := solana.SignatureFromBase58(f.Event.Signature); err == nil {
			s.mark(sig, now)
		}
	}
}
