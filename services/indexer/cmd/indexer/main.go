// Command indexer runs the indexer service. Configuration comes from the environment and an optional
// .env file; see services/indexer/README.md for every variable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/solcrowd/backend/libs/lifecycle"
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
	return lifecycle.Main(ctx, lifecycle.Service[indexer.Config]{
		Name:    "indexer",
		Version: version + "+" + commit,
		Load:    indexer.LoadConfig,
		Stamp:   func(c *indexer.Config) { c.Version = version + "+" + commit },
		Run:     indexer.Run,
	}, os.Environ(), os.Stdout)
}
