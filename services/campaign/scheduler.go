package campaign

import (
	"context"
	"log/slog"
	"time"

	"github.com/solcrowd/backend/services/campaign/campaigns"
)

// runScheduler closes campaigns whose end time has passed, every interval. Every replica runs
// it; the store's conditional update with SKIP LOCKED closes each campaign exactly once.
func runScheduler(ctx context.Context, store campaigns.Store, interval time.Duration, log *slog.Logger, m *metrics, changed func()) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := store.CloseDue(ctx, time.Now(), 100)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("closing due campaigns", "err", err)
				}
				break
			}
			if n > 0 {
				m.closed.Add(float64(n))
				changed()
			}
			if n < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
