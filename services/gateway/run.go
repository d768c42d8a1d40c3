// Package gateway is the gateway service. Gateway is the only public face: REST, OpenAPI docs, QR codes and WebSockets.
//
// Run wires the service from its Config; the binary in cmd/gateway and the development stack
// (make run) both call it, so development runs exactly the production code.
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/gateway/api"
	"github.com/solcrowd/backend/services/gateway/fanout"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	return RunWithListener(ctx, cfg, log, nil)
}

// RunWithListener is Run that reports the bound API address to ready (useful with HTTP_ADDR
// ":0" in tests and the development stack).
func RunWithListener(ctx context.Context, cfg Config, log *slog.Logger, ready func(net.Addr)) error {
	reg := observe.NewRegistry()
	health := observe.NewHealth()

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: "gateway"}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)

	hub, err := fanout.New(conn.JS, fanout.Options{
		AllowedOrigins:  cfg.WSAllowedOrigins,
		SendQueue:       cfg.WSSendQueue,
		MaxMessageBytes: cfg.WSMaxMessageBytes,
		PingInterval:    cfg.WSPingInterval,
		WriteTimeout:    cfg.WSWriteTimeout,
		Log:             log,
		Registry:        reg,
	})
	if err != nil {
		return err
	}
	health.Add("fanout", hub.Check)

	router, err := api.New(api.NewBackend(conn, cfg.RequestTimeout).WithReadCache(cfg.ReadCacheTTL), api.Options{
		AdminAPIKey:           cfg.AdminAPIKey.Reveal(),
		CORSOrigins:           cfg.CORSOrigins,
		TrustedProxies:        cfg.TrustedProxies,
		RateLimitWritesPerMin: cfg.RateLimitWritesPerMin,
		MaxBodyBytes:          cfg.MaxBodyBytes,
		QRLabel:               cfg.QRLabel,
		Version:               cfg.Version,
		Log:                   log,
		Health:                health,
		Registry:              reg,
		WebSocket:             hub,
	})
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return hub.Run(ctx) })
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, nil)
	})
	g.Go(func() error {
		return observe.Serve(ctx, cfg.HTTPAddr, router, cfg.ShutdownTimeout, log, ready)
	})
	log.Info("gateway running", "http", cfg.HTTPAddr, "ops", cfg.OpsAddr, "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}
