// Command devstack is `make run`: the whole backend in one process on this machine, with exactly
// the production code of each service (their Run functions), an embedded NATS server with
// JetStream on disk, and Postgres from DATABASE_URL or the local server.
//
// With SOLANA_RPC_URL set it watches that chain. Without it, it starts the chain simulator loaded
// with the recorded mainnet fixtures, a local replay of the recorded price APIs, and a demo load:
// a campaign for a recorded real mint and a steady trickle of real signed transfers to its escrow.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Environ(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}
