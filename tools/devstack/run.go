package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/libs/solana/soltest"
	"github.com/solcrowd/backend/services/campaign"
	"github.com/solcrowd/backend/services/gateway"
	"github.com/solcrowd/backend/services/indexer"
	"github.com/solcrowd/backend/services/pricer"
	"golang.org/x/sync/errgroup"
)

// Config is the development stack's own configuration; the services read theirs from the same
// environment.
type Config struct {
	DataDir   string        `env:"DATA_DIR" envDefault:".data"`
	NATSPort  int           `env:"DEVSTACK_NATS_PORT" envDefault:"4223"` // 4222 is often taken by a system NATS
	SimAddr   string        `env:"DEVSTACK_SIM_ADDR" envDefault:"127.0.0.1:8899"`
	Demo      bool          `env:"DEVSTACK_DEMO" envDefault:"true"`
	DemoEvery time.Duration `env:"DEVSTACK_DEMO_INTERVAL" envDefault:"2s"`
	LogLevel  string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat string        `env:"LOG_FORMAT" envDefault:"text"`
	HTTPAddr  string        `env:"HTTP_ADDR" envDefault:":8000"`
	// DatabaseURL is where the services keep their data. In simulator mode the default database
	// is recreated at every start, because the simulated chain starts empty too.
	DatabaseURL string `env:"DATABASE_URL"`
	RPCURL      string `env:"SOLANA_RPC_URL"`
}

// run starts the stack with the given process environment (plus .env) and writes logs and the
// banner to out. It returns when ctx ends or a service fails.
func run(ctx context.Context, environ []string, out io.Writer) error {
	vars, err := config.Environ(environ, ".env")
	if err != nil {
		return err
	}
	var cfg Config
	if err := config.Parse(&cfg, vars); err != nil {
		return err
	}
	log, err := observe.NewLogger(out, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	simMode := cfg.RPCURL == ""

	// NATS: the real server, embedded, with JetStream on disk.
	natsDir := filepath.Join(cfg.DataDir, "nats")
	if simMode {
		natsDir = filepath.Join(cfg.DataDir, "nats-sim")
		// The simulated chain starts empty, so old checkpoints and events would point at nothing.
		_ = os.RemoveAll(natsDir)
	}
	if err := os.MkdirAll(natsDir, 0o755); err != nil {
		return err
	}
	ns, err := natstest.Start(natstest.Options{Port: cfg.NATSPort, StoreDir: natsDir, Name: "devstack"})
	if err != nil {
		return fmt.Errorf("start embedded nats on port %d: %w (set DEVSTACK_NATS_PORT to a free port)", cfg.NATSPort, err)
	}
	defer ns.Stop()
	vars["NATS_URL"] = ns.URL()

	// Postgres.
	dbURL, err := preparePostgres(ctx, cfg.DatabaseURL, simMode)
	if err != nil {
		return err
	}
	vars["DATABASE_URL"] = dbURL

	// Solana: the real chain when configured, else the simulator with recorded data.
	var sim *soltest.Server
	var market *http.Server
	escrow := demoKey("escrow").PublicKey() // the demo's escrow; its key is never needed to receive
	if simMode {
		sim, err = soltest.Start(soltest.Config{SlotInterval: 400 * time.Millisecond, LoadFixtures: true, Logger: log.With("part", "simulator")}, cfg.SimAddr)
		if err != nil {
			return fmt.Errorf("start chain simulator on %s: %w (set DEVSTACK_SIM_ADDR)", cfg.SimAddr, err)
		}
		defer sim.Close()
		vars["SOLANA_RPC_URL"] = sim.URL
		vars["SOLANA_WS_URL"] = sim.WSURL
		// A second mint at a fixed address, so a newcomer can create a campaign of their own
		// (the demo's campaign holds USDC's one open campaign). It is a copy of a fresh mint.
		acct, _ := sim.Account(sim.CreateMint(demoKey("mint-authority").PublicKey(), 9, false))
		sim.SetAccount(tryMint, acct)
		marketURL, srv, err := serveLocal(fixtures.MarketReplay())
		if err != nil {
			return err
		}
		market = srv
		defer market.Close()
		for k, v := range fixtures.MarketEnv(marketURL) {
			setDefault(vars, k, v)
		}
		if vars["WALLET"] == "" {
			vars["WALLET"] = escrow.String()
		}
	}

	campaignCfg, err := campaign.LoadConfig(vars)
	if err != nil {
		return err
	}
	indexerCfg, err := indexer.LoadConfig(vars)
	if err != nil {
		return err
	}
	pricerCfg, err := pricer.LoadConfig(vars)
	if err != nil {
		return err
	}
	gatewayCfg, err := gateway.LoadConfig(vars)
	if err != nil {
		return err
	}
	campaignCfg.Version, indexerCfg.Version, pricerCfg.Version, gatewayCfg.Version = "devstack", "devstack", "devstack", "devstack"
	for _, c := range []struct {
		name string
		cfg  any
	}{{"campaign", campaignCfg}, {"indexer", indexerCfg}, {"pricer", pricerCfg}, {"gateway", gatewayCfg}} {
		log.Debug("config", append([]any{"service", c.name}, config.Attrs(c.cfg)...)...)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return campaign.Run(gctx, campaignCfg, log.With("service", "campaign")) })
	g.Go(func() error { return pricer.Run(gctx, pricerCfg, log.With("service", "pricer")) })
	g.Go(func() error { return indexer.Run(gctx, indexerCfg, log.With("service", "indexer")) })
	g.Go(func() error { return gateway.Run(gctx, gatewayCfg, log.With("service", "gateway")) })

	api := "http://" + hostPort(gatewayCfg.HTTPAddr)
	g.Go(func() error {
		// The banner and the demo wait until every service reports ready, so the first request
		// finds all of them answering.
		for _, addr := range []string{campaignCfg.OpsAddr, indexerCfg.OpsAddr, pricerCfg.OpsAddr, gatewayCfg.OpsAddr} {
			if err := waitReady(gctx, "http://"+hostPort(addr)+"/readyz"); err != nil {
				return nil // the failing service reports its own error
			}
		}
		if err := waitReady(gctx, api+"/readyz"); err != nil {
			return nil
		}
		printBanner(out, simMode, api, vars, sim, ns.URL(), dbURL)
		if simMode && cfg.Demo {
			return runDemo(gctx, log.With("part", "demo"), sim, api, cfg.DemoEvery)
		}
		return nil
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("devstack stopped")
	return err
}

// tryMint is the simulator-only mint the README's campaign-creation example uses.
var tryMint = demoKey("try-mint").PublicKey()

// demoKey derives a fixed key from a label, so the demo's addresses are the same at every start
// and the README can name them. It is for the simulator only; never hold money with it.
func demoKey(label string) solana.PrivateKey {
	seed := sha256.Sum256([]byte("solcrowd devstack " + label))
	return solana.PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
}

func setDefault(vars map[string]string, k, v string) {
	if vars[k] == "" {
		vars[k] = v
	}
}

func hostPort(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

func waitReady(ctx context.Context, url string) error {
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func printBanner(out io.Writer, simMode bool, api string, vars map[string]string, sim *soltest.Server, natsURL, dbURL string) {
	mode := "LIVE CHAIN: watching " + config.RedactURL(vars["SOLANA_RPC_URL"])
	if simMode {
		mode = "SIMULATOR: local chain simulator with recorded mainnet data and a demo load (set SOLANA_RPC_URL to watch a real chain)"
	}
	ws := strings.Replace(api, "http://", "ws://", 1) + "/ws"
	fmt.Fprintf(out, `
================================================================================
 solcrowd backend is running
 mode:      %s
 API:       %s/api
 docs:      %s/docs   (OpenAPI: %s/openapi.json)
 WebSocket: %s
 NATS:      %s   Postgres: %s
`, mode, api, api, api, ws, natsURL, config.RedactURL(dbURL))
	if sim != nil {
		fmt.Fprintf(out, " Solana:    %s (ws %s)\n", sim.URL, sim.WSURL)
		fmt.Fprintf(out, " demo:      campaign for USDC %s, escrow %s\n", demoMint, vars["WALLET"])
		fmt.Fprintf(out, "            a payment every few seconds; try a campaign of your own for mint %s\n", tryMint)
	}
	fmt.Fprintf(out, " try:       curl -s %s/api/health\n", api)
	if sim != nil {
		fmt.Fprintf(out, "            curl -s %s/api/campaign-detail/%s\n", api, demoMint)
	} else {
		fmt.Fprintf(out, "            curl -s %s/api/campaigns\n", api)
	}
	if sim != nil {
		fmt.Fprintf(out, `            curl -s %s/api/escrow-transactions/%s
            go run ./tools/devstack/wswatch escrow:%s
`, api, vars["WALLET"], vars["WALLET"])
	}
	fmt.Fprint(out, "================================================================================\n\n")
}
