package pricer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/solana/soltest"
	"github.com/solcrowd/backend/services/pricer/market"
	"github.com/solcrowd/backend/services/pricer/onchain"
)

func pythSource(s *soltest.Server, now time.Time) PythSource {
	var feed [32]byte
	b, _ := hex.DecodeString(onchain.PythSOLUSDFeedID)
	copy(feed[:], b)
	return PythSource{RPC: rpcFor(s), Account: onchain.PythSOLUSDAccount, Owner: onchain.PythReceiverProgram,
		FeedID: feed, MaxAge: time.Minute, Now: func() time.Time { return now }}
}

func TestPythSourceRecordedAccount(t *testing.T) {
	s := chain(t)
	ctx := context.Background()
	published := time.Unix(pythPublish, 0).UTC()

	q, err := pythSource(s, published.Add(10*time.Second)).SOLUSD(ctx)
	if err != nil || q.USD != "93.85943752" || !q.At.Equal(published) {
		t.Fatalf("pyth quote %+v %v", q, err)
	}
	// Staleness is measured against the injected clock.
	if _, err := pythSource(s, published.Add(61*time.Second)).SOLUSD(ctx); err == nil || !strings.Contains(err.Error(), "older than") {
		t.Fatalf("stale price accepted: %v", err)
	}
	// A different feed id is refused.
	src := pythSource(s, published)
	src.FeedID[0] ^= 1
	if _, err := src.SOLUSD(ctx); err == nil || !strings.Contains(err.Error(), "feed id") {
		t.Fatalf("wrong feed accepted: %v", err)
	}
	// The same bytes under another owner are refused: anyone can create an account with any data.
	acc, _ := s.Account(onchain.PythSOLUSDAccount)
	s.SetAccount(onchain.PythSOLUSDAccount, soltest.Account{Lamports: acc.Lamports, Owner: solana.SystemProgramID, Data: acc.Data})
	if _, err := pythSource(s, published).SOLUSD(ctx); err == nil || !strings.Contains(err.Error(), "owned by") {
		t.Fatalf("foreign owner accepted: %v", err)
	}
	// A zero price under the right owner is refused.
	zero := append([]byte{}, acc.Data...)
	for i := 73; i < 81; i++ {
		zero[i] = 0
	}
	s.SetAccount(onchain.PythSOLUSDAccount, soltest.Account{Lamports: acc.Lamports, Owner: onchain.PythReceiverProgram, Data: zero})
	if q, err := pythSource(s, published).SOLUSD(ctx); err == nil {
		t.Fatalf("zero price accepted: %+v", q)
	}
	if n := s.Calls()["getAccountInfo"]; n != 5 {
		t.Fatalf("getAccountInfo calls = %d, want 5", n)
	}
}

func TestSOLPricesSourceOrder(t *testing.T) {
	s := chain(t)
	cg := newUpstream(t, 200, fixtures.Market("coingecko-simple-price-solana.json"))
	jup := newUpstream(t, 200, fixtures.Market("jupiter-price-v3-docs-example.json"))
	mk := func(name string) *market.Client {
		return market.NewClient(market.ClientConfig{Name: name, Timeout: time.Second})
	}
	gecko := market.CoinGecko{Client: mk("coingecko"), BaseURL: cg.URL}
	jupiter := market.Jupiter{Client: mk("jupiter"), URL: jup.URL, APIKey: "k"}
	// Pyth is stale by the real clock (the recording is from 2026-08), so the next source answers.
	stalePyth := pythSource(s, time.Unix(pythPublish, 0).Add(time.Hour))

	p, err := NewSOLPrices([]SOLSource{stalePyth, gecko, jupiter}, discard()).Refresh(context.Background())
	if err != nil || p.USD != "13.96" || p.Source != "coingecko" || p.Stale {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = NewSOLPrices([]SOLSource{jupiter, gecko}, discard()).Refresh(context.Background())
	if err != nil || p.USD != "147.48" || p.Source != "jupiter" {
		t.Fatalf("%+v %v", p, err)
	}
	fresh := pythSource(s, time.Unix(pythPublish, 0))
	p, err = NewSOLPrices([]SOLSource{fresh, gecko}, discard()).Refresh(context.Background())
	if err != nil || p.USD != "93.85943752" || p.Source != "pyth" || !p.UpdatedAt.Equal(time.Unix(pythPublish, 0)) {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestSOLPriceHostileUpstream walks one source through every failure it can show and checks what
// reaches KV PRICES: never a zero, negative or empty price; after the first good value, failures
// keep it with stale set and its own time; before any good value, the key is absent.
func TestSOLPriceHostileUpstream(t *testing.T) {
	kv, _, _ := pricesKV(t)
	ctx := context.Background()
	up := newUpstream(t, 200, []byte(`{"solana":{"usd":0}}`))
	client := market.NewClient(market.ClientConfig{Name: "coingecko", Timeout: 200 * time.Millisecond})
	fetchedAt := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	gecko := market.CoinGecko{Client: client, BaseURL: up.URL, Now: func() time.Time { return fetchedAt }}
	svc := &Service{SOL: NewSOLPrices([]SOLSource{gecko}, discard()), Tokens: NewTokens(nil, nil, nil, TokenConfig{}, discard()), KV: kv, Log: discard()}

	watcher, err := kv.Watch(ctx, events.KeySOLUSD)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()

	// Never fetched (zero, then negative, then garbage): absent, and the endpoint says not_found.
	for _, body := range []string{`{"solana":{"usd":0}}`, `{"solana":{"usd":-93.1}}`, `{"solana":`, `{"solana":{"usd":"NaN"}}`} {
		up.set(200, body)
		svc.Refresh(ctx, time.Minute)
		if _, err := svc.SOLPrice(ctx, events.SOLPriceRequest{}); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("%s: SOLPrice err %v, want not_found", body, err)
		}
	}
	if _, err := kv.Get(ctx, events.KeySOLUSD); err == nil {
		t.Fatal("sol.usd present before any good price")
	}

	up.set(200, `{"solana":{"usd":13.96}}`)
	svc.Refresh(ctx, time.Minute)
	got, err := svc.SOLPrice(ctx, events.SOLPriceRequest{})
	if err != nil || got.USD != "13.96" || got.Stale || !got.UpdatedAt.Equal(fetchedAt) {
		t.Fatalf("good price: %+v %v", got, err)
	}

	fetchedAt = fetchedAt.Add(time.Minute)
	hostile := []func(){
		func() { up.set(200, `{"solana":{"usd":0}}`) },
		func() { up.set(200, `{"solana":{"usd":-1}}`) },
		func() { up.set(200, `<!doctype html>`) },
		func() { up.set(200, `{"solana":{"usd":1e999999}}`) },
		func() { up.set(500, `oops`) },
		func() { up.mu.Lock(); up.delay = 2 * time.Second; up.mu.Unlock() }, // timeout
		func() {
			up.mu.Lock()
			up.delay = 0
			up.header.Set("Retry-After", "3600")
			up.mu.Unlock()
			up.set(429, `{"status":{"error_code":429}}`)
		},
	}
	for i, h := range hostile {
		h()
		svc.Refresh(ctx, time.Minute)
		got, err := svc.SOLPrice(ctx, events.SOLPriceRequest{})
		if err != nil || got.USD != "13.96" || !got.Stale || !got.UpdatedAt.Equal(fetchedAt.Add(-time.Minute)) {
			t.Fatalf("hostile %d: %+v %v", i, got, err)
		}
	}
	// Retry-After is honoured: the next refreshes do not reach the upstream.
	before := up.hits.Load()
	up.set(200, `{"solana":{"usd":14}}`)
	svc.Refresh(ctx, time.Minute)
	if up.hits.Load() != before {
		t.Fatal("upstream called inside Retry-After")
	}

	// Every value KV ever held is a positive decimal; the last one is flagged stale.
	last, err := kv.Get(ctx, events.KeySOLUSD)
	if err != nil {
		t.Fatal(err)
	}
	var seen []events.SOLPrice
	for done := false; !done; {
		select {
		case e := <-watcher.Updates():
			if e == nil {
				continue
			}
			var p events.SOLPrice
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				t.Fatal(err)
			}
			if _, err := market.Positive(p.USD); err != nil {
				t.Fatalf("KV held price %q", p.USD)
			}
			seen = append(seen, p)
			done = e.Revision() == last.Revision()
		case <-time.After(5 * time.Second):
			t.Fatal("watcher did not deliver the last revision")
		}
	}
	if len(seen) != 2 || seen[0].Stale || !seen[1].Stale || seen[1].USD != "13.96" {
		t.Fatalf("KV history %+v", seen)
	}
}
