package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/natstest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func connect(t *testing.T, url string) *bus.Conn {
	t.Helper()
	c, err := bus.Connect(context.Background(), bus.ConnectConfig{URL: url, Name: t.Name(), ConnectTimeout: 5 * time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestEnsureTopologyIsIdempotent(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	ctx := context.Background()
	for i := range 2 {
		if err := c.EnsureTopology(ctx, bus.Topology{}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	for _, s := range events.Streams {
		info, err := c.JS.Stream(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.CachedInfo().Config.Duplicates; got != s.Duplicates {
			t.Errorf("%s dedup window %v, want %v", s.Name, got, s.Duplicates)
		}
	}
	for _, b := range events.Buckets {
		if _, err := c.KV(ctx, b.Bucket); err != nil {
			t.Error(err)
		}
	}
}

func TestPublishDedupsBySameID(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	ctx := context.Background()
	if err := c.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	ev := events.Contribution{Version: 1, State: events.StateConfirmed, Signature: "s", Amount: 5}
	first, err := c.PublishJSON(ctx, ev.State.Subject(), ev.MsgID(), ev)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.PublishJSON(ctx, ev.State.Subject(), ev.MsgID(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate || first.Sequence != second.Sequence {
		t.Fatalf("want second publish reported as duplicate of the first: %+v %+v", first, second)
	}
}

// A consumer stopped mid-stream loses no acked message and gets its unacked ones again.
func TestConsumerStopMidStreamRedeliversUnacked(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	ctx := context.Background()
	if err := c.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		ev := events.Contribution{Version: 1, State: events.StateConfirmed, Signature: fmt.Sprintf("sig%d", i)}
		if _, err := c.PublishJSON(ctx, ev.State.Subject(), ev.MsgID(), ev); err != nil {
			t.Fatal(err)
		}
	}
	cfg := jetstream.ConsumerConfig{Durable: "t", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 500 * time.Millisecond, MaxAckPending: 1000}
	cons, err := c.EnsureConsumer(ctx, events.StreamContributions, cfg)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]int{}
	// First run: ack the first 20 messages, then fail the 21st and stop the runner from inside.
	run1, stop1 := context.WithCancel(ctx)
	done := make(chan error, 1)
	seen := 0
	go func() {
		done <- bus.Consume(run1, cons, func(_ context.Context, m jetstream.Msg) error {
			mu.Lock()
			defer mu.Unlock()
			seen++
			if seen > 20 {
				stop1()
				return errors.New("crash")
			}
			var ev events.Contribution
			if err := bus.DecodeJSON(m.Data(), &ev, func() int { return ev.Version }, 1); err != nil {
				return err
			}
			acked[ev.Signature]++
			return nil
		}, quiet(), bus.RunnerHooks{})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Second run: everything not acked before arrives; nothing acked before arrives again.
	run2, stop2 := context.WithCancel(ctx)
	defer stop2()
	second := map[string]int{}
	all := make(chan struct{})
	go func() {
		_ = bus.Consume(run2, cons, func(_ context.Context, m jetstream.Msg) error {
			var ev events.Contribution
			if err := bus.DecodeJSON(m.Data(), &ev, func() int { return ev.Version }, 1); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			second[ev.Signature]++
			if len(acked)+len(second) == n {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			return nil
		}, quiet(), bus.RunnerHooks{})
	}()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after restart got %d new + %d acked of %d", len(second), len(acked), n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) != 20 {
		t.Fatalf("first run acked %d, want 20", len(acked))
	}
	for sig := range acked {
		if second[sig] != 0 {
			t.Errorf("%s was acked but delivered again", sig)
		}
	}
}

func TestPoisonMessageIsTerminated(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	ctx := context.Background()
	if err := c.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JS.Publish(ctx, events.SubjectContributionConfirmed, []byte(`{"version":99}`)); err != nil {
		t.Fatal(err)
	}
	cons, err := c.EnsureConsumer(ctx, events.StreamContributions, jetstream.ConsumerConfig{Durable: "p", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 5})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	defer stop()
	poisoned := make(chan struct{}, 5)
	calls := 0
	go func() {
		_ = bus.Consume(run, cons, func(_ context.Context, m jetstream.Msg) error {
			calls++
			var ev events.Contribution
			return bus.DecodeJSON(m.Data(), &ev, func() int { return ev.Version }, events.Version)
		}, quiet(), bus.RunnerHooks{OnPoison: func(string, error) { poisoned <- struct{}{} }})
	}()
	select {
	case <-poisoned:
	case <-time.After(10 * time.Second):
		t.Fatal("poison message not terminated")
	}
	// Terminated means no redelivery: the consumer has nothing pending.
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMicroErrorsTravelAsCodes(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	svc, err := c.NewService("test", "0.0.1", quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	type req struct{ N int }
	type resp struct{ Double int }
	err = bus.Handle(svc, "double", "rpc.test.double", func(_ context.Context, r req) (resp, error) {
		switch {
		case r.N < 0:
			return resp{}, apperr.InvalidField("n", "must not be negative")
		case r.N == 13:
			return resp{}, errors.New("db password is hunter2")
		case r.N == 99:
			panic("boom")
		}
		return resp{Double: 2 * r.N}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := bus.Request[resp](ctx, c, "rpc.test.double", req{N: 21})
	if err != nil || got.Double != 42 {
		t.Fatalf("got %+v, %v", got, err)
	}
	_, err = bus.Request[resp](ctx, c, "rpc.test.double", req{N: -1})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Field != "n" {
		t.Fatalf("want invalid n, got %v", err)
	}
	for _, n := range []int{13, 99} {
		_, err = bus.Request[resp](ctx, c, "rpc.test.double", req{N: n})
		if !errors.As(err, &ae) || ae.Code != apperr.Internal || ae.Message != "internal error" {
			t.Fatalf("want opaque internal error for %d, got %v", n, err)
		}
	}
	_, err = bus.Request[resp](ctx, c, "rpc.nobody.home", req{})
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("want unavailable without responders, got %v", err)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	ctx := context.Background()
	if err := c.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ev := events.Contribution{Version: 1, State: events.StateConfirmed, Signature: "after-restart"}
	if _, err := c.PublishJSON(pctx, ev.State.Subject(), ev.MsgID(), ev); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
}

func TestServiceAcceptsBuildStampVersions(t *testing.T) {
	srv := natstest.Run(t)
	c := connect(t, srv.URL())
	for _, v := range []string{"dev+unknown", "", "v1.2.3", "1.2.3"} {
		svc, err := c.NewService("stamp", v, quiet())
		if err != nil {
			t.Fatalf("version %q: %v", v, err)
		}
		_ = svc.Stop()
	}
}

// Services start together (make run starts four at once): concurrent topology setup must not fail.
func TestEnsureTopologyConcurrently(t *testing.T) {
	for round := range 2 {
		srv := natstest.Run(t)
		const n = 8
		conns := make([]*bus.Conn, n)
		for i := range conns {
			conns[i] = connect(t, srv.URL())
		}
		start := make(chan struct{})
		errs := make(chan error, n)
		for _, c := range conns {
			go func() {
				<-start
				errs <- c.EnsureTopology(context.Background(), bus.Topology{})
			}()
		}
		close(start)
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

func TestServiceVersionIsAlwaysSemver(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3": "1.2.3", "v1.2.3-rc.1+abc": "1.2.3-rc.1+abc", "": "0.0.0",
		"dev+unknown": "0.0.0+dev.unknown", "v1.0": "0.0.0+v1.0", "abc1234-dirty+abc1234": "0.0.0+abc1234-dirty.abc1234",
	} {
		if got := bus.ServiceVersion(in); got != want {
			t.Errorf("ServiceVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
