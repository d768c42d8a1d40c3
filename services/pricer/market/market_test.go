package market

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/fixtures"
)

// upstream is a local HTTP server that answers with a fixed status, headers and body, and counts
// the requests it received.
type upstream struct {
	*httptest.Server
	hits   atomic.Int64
	status atomic.Int64
	body   atomic.Value // []byte
	header http.Header
	hang   bool
	last   atomic.Value // *http.Request
}

func newUpstream(t *testing.T, status int, body []byte) *upstream {
	t.Helper()
	u := &upstream{header: http.Header{}}
	u.status.Store(int64(status))
	u.body.Store(body)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.last.Store(r.Clone(context.Background()))
		if u.hang {
			<-r.Context().Done()
			return
		}
		for k, v := range u.header {
			w.Header()[k] = v
		}
		w.WriteHeader(int(u.status.Load()))
		w.Write(u.body.Load().([]byte))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(status int, body string) {
	u.status.Store(int64(status))
	u.body.Store([]byte(body))
}

func client(name string) *Client {
	return NewClient(ClientConfig{Name: name, Timeout: 2 * time.Second})
}

func TestCoinGeckoFixture(t *testing.T) {
	up := newUpstream(t, 200, fixtures.Market("coingecko-simple-price-solana.json"))
	q, err := CoinGecko{Client: client("coingecko"), BaseURL: up.URL + "/api/v3"}.SOLUSD(context.Background())
	if err != nil || q.USD != "13.96" {
		t.Fatalf("coingecko %+v %v", q, err)
	}
	r := up.last.Load().(*http.Request)
	if r.URL.Path != "/api/v3/simple/price" || r.URL.Query().Get("ids") != "solana" || r.URL.Query().Get("vs_currencies") != "usd" {
		t.Fatalf("request %s", r.URL)
	}
}

func TestJupiterFixture(t *testing.T) {
	up := newUpstream(t, 200, fixtures.Market("jupiter-price-v3-docs-example.json"))
	q, err := Jupiter{Client: client("jupiter"), URL: up.URL + "/price/v3", APIKey: "k3y"}.SOLUSD(context.Background())
	if err != nil || q.USD != "147.48" {
		t.Fatalf("jupiter %+v %v", q, err)
	}
	r := up.last.Load().(*http.Request)
	if r.Header.Get("x-api-key") != "k3y" || r.URL.Query().Get("ids") != WrappedSOLMint {
		t.Fatalf("request %s %v", r.URL, r.Header)
	}
}

func TestDexScreenerFixture(t *testing.T) {
	up := newUpstream(t, 200, fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	p, found, err := DexScreener{Client: client("dexscreener"), BaseURL: up.URL}.Token(context.Background(), WrappedSOLMint)
	if err != nil || !found {
		t.Fatalf("found %v err %v", found, err)
	}
	want := Pair{PairAddress: "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2", DexID: "raydium", PriceUSD: "100.17",
		LiquidityUSD: "14247194.46", Volume24hUSD: "12461528.51", BaseName: "Wrapped SOL", BaseSymbol: "SOL"}
	p.ImageURL = ""
	if p != want {
		t.Fatalf("pair\n got %+v\nwant %+v", p, want)
	}
	if r := up.last.Load().(*http.Request); r.URL.Path != "/tokens/v1/solana/"+WrappedSOLMint {
		t.Fatalf("path %s", r.URL.Path)
	}
}

const mint = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"

func TestDexScreenerPairChoice(t *testing.T) {
	body := `[
	 {"chainId":"solana","dexId":"raydium","pairAddress":"QUOTESIDE","baseToken":{"address":"So11111111111111111111111111111111111111112"},"quoteToken":{"address":"` + mint + `"},"priceUsd":"1","liquidity":{"usd":99999999}},
	 {"chainId":"solana","dexId":"pumpswap","pairAddress":"SHALLOW","baseToken":{"address":"` + mint + `","name":"Pop","symbol":"POP"},"priceUsd":"0.0012","liquidity":{"usd":1000.5},"fdv":120000,"marketCap":110000.25,"volume":{"h24":5000}},
	 {"chainId":"solana","dexId":"meteora","pairAddress":"NOPRICE","baseToken":{"address":"` + mint + `"},"liquidity":{"usd":5000000}},
	 {"chainId":"solana","dexId":"orca","pairAddress":"ZEROPRICE","baseToken":{"address":"` + mint + `"},"priceUsd":"0","liquidity":{"usd":6000000}},
	 {"chainId":"solana","dexId":"pumpfun","pairAddress":"DEEP","baseToken":{"address":"` + mint + `","name":"Pop\u0000\u0000","symbol":"POP"},"priceUsd":"0.00125","liquidity":{"usd":2.5e4},"fdv":125000},
	 {"chainId":"solana","dexId":"raydium","pairAddress":"NOLIQ","baseToken":{"address":"` + mint + `"},"priceUsd":"0.002"}
	]`
	up := newUpstream(t, 200, []byte(body))
	p, found, err := DexScreener{Client: client("dexscreener"), BaseURL: up.URL}.Token(context.Background(), mint)
	if err != nil || !found {
		t.Fatalf("found %v err %v", found, err)
	}
	want := Pair{PairAddress: "DEEP", DexID: "pumpfun", PriceUSD: "0.00125", LiquidityUSD: "25000", MarketCapUSD: "125000",
		Launchpad: "pump.fun", BaseName: "Pop", BaseSymbol: "POP"}
	if p != want {
		t.Fatalf("pair\n got %+v\nwant %+v", p, want)
	}
}

func TestDexScreenerHostile(t *testing.T) {
	for name, c := range map[string]struct {
		status    int
		body      string
		wantErr   bool
		wantFound bool
	}{
		"empty list":      {200, `[]`, false, false},
		"null":            {200, `null`, false, false},
		"null pairs":      {200, `{"schemaVersion":"1.0.0","pairs":null}`, false, false},
		"garbage":         {200, `<html>oops`, true, false},
		"truncated":       {200, `[{"chainId":"solana"`, true, false},
		"wrong types":     {200, `[{"baseToken":"x"}]`, true, false},
		"negative price":  {200, `[{"baseToken":{"address":"` + mint + `"},"priceUsd":"-1","liquidity":{"usd":5}}]`, false, false},
		"NaN price":       {200, `[{"baseToken":{"address":"` + mint + `"},"priceUsd":"NaN","liquidity":{"usd":5}}]`, false, false},
		"huge exponent":   {200, `[{"baseToken":{"address":"` + mint + `"},"priceUsd":1e999999999}]`, false, false},
		"server error":    {502, `bad gateway`, true, false},
		"other mint only": {200, `[{"baseToken":{"address":"So11111111111111111111111111111111111111112"},"priceUsd":"5"}]`, false, false},
	} {
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, c.status, []byte(c.body))
			_, found, err := DexScreener{Client: client("dexscreener"), BaseURL: up.URL}.Token(context.Background(), mint)
			if (err != nil) != c.wantErr || found != c.wantFound {
				t.Fatalf("found %v err %v", found, err)
			}
		})
	}
}

func TestSOLSourcesRejectBadPrices(t *testing.T) {
	for _, body := range []string{`{"solana":{"usd":0}}`, `{"solana":{"usd":-13.2}}`, `{"solana":{}}`, `{}`, `{"solana":{"usd":"NaN"}}`,
		`{"solana":{"usd":1e400}}`, `[1,2]`, `garbage`, `{"solana":{"usd":0.0}}`, `{"solana":{"usd":-0}}`} {
		up := newUpstream(t, 200, []byte(body))
		if q, err := (CoinGecko{Client: client("coingecko"), BaseURL: up.URL}).SOLUSD(context.Background()); err == nil {
			t.Errorf("coingecko %s: accepted %+v", body, q)
		}
	}
	for _, body := range []string{`{"So11111111111111111111111111111111111111112":{"usdPrice":0}}`,
		`{"So11111111111111111111111111111111111111112":{"usdPrice":-147.48}}`, `{"data":{}}`, `null`} {
		up := newUpstream(t, 200, []byte(body))
		if q, err := (Jupiter{Client: client("jupiter"), URL: up.URL}).SOLUSD(context.Background()); err == nil {
			t.Errorf("jupiter %s: accepted %+v", body, q)
		}
	}
}

func TestClientHonoursRetryAfter(t *testing.T) {
	up := newUpstream(t, 429, []byte(`{"status":{"error_code":429}}`))
	up.header.Set("Retry-After", "120")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := NewClient(ClientConfig{Name: "coingecko", Timeout: time.Second, Now: func() time.Time { return now }})
	g := CoinGecko{Client: c, BaseURL: up.URL}
	if _, err := g.SOLUSD(context.Background()); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("first call: %v", err)
	}
	if got := c.BlockedUntil(); !got.Equal(now.Add(120 * time.Second)) {
		t.Fatalf("blocked until %s", got)
	}
	up.set(200, `{"solana":{"usd":13.96}}`)
	if _, err := g.SOLUSD(context.Background()); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("second call inside Retry-After: %v", err)
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times inside Retry-After, want 1", n)
	}
	now = now.Add(121 * time.Second)
	if q, err := g.SOLUSD(context.Background()); err != nil || q.USD != "13.96" {
		t.Fatalf("after Retry-After: %+v %v", q, err)
	}
	// An HTTP-date Retry-After and a missing one both back off too.
	up.set(429, ``)
	up.header.Set("Retry-After", now.Add(5*time.Minute).Format(http.TimeFormat))
	_, _ = g.SOLUSD(context.Background())
	if got := c.BlockedUntil(); !got.Equal(now.Add(5 * time.Minute)) {
		t.Fatalf("http-date retry-after: blocked until %s", got)
	}
}

func TestClientTimeoutAndSizeCap(t *testing.T) {
	up := newUpstream(t, 200, nil)
	up.hang = true
	c := NewClient(ClientConfig{Name: "slow", Timeout: 100 * time.Millisecond})
	start := time.Now()
	if _, err := (CoinGecko{Client: c, BaseURL: up.URL}).SOLUSD(context.Background()); err == nil {
		t.Fatal("hanging upstream answered")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("timeout not bounded: %s", el)
	}
	big := newUpstream(t, 200, []byte(`{"image":"`+strings.Repeat("a", 5000)+`"}`))
	m := Metadata{Client: NewClient(ClientConfig{Name: "metadata", MaxBody: 1024})}
	if _, err := m.Image(context.Background(), big.URL+"/x.json"); err == nil {
		t.Fatal("oversized body accepted")
	}
}

func TestMetadataImageAndIPFSRewrite(t *testing.T) {
	gw := newUpstream(t, 200, []byte(`{"name":"Gooberg #2235","image":"ipfs://bafyimage/2235.png"}`))
	m := Metadata{Client: client("metadata"), Gateway: gw.URL + "/"}
	for in, want := range map[string]string{
		"ipfs://bafyx/1.json":                    gw.URL + "/ipfs/bafyx/1.json",
		"ipfs://ipfs/bafyx":                      gw.URL + "/ipfs/bafyx",
		"https://nftstorage.link/ipfs/bafyx/2.j": gw.URL + "/ipfs/bafyx/2.j",
		"https://arweave.net/abc":                "https://arweave.net/abc",
	} {
		if got := m.Rewrite(in); got != want {
			t.Errorf("Rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	img, err := m.Image(context.Background(), "https://nftstorage.link/ipfs/bafymeta/2235.json")
	if err != nil || img != gw.URL+"/ipfs/bafyimage/2235.png" {
		t.Fatalf("image %q %v", img, err)
	}
	if r := gw.last.Load().(*http.Request); r.URL.Path != "/ipfs/bafymeta/2235.json" {
		t.Fatalf("fetched %s", r.URL.Path)
	}
	for _, uri := range []string{"file:///etc/passwd", "ftp://x/y", "not a uri", ""} {
		if _, err := m.Image(context.Background(), uri); err == nil {
			t.Errorf("Image(%q) fetched", uri)
		}
	}
	gw.set(200, `{"image":"javascript:alert(1)"}`)
	if img, err := m.Image(context.Background(), "ipfs://bafy/3.json"); err != nil || img != "" {
		t.Fatalf("non-http image kept: %q %v", img, err)
	}
}

func TestDecimal(t *testing.T) {
	for in, want := range map[string]string{"13.96": "13.96", "1.396e1": "13.96", "100.170": "100.17", "2.5e4": "25000",
		"1E-8": "0.00000001", "-3.5": "-3.5", "0": "0", "-0": "0"} {
		if got, err := Decimal(jsonNumber(in)); err != nil || got != want {
			t.Errorf("Decimal(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"NaN", "Inf", "1e99999", "1e-99999", "0x10", "", "1,5", "1.2.3", "1e40"} {
		if got, err := Decimal(jsonNumber(in)); err == nil {
			t.Errorf("Decimal(%q) = %q, want error", in, got)
		}
	}
	for _, in := range []string{"0", "-1", "0.000", "-0.5"} {
		if _, err := Positive(in); err == nil {
			t.Errorf("Positive(%q) accepted", in)
		}
	}
}

func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"13.96", "1e5", "-0", "1e-36", "99999999999999999999.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Positive(s)
		if err != nil {
			return
		}
		if p == "0" || strings.HasPrefix(p, "-") || strings.ContainsAny(p, "eE+ ") {
			t.Fatalf("Positive(%q) = %q", s, p)
		}
	})
}

func jsonNumber(s string) any { return json.Number(s) }

// FuzzDexScreenerPairs feeds arbitrary bodies to the pair decoder and chooser: no panic, and a
// chosen pair always has a positive price and non-negative figures.
func FuzzDexScreenerPairs(f *testing.F) {
	f.Add(fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	f.Add([]byte(`[{"baseToken":{"address":"` + WrappedSOLMint + `"},"priceUsd":"0.5","liquidity":{"usd":-1},"marketCap":"x","volume":{"h24":1e3}}]`))
	f.Add([]byte(`{"pairs":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pairs, err := decodePairs(body)
		if err != nil {
			return
		}
		p, found, err := choosePair(pairs, WrappedSOLMint)
		if err != nil || !found {
			return
		}
		if _, err := Positive(p.PriceUSD); err != nil {
			t.Fatalf("chosen price %q", p.PriceUSD)
		}
		for _, v := range []string{p.LiquidityUSD, p.MarketCapUSD, p.Volume24hUSD} {
			if strings.HasPrefix(v, "-") {
				t.Fatalf("negative figure in %+v", p)
			}
		}
	})
}
