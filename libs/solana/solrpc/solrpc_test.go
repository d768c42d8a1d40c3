package solrpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

type recorder struct {
	mu       sync.Mutex
	attempts []solrpc.Attempt
}

func (r *recorder) hook(a solrpc.Attempt) {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
}

func (r *recorder) count(o solrpc.Outcome) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.attempts {
		if a.Outcome == o {
			n++
		}
	}
	return n
}

func setup(t *testing.T, o solrpc.Options) (*soltest.Server, *solrpc.Client, *recorder, context.Context) {
	t.Helper()
	sim := soltest.NewServer(t, soltest.Config{})
	rec := &recorder{}
	o.OnAttempt = rec.hook
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return sim, solrpc.New(sim.URL, o), rec, ctx
}

func TestRetriesHTTP429HonouringRetryAfter(t *testing.T) {
	sim, cl, rec, ctx := setup(t, solrpc.Options{RPS: 1000, BaseBackoff: time.Millisecond})
	key := solana.NewWallet().PublicKey()
	sim.Airdrop(key, 1_234_567)
	sim.Advance(1)
	sim.Faults().SetRateLimitEvery(2, soltest.RateLimitHTTP) // every 2nd request: HTTP 429, Retry-After: 1

	start := time.Now()
	for range 2 {
		res, err := cl.GetBalance(ctx, key, rpc.CommitmentConfirmed)
		if err != nil {
			t.Fatal(err)
		}
		if res.Value != 1_234_567 {
			t.Fatalf("balance %d", res.Value)
		}
	}
	if n := rec.count(solrpc.OutcomeRateLimited); n != 1 {
		t.Fatalf("rate-limited attempts = %d, want 1", n)
	}
	// The refused request must wait the server's Retry-After (1s), not just the 1ms backoff.
	if el := time.Since(start); el < time.Second {
		t.Fatalf("retry after %v, before Retry-After elapsed", el)
	}
}

func TestRetriesJSONRPC429In200(t *testing.T) {
	sim, cl, rec, ctx := setup(t, solrpc.Options{RPS: 1000, BaseBackoff: time.Millisecond})
	sim.Faults().SetRateLimitEvery(3, soltest.RateLimitJSONRPC)
	for range 6 {
		if _, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed); err != nil {
			t.Fatal(err)
		}
	}
	if n := rec.count(solrpc.OutcomeRateLimited); n < 2 {
		t.Fatalf("rate-limited attempts = %d, want >= 2", n)
	}
	if n := rec.count(solrpc.OutcomeOK); n != 6 {
		t.Fatalf("ok attempts = %d, want 6", n)
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	sim, cl, rec, ctx := setup(t, solrpc.Options{RPS: 1000, BaseBackoff: time.Millisecond})
	before := sim.Calls()["getBalance"]
	var out any
	err := cl.RPCCallForInto(ctx, &out, "getBalance", []any{"not-a-key"})
	code, ok := solrpc.Code(err)
	if !ok || code != -32602 {
		t.Fatalf("err = %v, want -32602", err)
	}
	if !solrpc.Permanent(err) {
		t.Fatal("-32602 not permanent")
	}
	var re *jsonrpc.RPCError
	if !errors.As(err, &re) {
		t.Fatal("error does not unwrap to *jsonrpc.RPCError")
	}
	if got := sim.Calls()["getBalance"] - before; got != 1 {
		t.Fatalf("server saw %d getBalance calls, want 1", got)
	}
	if len(rec.attempts) != 1 || rec.attempts[0].Retrying {
		t.Fatalf("attempts = %+v", rec.attempts)
	}
	// Method not found is permanent too.
	err = cl.RPCCallForInto(ctx, &out, "noSuchMethod", nil)
	if code, _ := solrpc.Code(err); code != -32601 || !solrpc.Permanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestClientSideRateLimit(t *testing.T) {
	_, cl, _, ctx := setup(t, solrpc.Options{RPS: 20, Burst: 1})
	start := time.Now()
	for range 11 {
		if _, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed); err != nil {
			t.Fatal(err)
		}
	}
	// 11 requests at 20/s with burst 1 need at least 10 intervals of 50ms.
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("11 calls took %v: limiter not applied", el)
	}
}

func TestTimeoutIsBoundedAndRetried(t *testing.T) {
	sim, cl, rec, ctx := setup(t, solrpc.Options{RPS: 1000, Timeout: 50 * time.Millisecond, MaxAttempts: 3, BaseBackoff: time.Millisecond})
	sim.Faults().SetLatency(300 * time.Millisecond)
	_, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed)
	var e *solrpc.Error
	if !errors.As(err, &e) || e.Attempts != 3 {
		t.Fatalf("err = %v, want 3 attempts", err)
	}
	if n := rec.count(solrpc.OutcomeTransport); n != 3 {
		t.Fatalf("transport outcomes = %d", n)
	}
	sim.Faults().SetLatency(0)
	if _, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed); err != nil {
		t.Fatal(err)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	sim, cl, _, _ := setup(t, solrpc.Options{RPS: 1000})
	sim.Faults().SetRateLimit(1, soltest.RateLimitHTTP)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var err error
	for range 5 {
		if _, err = cl.GetSlot(ctx, rpc.CommitmentConfirmed); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}
