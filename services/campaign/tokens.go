package campaign

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
)

// pricer asks the pricer service about a mint over request/reply.
type pricer struct {
	conn    *bus.Conn
	timeout time.Duration
}

// Token implements campaigns.TokenSource.
func (p pricer) Token(ctx context.Context, mint string) (events.TokenInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return bus.Request[events.TokenInfo](ctx, p.conn, events.SubjectPricerToken, events.TokenInfoRequest{Mint: mint})
}

// watchTokens keeps the token cache fresh from the PRICES bucket: every token.<mint> entry the
// pricer writes updates the cached market data of that mint when it has an open campaign (the
// store ignores the others). It rewatches after an error until ctx ends.
func watchTokens(ctx context.Context, conn *bus.Conn, store campaigns.Store, log *slog.Logger, m *metrics) error {
	for ctx.Err() == nil {
		if err := watchTokensOnce(ctx, conn, store, log, m); err != nil && ctx.Err() == nil {
			log.Warn("token watch ended; restarting", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

func watchTokensOnce(ctx context.Context, conn *bus.Conn, store campaigns.Store, log *slog.Logger, m *metrics) error {
	kv, err := conn.KV(ctx, events.BucketPrices)
	if err != nil {
		return err
	}
	w, err := kv.Watch(ctx, events.KeyToken("*"))
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var info events.TokenInfo
			if err := json.Unmarshal(e.Value(), &info); err != nil || info.Version < 1 || info.Version > events.Version {
				log.Warn("ignoring unreadable token entry", "key", e.Key())
				continue
			}
			if info.Mint == "" {
				info.Mint = strings.TrimPrefix(e.Key(), "token.")
			}
			if ok, err := store.RefreshToken(ctx, info); err != nil {
				log.Warn("token cache refresh", "mint", info.Mint, "err", err)
			} else if ok {
				m.tokens.Inc()
			}
		}
	}
}
