package pricer

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
)

// KV is where prices are published: the PRICES bucket (jetstream.KeyValue satisfies it). A put is
// itself the update notification: consumers watch the bucket.
type KV interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
}

// WatchList returns the mints of open campaigns.
type WatchList func(ctx context.Context) ([]string, error)

// Service answers the pricer's requests and keeps PRICES current.
type Service struct {
	SOL       *SOLPrices
	Tokens    *Tokens
	KV        KV
	WatchList WatchList // nil = only recently requested mints are refreshed
	Log       *slog.Logger

	RecentWindow time.Duration
	MaxTracked   int
	Now          func() time.Time

	metrics *metrics

	mu        sync.Mutex
	published map[string]string // key → last value written, so unchanged values are not rewritten
}

// SOLPrice is the SOL price endpoint: the held price, or a fresh attempt when none is held yet.
// With no price ever fetched the answer is not_found, never zero.
func (s *Service) SOLPrice(ctx context.Context, _ events.SOLPriceRequest) (events.SOLPrice, error) {
	if p, ok := s.SOL.Current(); ok {
		return p, nil
	}
	p, err := s.SOL.Refresh(ctx)
	if err != nil {
		return events.SOLPrice{}, err
	}
	s.publish(ctx, events.KeySOLUSD, p)
	return p, nil
}

// TokenInfo is the token info endpoint.
func (s *Service) TokenInfo(ctx context.Context, req events.TokenInfoRequest) (events.TokenInfo, error) {
	info, err := s.Tokens.Info(ctx, req.Mint, req.Refresh)
	s.metrics.tokenRequest(err)
	if err != nil {
		return events.TokenInfo{}, err
	}
	s.publish(ctx, events.KeyToken(info.Mint), info)
	return info, nil
}

// Refresh runs one round: SOL, then every tracked mint (open campaigns and recently requested),
// publishing what changed. Market data older than marketAge is refetched.
func (s *Service) Refresh(ctx context.Context, marketAge time.Duration) {
	if p, err := s.SOL.Refresh(ctx); err == nil {
		s.publish(ctx, events.KeySOLUSD, p)
	} else if apperr.CodeOf(err) != apperr.NotFound {
		s.Log.Warn("sol price refresh failed", "err", err)
	}
	for _, m := range s.trackedMints(ctx) {
		if ctx.Err() != nil {
			return
		}
		info, err := s.Tokens.info(ctx, m, false, min(marketAge, s.Tokens.cfg.MarketTTL))
		if err != nil {
			s.Log.Warn("token refresh failed", "mint", m, "err", err)
			continue
		}
		s.publish(ctx, events.KeyToken(info.Mint), info)
	}
}

// RunRefresh refreshes at once and then every interval until ctx ends. Market data older than
// half the interval is refetched each round, so tracked mints are at most one period old.
func (s *Service) RunRefresh(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Refresh(ctx, interval/2)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) trackedMints(ctx context.Context) []string {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	set := map[string]bool{}
	if s.WatchList != nil {
		mints, err := s.WatchList(ctx)
		if err != nil {
			s.Log.Info("watch list unavailable; refreshing recent mints only", "err", err)
		}
		for _, m := range mints {
			if m != "" {
				set[m] = true
			}
		}
	}
	for _, m := range s.Tokens.Recent(now().Add(-s.RecentWindow)) {
		set[m] = true
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	if s.MaxTracked > 0 && len(out) > s.MaxTracked {
		s.Log.Warn("more tracked mints than PRICER_MAX_TRACKED; refreshing the first", "tracked", len(out), "max", s.MaxTracked)
		out = out[:s.MaxTracked]
	}
	return out
}

// publish writes v under key unless the same content (ignoring nothing) was written last.
func (s *Service) publish(ctx context.Context, key string, v any) {
	if s.KV == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.Log.Error("marshal price entry", "key", key, "err", err)
		return
	}
	s.mu.Lock()
	if s.published == nil {
		s.published = map[string]string{}
	}
	same := s.published[key] == string(data)
	s.mu.Unlock()
	if same {
		return
	}
	if _, err := s.KV.Put(ctx, key, data); err != nil {
		s.Log.Warn("publish price entry", "key", key, "err", err)
		return
	}
	s.metrics.kvWrite()
	s.mu.Lock()
	s.published[key] = string(data)
	s.mu.Unlock()
}
