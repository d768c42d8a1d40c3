// Package indexer is the indexer service. Indexer turns Solana activity on watched escrows into contribution events.
//
// Run wires the service from its Config; the binary in cmd/indexer and the development stack
// (make run) both call it, so development runs exactly the production code.
//
// Guarantees (design §3–§4): every successful transfer into a watched escrow is published on
// contribution.confirmed and later on contribution.finalized or contribution.dropped, each with a
// dedup id built from (signature, transfer index, state), so that retries, restarts, the
// live/backfill overlap and several instances at once store every event once. A per-escrow
// checkpoint in KV INDEXER moves forward only over signatures whose events JetStream has
// acknowledged and whose finality is settled, so a restart resumes without gaps.
package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	return run(ctx, cfg, log, nil)
}

// run is Run with a hook that receives the ops address once it is bound (tests pass port 0).
func run(ctx context.Context, cfg Config, log *slog.Logger, opsReady func(net.Addr)) error {
	if err := cfg.check(); err != nil {
		return err
	}
	reg := observe.NewRegistry()
	health := observe.NewHealth()
	m := newMetrics(reg)

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: events.ServiceIndexer}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)
	kv, err := conn.KV(ctx, events.BucketIndexer)
	if err != nil {
		return err
	}
	client := solrpc.New(cfg.SolanaRPCURL, solrpc.Options{RPS: cfg.RPCRPS, Timeout: cfg.RPCTimeout, OnAttempt: m.onAttempt})
	ix := newIndexer(cfg, log, conn, client, kv, m)
	health.Add("solana", ix.checkChain)

	svc, err := conn.NewService(events.ServiceIndexer, cfg.Version, log)
	if err != nil {
		return err
	}
	defer svc.Stop()
	if err := ix.registerHandlers(svc); err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, opsReady)
	})
	g.Go(func() error { return ix.run(ctx) })
	log.Info("indexer running", "ops", cfg.OpsAddr, "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("indexer: %w", err)
	}
	return nil
}
