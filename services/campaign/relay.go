package campaign

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/services/campaign/campaigns"
)

// Relay publishes the outbox to JetStream. Kick wakes it right after a commit in this process;
// a short poll covers commits of other replicas and events left by a crash.
type Relay struct {
	store campaigns.Store
	conn  *bus.Conn
	log   *slog.Logger
	m     *metrics
	poll  time.Duration
	wake  chan struct{}
	// publish sends one event; tests replace it to simulate a crash around the publish.
	publish func(ctx context.Context, m campaigns.OutboxMessage) error
}

const relayBatch = 200

func newRelay(store campaigns.Store, conn *bus.Conn, log *slog.Logger, m *metrics, poll time.Duration) *Relay {
	r := &Relay{store: store, conn: conn, log: log, m: m, poll: poll, wake: make(chan struct{}, 1)}
	r.publish = r.publishJSON
	return r
}

// Kick asks the relay to run now. It never blocks.
func (r *Relay) Kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) publishJSON(ctx context.Context, m campaigns.OutboxMessage) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := r.conn.PublishJSON(pctx, m.Subject, m.MsgID, json.RawMessage(m.Payload))
	return err
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	lastBacklog := time.Time{}
	for {
		r.flush(ctx)
		if time.Since(lastBacklog) > time.Second {
			if n, lag, err := r.store.OutboxBacklog(ctx, time.Now()); err == nil {
				r.m.outboxBacklog.Set(float64(n))
				r.m.outboxLag.Set(lag.Seconds())
			}
			lastBacklog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-t.C:
		}
	}
}

// flush publishes until the outbox is empty or a publish fails.
func (r *Relay) flush(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := r.store.RelayOutbox(ctx, relayBatch, r.publish)
		r.m.published.Add(float64(n))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("outbox relay", "err", err)
			}
			return
		}
		if n < relayBatch {
			return
		}
	}
}
