// Package lifecycle is what every service binary does around its Run function: read the
// configuration from the environment and .env, build the logger, log the effective configuration
// with secrets masked, run the service, and on SIGINT/SIGTERM give it ShutdownTimeout to stop.
// A service's main calls Main and nothing else, so the four binaries cannot drift apart.
package lifecycle

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/observe"
)

// Configured is a service config that embeds config.Common.
type Configured interface{ Shared() config.Common }

// Service describes one service binary.
type Service[C Configured] struct {
	Name string
	// Version is the build stamp, logged at start.
	Version string
	// Load parses the configuration from the merged environment.
	Load func(vars map[string]string) (C, error)
	// Stamp, when set, records build facts (the version) in the loaded configuration.
	Stamp func(*C)
	// Run runs the service until ctx ends.
	Run func(ctx context.Context, cfg C, log *slog.Logger) error
}

// Main runs s with the process environment environ (plus ./.env, which it overrides), logging to
// stdout. It returns when Run returns. After ctx is cancelled Run has the configured
// ShutdownTimeout to return; past it Main returns an error without waiting further, so the
// process can exit instead of hanging.
func Main[C Configured](ctx context.Context, s Service[C], environ []string, stdout io.Writer) error {
	vars, err := config.Environ(environ, ".env")
	if err != nil {
		return err
	}
	cfg, err := s.Load(vars)
	if err != nil {
		return err
	}
	if s.Stamp != nil {
		s.Stamp(&cfg)
	}
	shared := cfg.Shared()
	log, err := observe.NewLogger(stdout, shared.LogFormat, shared.LogLevel)
	if err != nil {
		return fmt.Errorf("config: LOG_LEVEL/LOG_FORMAT: %w", err)
	}
	log.Info("starting "+s.Name, append([]any{"version", s.Version}, config.Attrs(cfg)...)...)

	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, cfg, log) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-errc:
		log.Info("stopped " + s.Name)
		return err
	case <-time.After(shared.ShutdownTimeout):
		return fmt.Errorf("shutdown took longer than %s", shared.ShutdownTimeout)
	}
}
