// Command pricer runs the pricer service. Configuration comes from the environment and an optional
// .env file; see services/pricer/README.md for every variable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/solcrowd/backend/libs/lifecycle"
	"github.com/solcrowd/backend/services/pricer"
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
		fmt.Fprintln(os.Stderr, "pricer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	return lifecycle.Main(ctx, lifecycle.Service[pricer.Config]{
		Name:    "pricer",
		Version: version + "+" + commit,
		Load:    pricer.LoadConfig,
		Stamp:   func(c *pricer.Config) { c.Version = version + "+" + commit },
		Run:     pricer.Run,
	}, os.Environ(), os.Stdout)
}
