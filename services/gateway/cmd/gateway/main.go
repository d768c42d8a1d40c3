// Command gateway runs the gateway service. Configuration comes from the environment and an optional
// .env file; see services/gateway/README.md for every variable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/solcrowd/backend/libs/lifecycle"
	"github.com/solcrowd/backend/services/gateway"
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
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	return lifecycle.Main(ctx, lifecycle.Service[gateway.Config]{
		Name:    "gateway",
		Version: version + "+" + commit,
		Load:    gateway.LoadConfig,
		Stamp:   func(c *gateway.Config) { c.Version = version + "+" + commit },
		Run:     gateway.Run,
	}, os.Environ(), os.Stdout)
}
