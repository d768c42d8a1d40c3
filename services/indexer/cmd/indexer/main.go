// Command indexer runs the indexer service. Configuration comes from the environment and an
// optional .env file; see the README's configuration table.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/indexer"
)

// Stamped by the build (-ldflags "-X main.version=... -X main.commit=...").
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "indexer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	vars, err := config.Environ(os.Environ(), ".env")
	if err != nil {
		return err
	}
	cfg, err := indexer.LoadConfig(vars)
	if err != nil {
		return err
	}
	cfg.Version = version + "+" + commit
	log, err := observe.NewLogger(os.Stdout, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return fmt.Errorf("config: LOG_LEVEL/LOG_FORMAT: %w", err)
	}
	log.Info("starting indexer", config.Attrs(cfg)...)

	// Run gets the signal context; once it is cancelled, Run has ShutdownTimeout to return.
	errc := make(chan error, 1)
	go func() { errc <- indexer.Run(ctx, cfg, log) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-errc:
		log.Info("stopped")
		return err
	case <-time.After(cfg.ShutdownTimeout):
		return fmt.Errorf("shutdown took longer than %s", cfg.ShutdownTimeout)
	}
}
