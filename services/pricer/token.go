package pricer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
	"github.com/solcrowd/backend/services/pricer/market"
	"github.com/solcrowd/backend/services/pricer/onchain"
	"golang.org/x/sync/singleflight"
)

// MarketSource finds a token's market data (DexScreener in production).
type MarketSource interface {
	Token(ctx context.Context, mint string) (p market.Pair, found bool, err error)
}

// ImageSource resolves a metadata URI to the token's image URL.
type ImageSource interface {
	Image(ctx context.Context, uri string) (string, error)
}

// TokenConfig tunes Tokens.
type TokenConfig struct {
	MetadataTTL time.Duration // mint, metadata, image, bonding curve
	MarketTTL   time.Duration // DexScreener figures
	HoldersTTL  time.Duration
	// NotFoundTTL remembers that a mint does not exist, so repeated requests for garbage do not
	// each cost an RPC call; kept short because a mint may be created a moment later.
	NotFoundTTL time.Duration
	Holders     bool          // count holders with getProgramAccounts (often disabled on public RPC)
	Timeout     time.Duration // bounds one whole lookup, whoever asked for it
	MaxEntries  int           // cache size bound
	Now         func() time.Time
}

// Tokens answers "what is this mint" from the chain first, then the market. Lookups are cached
// per field kind and concurrent lookups of one mint are collapsed into one.
type Tokens struct {
	rpc    AccountReader
	market MarketSource
	images ImageSource
	cfg    TokenConfig
	log    *slog.Logger
	flight singleflight.Group

	mu       sync.Mutex
	cache    map[string]*tokenEntry
	recent   map[string]time.Time // mint → last time a client asked for it
	notFound map[string]time.Time // mint → when it was found not to be a mint
}

type tokenEntry struct {
	info      events.TokenInfo
	chainAt   time.Time // last successful chain read
	marketAt  time.Time // last market attempt (success or "no pairs")
	holdersAt time.Time
	chainErr  bool // the last chain refresh failed; info holds older chain data
	marketErr bool // the last market refresh failed; info holds older market data
}

// NewTokens returns a Tokens. market and images may be nil (no market data, no images).
func NewTokens(rpc AccountReader, mkt MarketSource, images ImageSource, cfg TokenConfig, log *slog.Logger) *Tokens {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	return &Tokens{rpc: rpc, market: mkt, images: images, cfg: cfg, log: log,
		cache: map[string]*tokenEntry{}, recent: map[string]time.Time{}, notFound: map[string]time.Time{}}
}

// ParseMint validates a mint address from a request; the error names the field "mint".
func ParseMint(s string) (solana.PublicKey, error) {
	pk, err := address.Parse(s)
	if err != nil {
		return solana.PublicKey{}, apperr.InvalidField("mint", "%v", err)
	}
	return pk, nil
}

// Info returns what is known about mint. A cached answer is returned while every field kind is
// within its TTL (unless refresh); otherwise the stale kinds are fetched again, once for all
// concurrent callers. An unknown mint or an account that is not a mint is not_found; a chain
// failure with nothing cached is unavailable.
func (t *Tokens) Info(ctx context.Context, mint string, refresh bool) (events.TokenInfo, error) {
	info, err := t.info(ctx, mint, refresh, t.cfg.MarketTTL)
	if err == nil {
		// Only mints that exist are tracked, so a client cannot make the refresh loop chase garbage.
		t.mu.Lock()
		if _, ok := t.recent[info.Mint]; !ok && len(t.recent) >= t.cfg.MaxEntries {
			for k := range t.recent { // bounded memory; the refresh loop is best effort anyway
				delete(t.recent, k)
				break
			}
		}
		t.recent[info.Mint] = t.cfg.Now()
		t.mu.Unlock()
	}
	return info, err
}

// info is Info without tracking the mint as recently requested, with the market TTL as a
// parameter: the refresh loop uses a TTL shorter than its period so every round refreshes.
func (t *Tokens) info(ctx context.Context, mint string, refresh bool, marketTTL time.Duration) (events.TokenInfo, error) {
	pk, err := ParseMint(mint)
	if err != nil {
		return events.TokenInfo{}, err
	}
	mint = pk.String()
	t.mu.Lock()
	if at, ok := t.notFound[mint]; ok && !refresh {
		if t.cfg.Now().Sub(at) < t.cfg.NotFoundTTL {
			t.mu.Unlock()
			return events.TokenInfo{}, apperr.NotFoundf("%s is not a token mint", mint)
		}
		delete(t.notFound, mint)
	}
	e := t.cache[mint]
	if e != nil && !refresh && t.fresh(e, marketTTL) {
		info := e.info
		t.mu.Unlock()
		return info, nil
	}
	t.mu.Unlock()

	key := mint
	if refresh {
		key += "/refresh"
	}
	ch := t.flight.DoChan(key, func() (any, error) {
		// The shared lookup must not die with the first caller's context: it serves them all.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.Timeout)
		defer cancel()
		return t.lookup(lctx, pk, refresh, marketTTL)
	})
	select {
	case <-ctx.Done():
		return events.TokenInfo{}, apperr.Unavailablef("token lookup timed out")
	case r := <-ch:
		if r.Err != nil {
			return events.TokenInfo{}, r.Err
		}
		return r.Val.(events.TokenInfo), nil
	}
}

// Recent lists the mints clients asked about since `since`, and forgets older ones.
func (t *Tokens) Recent(since time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for m, at := range t.recent {
		if at.Before(since) {
			delete(t.recent, m)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (t *Tokens) fresh(e *tokenEntry, marketTTL time.Duration) bool {
	now := t.cfg.Now()
	if e.chainErr || now.Sub(e.chainAt) >= t.cfg.MetadataTTL {
		return false
	}
	if t.market != nil && (e.marketErr || now.Sub(e.marketAt) >= marketTTL) {
		return false
	}
	if t.cfg.Holders && now.Sub(e.holdersAt) >= t.cfg.HoldersTTL {
		return false
	}
	return true
}

// lookup refreshes the stale field kinds of one mint and stores the result.
func (t *Tokens) lookup(ctx context.Context, mint solana.PublicKey, refresh bool, marketTTL time.Duration) (events.TokenInfo, error) {
	key := mint.String()
	now := t.cfg.Now()
	t.mu.Lock()
	var e tokenEntry
	if old := t.cache[key]; old != nil {
		e = *old
	}
	t.mu.Unlock()
	hadChain := !e.chainAt.IsZero()

	// The market read does not depend on the chain read, so it runs alongside it: a lookup costs
	// the slower of the two, not their sum.
	type marketResult struct {
		p     market.Pair
		found bool
		err   error
	}
	var mres chan marketResult
	if t.market != nil && (refresh || e.marketErr || e.marketAt.IsZero() || now.Sub(e.marketAt) >= marketTTL) {
		mres = make(chan marketResult, 1)
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			p, found, err := t.market.Token(mctx, key)
			mres <- marketResult{p, found, err}
		}()
	}

	if refresh || !hadChain || e.chainErr || now.Sub(e.chainAt) >= t.cfg.MetadataTTL {
		if err := t.readChain(ctx, mint, &e); err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) && ae.Code == apperr.NotFound {
				t.forget(key, true)
				return events.TokenInfo{}, err
			}
			if !hadChain {
				t.log.Warn("token chain read failed", "mint", key, "err", err)
				return events.TokenInfo{}, apperr.Unavailablef("token data for %s cannot be read right now", key)
			}
			t.log.Warn("token chain refresh failed; keeping cached data", "mint", key, "err", err)
			e.chainErr = true
		} else {
			e.chainErr = false
			e.chainAt = now
		}
	}
	if mres != nil {
		r := <-mres
		t.applyMarket(key, &e, r.p, r.found, r.err)
	}
	if t.cfg.Holders && (refresh || now.Sub(e.holdersAt) >= t.cfg.HoldersTTL) {
		if n, err := t.countHolders(ctx, mint, e.info.TokenProgram); err != nil {
			t.log.Warn("holder count failed", "mint", key, "err", err)
		} else {
			e.info.HoldersCount = &n
			e.holdersAt = now
		}
	}
	e.info.Version = events.Version
	e.info.Mint = key
	e.info.UpdatedAt = now.UTC()
	e.info.Stale = e.chainErr || e.marketErr
	t.store(key, &e)
	return e.info, nil
}

// readChain reads the mint, its Metaplex metadata and its pump.fun bonding curve in one
// getMultipleAccounts call, then the image from the metadata URI.
func (t *Tokens) readChain(ctx context.Context, mint solana.PublicKey, e *tokenEntry) error {
	metaPDA, err := onchain.MetadataPDA(mint)
	if err != nil {
		return err
	}
	curvePDA, err := onchain.BondingCurvePDA(mint)
	if err != nil {
		return err
	}
	res, err := t.rpc.GetMultipleAccountsWithOpts(ctx, []solana.PublicKey{mint, metaPDA, curvePDA},
		&rpc.GetMultipleAccountsOpts{Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return fmt.Errorf("get accounts: %w", err)
	}
	if res == nil || len(res.Value) != 3 {
		return errors.New("get accounts: malformed reply")
	}
	acc := res.Value[0]
	if acc == nil {
		return apperr.NotFoundf("no account exists for mint %s", mint)
	}
	m, err := onchain.DecodeMint(acc.Owner, acc.Data.GetBinary())
	if err != nil {
		t.log.Info("not a mint", "mint", mint, "err", err)
		return apperr.NotFoundf("%s is not a token mint", mint)
	}
	info := &e.info
	oldURI := info.MetadataURI
	info.Decimals = m.Decimals
	info.Supply = m.Supply
	info.TokenProgram = m.Program
	var md *onchain.TokenMetadata
	if m.Metadata != nil {
		md = m.Metadata
	} else if ma := res.Value[1]; ma != nil && ma.Owner.Equals(onchain.MetaplexProgram) {
		if mm, err := onchain.DecodeMetaplexMetadata(ma.Data.GetBinary()); err == nil && mm.Mint.Equals(mint) {
			md = &mm.TokenMetadata
		} else if err != nil {
			t.log.Warn("metaplex metadata undecodable", "mint", mint, "err", err)
		}
	}
	if md != nil {
		info.Name, info.Symbol, info.MetadataURI = md.Name, md.Symbol, md.URI
	}
	info.PumpFun = nil
	if ca := res.Value[2]; ca != nil && ca.Owner.Equals(onchain.PumpFunProgram) {
		if c, err := onchain.DecodeBondingCurve(ca.Data.GetBinary()); err == nil {
			info.PumpFun = &events.PumpFunState{BondingCurve: curvePDA.String(), Complete: c.Complete}
			info.Launchpad = "pump.fun"
		}
	}
	if t.images != nil && info.MetadataURI != "" && (info.MetadataURI != oldURI || info.ImageURL == "") {
		img, err := t.images.Image(ctx, info.MetadataURI)
		if err != nil {
			t.log.Info("token image unavailable", "mint", mint, "err", err)
		} else if img != "" {
			info.ImageURL = img
		}
	}
	return nil
}

// applyMarket updates the market fields. A failure keeps the previous figures and flags them
// stale; "no pairs" clears them (the token has no market), which is not stale.
func (t *Tokens) applyMarket(mint string, e *tokenEntry, p market.Pair, found bool, err error) {
	if err != nil {
		t.log.Warn("market data failed", "mint", mint, "err", err)
		e.marketErr = true
		return
	}
	e.marketErr = false
	e.marketAt = t.cfg.Now()
	info := &e.info
	info.PriceUSD, info.LiquidityUSD, info.MarketCapUSD, info.Volume24hUSD = p.PriceUSD, p.LiquidityUSD, p.MarketCapUSD, p.Volume24hUSD
	info.Source, info.PairAddress = p.DexID, p.PairAddress
	if !found {
		return
	}
	if p.Launchpad != "" {
		info.Launchpad = p.Launchpad
	}
	// The chain is the authority on what a token is called; DexScreener only fills gaps.
	if info.Name == "" {
		info.Name = p.BaseName
	}
	if info.Symbol == "" {
		info.Symbol = p.BaseSymbol
	}
	if info.ImageURL == "" {
		info.ImageURL = p.ImageURL
	}
}

// countHolders counts token accounts of mint with a non-zero balance. Only the 8-byte amount of
// each account is transferred.
func (t *Tokens) countHolders(ctx context.Context, mint solana.PublicKey, program string) (int64, error) {
	prog := solana.TokenProgramID
	filters := []rpc.RPCFilter{{Memcmp: &rpc.RPCFilterMemcmp{Offset: 0, Bytes: solana.Base58(mint[:])}}}
	if program == onchain.ProgramSPLToken2022 {
		prog = solana.Token2022ProgramID
	} else {
		filters = append(filters, rpc.RPCFilter{DataSize: 165})
	}
	off, n := uint64(64), uint64(8)
	res, err := t.rpc.GetProgramAccountsWithOpts(ctx, prog, &rpc.GetProgramAccountsOpts{
		Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed, Filters: filters,
		DataSlice: &rpc.DataSlice{Offset: &off, Length: &n},
	})
	if err != nil {
		return 0, err
	}
	var count int64
	for _, a := range res {
		if a == nil || a.Account == nil {
			continue
		}
		d := a.Account.Data.GetBinary()
		for _, b := range d {
			if b != 0 {
				count++
				break
			}
		}
	}
	return count, nil
}

func (t *Tokens) store(key string, e *tokenEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.cache[key]; !ok && len(t.cache) >= t.cfg.MaxEntries {
		// Evict an arbitrary entry: the cache is a convenience, the upstreams are the truth.
		for k := range t.cache {
			delete(t.cache, k)
			break
		}
	}
	t.cache[key] = e
}

// forget drops a mint from the cache; notFound also remembers it as not a mint for NotFoundTTL.
func (t *Tokens) forget(key string, notFound bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.cache, key)
	delete(t.recent, key)
	if notFound && t.cfg.NotFoundTTL > 0 {
		if len(t.notFound) >= t.cfg.MaxEntries {
			for k := range t.notFound {
				delete(t.notFound, k)
				break
			}
		}
		t.notFound[key] = t.cfg.Now()
	}
}
