// Package campaign is the campaign service. Campaign owns Postgres: campaigns, the contribution
// ledger and the token cache.
//
// Run wires the service from its Config; the binary in cmd/campaign and the development stack
// (make run) both call it, so development runs exactly the production code.
package campaign

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"github.com/solcrowd/backend/services/campaign/postgres"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start:
// Postgres (migrated), NATS, the request/reply endpoints, the ledger consumer, the outbox relay,
// the status scheduler, the token cache watcher and the ops server.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	reg := observe.NewRegistry()
	health := observe.NewHealth()

	store, err := postgres.Open(ctx, cfg.DatabaseURL, log, postgres.Options{MaxConns: cfg.DBMaxConns, CreateDatabase: cfg.CreateDatabase})
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	defer store.Close()
	health.Add("postgres", store.Ping)

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: events.ServiceCampaign}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)

	m := newMetrics(reg)
	relay := newRelay(store, conn, log, m, cfg.OutboxPoll)
	svc := campaigns.NewService(store, pricer{conn: conn, timeout: cfg.PricerTimeout}, campaigns.Rules{
		Wallet: cfg.Wallet, MaxGoal: cfg.MaxGoal, MaxHorizon: cfg.MaxHorizon, LateGrace: cfg.LateGrace,
	}, nil)
	svc.Changed = relay.Kick

	ms, err := conn.NewService(events.ServiceCampaign, cfg.Version, log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	if err := registerEndpoints(ms, svc); err != nil {
		return fmt.Errorf("campaign: endpoints: %w", err)
	}
	ledger := newLedger(store, conn, log, m, LedgerConfig{
		Durable: cfg.LedgerDurable, Batch: cfg.LedgerBatch, AckWait: cfg.LedgerAckWait, MaxDeliver: cfg.LedgerMaxDeliver,
	}, relay.Kick)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ledger.Run(ctx) })
	g.Go(func() error { return relay.Run(ctx) })
	g.Go(func() error { return runScheduler(ctx, store, cfg.SchedulerInterval, log, m, relay.Kick) })
	g.Go(func() error { return watchTokens(ctx, conn, store, log, m) })
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, cfg.opsReady)
	})
	log.Info("campaign running", "ops", cfg.OpsAddr, "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	return nil
}
