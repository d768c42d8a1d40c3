// Command solsim runs the soltest chain simulator standalone: Solana JSON-RPC and PubSub on one
// port, plus the control endpoint under /control/. It is development tooling, never deployed.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/solcrowd/backend/libs/solana/soltest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8899", "listen address (host:port; port 0 picks a free port)")
	interval := flag.Duration("slot-interval", 400*time.Millisecond, "slot duration; 0 advances slots only through /control/advance")
	fixtures := flag.Bool("fixtures", false, "serve the recorded mainnet fixtures")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := soltest.Start(soltest.Config{SlotInterval: *interval, LoadFixtures: *fixtures, Logger: log}, *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "solsim:", err)
		os.Exit(1)
	}
	// The URLs go to stdout, one per line, so scripts can read them.
	fmt.Printf("RPC_URL=%s\nWS_URL=%s\nCONTROL_URL=%s/control/\n", s.URL, s.WSURL, s.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "solsim: close:", err)
	}
}
