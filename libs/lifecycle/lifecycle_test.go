package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/lifecycle"
)

type cfg struct {
	config.Common
	Key     config.Secret `env:"KEY"`
	Version string        `env:"-"`
}

func load(vars map[string]string) (cfg, error) {
	var c cfg
	err := config.Parse(&c, vars)
	return c, err
}

type buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestMainRunsWithStampedConfigAndMasksSecrets(t *testing.T) {
	var out buffer
	var got cfg
	err := lifecycle.Main(context.Background(), lifecycle.Service[cfg]{
		Name:  "svc",
		Load:  load,
		Stamp: func(c *cfg) { c.Version = "1.2.3" },
		Run: func(_ context.Context, c cfg, _ *slog.Logger) error {
			got = c
			return nil
		},
	}, []string{"KEY=topsecret", "LOG_FORMAT=json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.2.3" || got.Key.Reveal() != "topsecret" {
		t.Fatalf("config not passed through: %+v", got)
	}
	if strings.Contains(out.String(), "topsecret") || !strings.Contains(out.String(), `"KEY":"****"`) {
		t.Fatalf("log: %s", out.String())
	}
}

func TestMainReportsConfigErrors(t *testing.T) {
	err := lifecycle.Main(context.Background(), lifecycle.Service[cfg]{Name: "svc", Load: load,
		Run: func(context.Context, cfg, *slog.Logger) error { return errors.New("must not run") }},
		[]string{"SHUTDOWN_TIMEOUT=soon"}, &buffer{})
	if err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
		t.Fatalf("want an error naming SHUTDOWN_TIMEOUT, got %v", err)
	}
}

func TestMainGivesUpAfterTheShutdownTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	err := lifecycle.Main(ctx, lifecycle.Service[cfg]{Name: "svc", Load: load,
		Run: func(ctx context.Context, _ cfg, _ *slog.Logger) error {
			cancel()  // a signal arrives...
			<-release // ...and the service never stops
			return nil
		}}, []string{"SHUTDOWN_TIMEOUT=50ms"}, &buffer{})
	if err == nil || !strings.Contains(err.Error(), "shutdown took longer") {
		t.Fatalf("want a shutdown timeout error, got %v", err)
	}
}

func TestMainReturnsTheServiceError(t *testing.T) {
	want := errors.New("listen :8000: address in use")
	err := lifecycle.Main(context.Background(), lifecycle.Service[cfg]{Name: "svc", Load: load,
		Run: func(context.Context, cfg, *slog.Logger) error { return want }}, nil, &buffer{})
	if !errors.Is(err, want) {
		t.Fatalf("got %v", err)
	}
}
