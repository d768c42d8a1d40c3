package pricer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/solana/soltest"
	"github.com/solcrowd/backend/services/pricer/market"
	"github.com/solcrowd/backend/services/pricer/onchain"
)

// tokenRig is Tokens wired to the simulator, a DexScreener replay and an IPFS gateway.
type tokenRig struct {
	chain   *soltest.Server
	dex     *upstream
	gateway *upstream
	tokens  *Tokens
	now     time.Time
	mu      sync.Mutex
}

func newTokenRig(t *testing.T, dexBody []byte) *tokenRig {
	r := &tokenRig{chain: chain(t), now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	r.dex = newUpstream(t, 200, dexBody)
	r.gateway = newUpstream(t, 200, []byte(`{"name":"Gooberg #2235","image":"ipfs://bafyimg/2235.png"}`))
	mk := func(name string) *market.Client {
		return market.NewClient(market.ClientConfig{Name: name, Timeout: time.Second})
	}
	r.tokens = NewTokens(rpcFor(r.chain),
		market.DexScreener{Client: mk("dexscreener"), BaseURL: r.dex.URL},
		market.Metadata{Client: mk("metadata"), Gateway: r.gateway.URL},
		TokenConfig{MetadataTTL: time.Hour, MarketTTL: time.Minute, HoldersTTL: time.Hour, NotFoundTTL: 10 * time.Second, Now: r.clock}, discard())
	return r
}

func (r *tokenRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *tokenRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func TestTokenInfoMetaplexFixture(t *testing.T) {
	r := newTokenRig(t, []byte(`[]`))
	info, err := r.tokens.Info(context.Background(), goobergMint, false)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Gooberg #2235" || info.Symbol != "TGB" || info.MetadataURI != goobergURI {
		t.Fatalf("metadata %q %q %q", info.Name, info.Symbol, info.MetadataURI)
	}
	if info.Mint != goobergMint || info.Decimals != 0 || info.Supply != 1 || info.TokenProgram != "spl-token" {
		t.Fatalf("mint %+v", info)
	}
	if info.ImageURL != r.gateway.URL+"/ipfs/bafyimg/2235.png" {
		t.Fatalf("image %q", info.ImageURL)
	}
	if info.PriceUSD != "" || info.Stale || info.PumpFun != nil {
		t.Fatalf("market %+v", info)
	}
}

func TestTokenInfoDexScreenerFixture(t *testing.T) {
	r := newTokenRig(t, fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	info, err := r.tokens.Info(context.Background(), wsolMint, false)
	if err != nil {
		t.Fatal(err)
	}
	if info.PriceUSD != "100.17" || info.LiquidityUSD != "14247194.46" || info.Volume24hUSD != "12461528.51" ||
		info.Source != "raydium" || info.PairAddress != "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2" || info.MarketCapUSD != "" {
		t.Fatalf("market %+v", info)
	}
	// No metadata on chain: name and symbol come from the pair's base token.
	if info.Name != "Wrapped SOL" || info.Symbol != "SOL" || info.Decimals != 9 {
		t.Fatalf("fallback %+v", info)
	}
}

func TestTokenInfoPumpFunAndToken2022(t *testing.T) {
	mint := solana.NewWallet().PublicKey()
	r := newTokenRig(t, []byte(`[{"chainId":"solana","dexId":"pumpfun","pairAddress":"P1","baseToken":{"address":"`+mint.String()+
		`","name":"x","symbol":"y"},"priceUsd":"0.0000042","liquidity":{"usd":0},"marketCap":4200,"fdv":4200,"volume":{"h24":12.5}}]`))
	// A Token-2022 mint carrying its own metadata (NUL-padded name) and a live bonding curve.
	data := append(mintData(1_000_000_000_000_000, 6), make([]byte, 165-82)...)
	data = append(data, 1)
	data = append(data, tlvMetadata("Pump Coin\x00\x00\x00", "PUMP", "ipfs://bafymeta/p.json")...)
	r.chain.SetAccount(mint, soltest.Account{Lamports: 1, Owner: solana.Token2022ProgramID, Data: data})
	curve, _ := onchain.BondingCurvePDA(mint)
	cd := []byte{23, 183, 248, 55, 96, 216, 172, 96}
	cd = append(cd, make([]byte, 40)...)
	cd = append(cd, 0)
	r.chain.SetAccount(curve, soltest.Account{Lamports: 1, Owner: onchain.PumpFunProgram, Data: cd})

	info, err := r.tokens.Info(context.Background(), mint.String(), false)
	if err != nil {
		t.Fatal(err)
	}
	if info.TokenProgram != "spl-token-2022" || info.Name != "Pump Coin" || info.Symbol != "PUMP" || info.MetadataURI != "ipfs://bafymeta/p.json" {
		t.Fatalf("token-2022 %+v", info)
	}
	if info.PumpFun == nil || info.PumpFun.Complete || info.PumpFun.BondingCurve != curve.String() || info.Launchpad != "pump.fun" {
		t.Fatalf("pump.fun %+v %+v", info, info.PumpFun)
	}
	if info.PriceUSD != "0.0000042" || info.MarketCapUSD != "4200" || info.Supply != 1_000_000_000_000_000 || info.ImageURL != r.gateway.URL+"/ipfs/bafyimg/2235.png" {
		t.Fatalf("figures %+v", info)
	}
}

func tlvMetadata(name, symbol, uri string) []byte {
	v := make([]byte, 64)
	for _, s := range []string{name, symbol, uri} {
		v = append(v, byte(len(s)), 0, 0, 0)
		v = append(v, s...)
	}
	v = append(v, 0, 0, 0, 0)
	return append([]byte{19, 0, byte(len(v)), byte(len(v) >> 8)}, v...)
}

func TestTokenInfoErrors(t *testing.T) {
	r := newTokenRig(t, []byte(`[]`))
	ctx := context.Background()
	for _, bad := range []string{"", "abc", "0OIl" + strings.Repeat("1", 40), strings.Repeat("z", 200), goobergMint + " "} {
		_, err := r.tokens.Info(ctx, bad, false)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Field != "mint" {
			t.Errorf("Info(%q) err %v, want invalid field mint", bad, err)
		}
	}
	for name, mint := range map[string]string{
		"no account":       solana.NewWallet().PublicKey().String(),
		"recorded null":    "6F8dWS3nXx4xFH3QdCprFC7Q5pVQ8EHTWC7HQVkBXoNR",
		"pyth account":     pythAccount,
		"metadata account": "9VHphpWFmUxVHxzWyeYJYYbQADWZ7X6PLzyWER8Lc3k2",
		"system program":   solana.SystemProgramID.String(),
	} {
		if _, err := r.tokens.Info(ctx, mint, false); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("%s: err %v, want not_found", name, err)
		}
	}
	if got := r.tokens.Recent(time.Time{}); len(got) != 0 {
		t.Fatalf("failed lookups tracked: %v", got)
	}
	// Not-a-mint answers are remembered briefly: repeats cost no RPC call until NotFoundTTL passes.
	calls := r.chain.Calls()["getMultipleAccounts"]
	for range 5 {
		if _, err := r.tokens.Info(ctx, pythAccount, false); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := r.chain.Calls()["getMultipleAccounts"]; n != calls {
		t.Fatalf("negative answers not cached: %d → %d calls", calls, n)
	}
	r.advance(11 * time.Second)
	if _, err := r.tokens.Info(ctx, pythAccount, false); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatal(err)
	}
	if n := r.chain.Calls()["getMultipleAccounts"]; n != calls+1 {
		t.Fatalf("negative cache did not expire: %d → %d calls", calls, n)
	}
}

func TestTokenInfoMarketFailureKeepsDataStale(t *testing.T) {
	r := newTokenRig(t, fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	ctx := context.Background()
	if _, err := r.tokens.Info(ctx, wsolMint, false); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{`garbage`, `[{"baseToken":{"address":"` + wsolMint + `"},"priceUsd":"0"}]`} {
		r.dex.set(200, body)
		r.advance(2 * time.Minute)
		info, err := r.tokens.Info(ctx, wsolMint, false)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && (!info.Stale || info.PriceUSD != "100.17") {
			t.Fatalf("garbage: %+v", info)
		}
		// A listing whose only pair has a zero price means "no usable market": cleared, never "0".
		if i == 1 && (info.Stale || info.PriceUSD != "") {
			t.Fatalf("zero-price pair: %+v", info)
		}
	}
}

func TestTokenInfoCacheTTLs(t *testing.T) {
	r := newTokenRig(t, fixtures.Market("dexscreener-tokens-v1-solana-wsol.json"))
	ctx := context.Background()
	for range 3 {
		if _, err := r.tokens.Info(ctx, goobergMint, false); err != nil {
			t.Fatal(err)
		}
	}
	if r.chain.Calls()["getMultipleAccounts"] != 1 || r.dex.hits.Load() != 1 {
		t.Fatalf("cached lookups went upstream: %v dex %d", r.chain.Calls(), r.dex.hits.Load())
	}
	r.advance(2 * time.Minute) // market expires, metadata does not
	if _, err := r.tokens.Info(ctx, goobergMint, false); err != nil {
		t.Fatal(err)
	}
	if r.chain.Calls()["getMultipleAccounts"] != 1 || r.dex.hits.Load() != 2 {
		t.Fatalf("market TTL: %v dex %d", r.chain.Calls(), r.dex.hits.Load())
	}
	if _, err := r.tokens.Info(ctx, goobergMint, true); err != nil { // refresh skips the cache
		t.Fatal(err)
	}
	if r.chain.Calls()["getMultipleAccounts"] != 2 || r.dex.hits.Load() != 3 || r.gateway.hits.Load() != 1 {
		t.Fatalf("refresh: %v dex %d gateway %d", r.chain.Calls(), r.dex.hits.Load(), r.gateway.hits.Load())
	}
}

// TestTokenInfoConcurrentLookupsCollapse: 100 simultaneous requests for one uncached mint make one
// request to each upstream: one getMultipleAccounts, one DexScreener call, one metadata fetch.
func TestTokenInfoConcurrentLookupsCollapse(t *testing.T) {
	r := newTokenRig(t, []byte(`[]`))
	r.dex.mu.Lock()
	r.dex.delay = 50 * time.Millisecond // keep the flight open while the callers pile up
	r.dex.mu.Unlock()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			info, err := r.tokens.Info(context.Background(), goobergMint, false)
			if err == nil && info.Name != "Gooberg #2235" {
				err = errors.New("wrong name " + info.Name)
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := r.chain.Calls()
	if calls["getMultipleAccounts"] != 1 || r.dex.hits.Load() != 1 || r.gateway.hits.Load() != 1 {
		t.Fatalf("upstream lookups: rpc %v dex %d gateway %d", calls, r.dex.hits.Load(), r.gateway.hits.Load())
	}
}

func TestTokenInfoHolders(t *testing.T) {
	r := newTokenRig(t, []byte(`[]`))
	r.tokens.cfg.Holders = true
	auth := solana.NewWallet().PublicKey()
	m := r.chain.CreateMint(auth, 6, false)
	r.chain.MintTo(m, solana.NewWallet().PublicKey(), 5)
	r.chain.MintTo(m, solana.NewWallet().PublicKey(), 7)
	info, err := r.tokens.Info(context.Background(), m.String(), false)
	if err != nil {
		t.Fatal(err)
	}
	if info.HoldersCount == nil || *info.HoldersCount != 2 {
		t.Fatalf("holders %v", info.HoldersCount)
	}
	if _, err := r.tokens.Info(context.Background(), m.String(), false); err != nil {
		t.Fatal(err)
	}
	if n := r.chain.Calls()["getProgramAccounts"]; n != 1 {
		t.Fatalf("holder count not cached: %d calls", n)
	}
}
