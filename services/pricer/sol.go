package pricer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/pricer/market"
	"github.com/solcrowd/backend/services/pricer/onchain"
	"golang.org/x/sync/singleflight"
)

// SOLSource is one place SOL/USD can come from. A source returns a canonical positive decimal or
// an error; it never returns zero.
type SOLSource interface {
	Name() string
	SOLUSD(ctx context.Context) (market.Quote, error)
}

// PythSource reads the Pyth SOL/USD PriceUpdateV2 account over the Solana RPC. It trusts the
// account only when the receiver program owns it, it carries the expected feed id, it is fully
// verified, and its publish time is within MaxAge of Now.
type PythSource struct {
	RPC     AccountReader
	Account solana.PublicKey
	Owner   solana.PublicKey // the Pyth receiver program
	FeedID  [32]byte
	MaxAge  time.Duration
	Now     func() time.Time
}

// Name identifies the source in events.SOLPrice.Source.
func (PythSource) Name() string { return "pyth" }

// SOLUSD reads and checks the price account.
func (p PythSource) SOLUSD(ctx context.Context) (market.Quote, error) {
	res, err := p.RPC.GetAccountInfoWithOpts(ctx, p.Account, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return market.Quote{}, fmt.Errorf("pyth: get account: %w", err)
	}
	if res == nil || res.Value == nil {
		return market.Quote{}, errors.New("pyth: price account not found")
	}
	if !res.Value.Owner.Equals(p.Owner) {
		return market.Quote{}, fmt.Errorf("pyth: price account owned by %s, want %s", res.Value.Owner, p.Owner)
	}
	pu, err := onchain.DecodePriceUpdateV2(res.Value.Data.GetBinary())
	if err != nil {
		return market.Quote{}, err
	}
	if pu.FeedID != p.FeedID {
		return market.Quote{}, fmt.Errorf("pyth: feed id %s, want %s", pu.FeedIDHex(), hex.EncodeToString(p.FeedID[:]))
	}
	if pu.Verification != onchain.VerificationFull {
		return market.Quote{}, errors.New("pyth: price update only partially verified")
	}
	published := time.Unix(pu.PublishTime, 0).UTC()
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	if age := now().Sub(published); age > p.MaxAge {
		return market.Quote{}, fmt.Errorf("pyth: price published %s ago, older than %s", age.Round(time.Second), p.MaxAge)
	}
	usd, err := pu.DecimalString()
	if err != nil {
		return market.Quote{}, fmt.Errorf("pyth: %w", err)
	}
	return market.Quote{USD: usd, At: published}, nil
}

// SOLPrices holds the SOL/USD price: the newest good value from the first source (in configured
// order) that answers, or the last good value marked stale when none does.
type SOLPrices struct {
	sources []SOLSource
	log     *slog.Logger
	flight  singleflight.Group
	metrics *metrics

	mu   sync.Mutex
	last *events.SOLPrice
}

// NewSOLPrices returns a SOLPrices trying sources in order.
func NewSOLPrices(sources []SOLSource, log *slog.Logger) *SOLPrices {
	return &SOLPrices{sources: sources, log: log}
}

// Current returns the held price; ok is false when no value was ever fetched.
func (s *SOLPrices) Current() (events.SOLPrice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return events.SOLPrice{}, false
	}
	return *s.last, true
}

// Refresh asks the sources in order and keeps the first good answer. When every source fails,
// the last good value stays with Stale set and its own UpdatedAt; with no value ever fetched the
// result is a not_found error, never a zero price. Concurrent calls share one round of requests.
func (s *SOLPrices) Refresh(ctx context.Context) (events.SOLPrice, error) {
	v, err, _ := s.flight.Do("sol", func() (any, error) { return s.refresh(ctx) })
	if err != nil {
		return events.SOLPrice{}, err
	}
	return v.(events.SOLPrice), nil
}

func (s *SOLPrices) refresh(ctx context.Context) (events.SOLPrice, error) {
	var errs []error
	for _, src := range s.sources {
		q, err := src.SOLUSD(ctx)
		if err == nil {
			// Re-validate at the boundary: whatever a source returns, only a canonical positive
			// decimal is ever stored.
			q.USD, err = market.Positive(q.USD)
		}
		if err != nil {
			errs = append(errs, err)
			s.metrics.sourceFailed(src.Name())
			s.log.Warn("sol price source failed", "source", src.Name(), "err", err)
			continue
		}
		p := events.SOLPrice{Version: events.Version, USD: q.USD, Source: src.Name(), UpdatedAt: q.At.UTC()}
		s.mu.Lock()
		s.last = &p
		s.mu.Unlock()
		s.metrics.solPrice(false)
		return p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return events.SOLPrice{}, apperr.NotFoundf("no SOL price available yet")
	}
	s.last.Stale = true
	s.metrics.solPrice(true)
	s.log.Warn("every sol price source failed; keeping the last value as stale", "errs", errors.Join(errs...), "usd", s.last.USD, "updated_at", s.last.UpdatedAt)
	return *s.last, nil
}
