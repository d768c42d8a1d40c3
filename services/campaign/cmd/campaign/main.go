// Command campaign runs the campaign service. Configuration comes from the environment and an optional
// .env file; see services/campaign/README.md for every variable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/solcrowd/backend/libs/lifecycle"
	"github.com/solcrowd/backend/services/campaign"
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
		fmt.Fprintln(os.Stderr, "campaign:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	return lifecycle.Main(ctx, lifecycle.Service[campaign.Config]{
		Name:    "campaign",
		Version: version + "+" + commit,
		Load:    campaign.LoadConfig,
		Stamp:   func(c *campaign.Config) { c.Version = version + "+" + commit },
		Run:     campaign.Run,
	}, os.Environ(), os.Stdout)
}
