// Package pricer is the pricer service. Pricer answers what a token is and what it is worth.
//
// Run wires the service from its Config; the binary in cmd/pricer and the development stack
// (make run) both call it, so development runs exactly the production code.
package pricer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/observe"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	reg := observe.NewRegistry()
	health := observe.NewHealth()

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: events.ServicePricer}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, nil)
	})
	log.Info("pricer running", "ops", cfg.OpsAddr, "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("pricer: %w", err)
	}
	return nil
}
