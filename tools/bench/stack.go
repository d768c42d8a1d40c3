package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/pgtest"
	"github.com/solcrowd/backend/libs/solana/soltest"
	"github.com/solcrowd/backend/services/campaign"
	"github.com/solcrowd/backend/services/gateway"
	"github.com/solcrowd/backend/services/indexer"
	"github.com/solcrowd/backend/services/pricer"
)

// benchMint is USDC, whose real mint account is among the recorded fixtures the simulator serves,
// so the real pricer can describe it and the campaign service accepts a campaign for it.
const benchMint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"

// stack is one benchmark environment: an embedded NATS server with JetStream in a temporary
// directory, a fresh Postgres database, the chain simulator (slots advance only when the bench
// says so), a local replay of the recorded market APIs, and any of the four services started
// through their production Run functions. Everything listens on 127.0.0.1.
type stack struct {
	log    *slog.Logger // services' logger
	nats   *natstest.Server
	bus    *bus.Conn
	db     *pgxpool.Pool
	dbName string
	dbURL  string
	sim    *soltest.Server
	market *http.Server
	vars   map[string]string
	api    string // gateway base URL, http://127.0.0.1:port

	mu        sync.Mutex
	services  map[string]*running
	stopClock func()

	// The benchmark campaign, after createCampaign.
	campaignID string
	escrow     solana.PublicKey
	reference  solana.PublicKey
}

type running struct {
	cancel context.CancelFunc
	done   chan error
}

// stackOptions adjust the services' configuration; keys are the services' environment variables.
type stackOptions struct {
	vars map[string]string
	env  map[string]string // -env overrides, applied last
	slot time.Duration     // slot interval of the simulator's clock
}

func startStack(ctx context.Context, o stackOptions, log *slog.Logger) (st *stack, err error) {
	st = &stack{log: log, services: map[string]*running{}}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	dir, err := os.MkdirTemp("", "bench-nats-*")
	if err != nil {
		return nil, err
	}
	if st.nats, err = natstest.Start(natstest.Options{StoreDir: dir, Name: "bench"}); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	admin := pgtest.AdminURL()
	if st.dbName, st.dbURL, err = pgtest.Create(ctx, admin, "bench"); err != nil {
		return nil, err
	}
	if st.sim, err = soltest.Start(soltest.Config{LoadFixtures: true}, "127.0.0.1:0"); err != nil {
		return nil, err
	}
	marketURL, market, err := serveLocal(fixtures.MarketReplay())
	if err != nil {
		return nil, err
	}
	st.market = market
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	st.api = "http://" + httpAddr
	st.vars = map[string]string{
		"NATS_URL":       st.nats.URL(),
		"DATABASE_URL":   st.dbURL,
		"SOLANA_RPC_URL": st.sim.URL,
		"SOLANA_WS_URL":  st.sim.WSURL,
		"IPFS_GATEWAY":   marketURL + "/ipfs",
		// The recorded Pyth account is months old and would be refused as stale on every refresh.
		"PRICE_SOURCES":     "coingecko",
		"HTTP_ADDR":         httpAddr,
		"CAMPAIGN_OPS_ADDR": "127.0.0.1:0",
		"INDEXER_OPS_ADDR":  "127.0.0.1:0",
		"PRICER_OPS_ADDR":   "127.0.0.1:0",
		"GATEWAY_OPS_ADDR":  "127.0.0.1:0",
		"SHUTDOWN_TIMEOUT":  "5s",
		// The simulator is local: the production default (10 requests/s, sized for public
		// endpoints) is not what the pipeline figures are about. Subcommands that measure a
		// limit set their own.
		"SOLANA_RPC_RPS":        "100000",
		"PRICER_SOLANA_RPC_RPS": "1000",
		"WALLET":                solana.NewWallet().PublicKey().String(),
		// Writes are benchmarked through the bus, not the public API's per-IP limit.
		"RATE_LIMIT_WRITES_PER_MIN": "0",
	}
	for k, v := range fixtures.MarketEnv(marketURL) {
		st.vars[k] = v
	}
	for k, v := range o.vars {
		st.vars[k] = v
	}
	for k, v := range o.env {
		st.vars[k] = v
	}
	if st.bus, err = bus.Connect(ctx, bus.ConnectConfig{URL: st.nats.URL(), Name: "bench"}, slog.New(slog.DiscardHandler)); err != nil {
		return nil, err
	}
	if err := st.bus.EnsureTopology(ctx, bus.Topology{}); err != nil {
		return nil, err
	}
	if st.db, err = pgxpool.New(ctx, st.dbURL); err != nil {
		return nil, err
	}
	st.startClock(o.slot)
	return st, nil
}

// startClock produces a slot every d (the indexer expects slots to pass; a silent chain looks
// like a dead subscription). Benchmarks that timestamp confirmations stop it and drive slots
// themselves.
func (st *stack) startClock(d time.Duration) {
	st.pauseClock()
	if d > 0 {
		st.stopClock = advanceEvery(st.sim, d)
	}
}

func (st *stack) pauseClock() {
	if st.stopClock != nil {
		st.stopClock()
		st.stopClock = nil
	}
}

// start runs one service through its production Run function until stop or close.
func (st *stack) start(name string) error {
	var run func(context.Context) error
	log := st.log.With("service", name)
	switch name {
	case "campaign":
		cfg, err := campaign.LoadConfig(st.vars)
		if err != nil {
			return err
		}
		run = func(ctx context.Context) error { return campaign.Run(ctx, cfg, log) }
	case "indexer":
		cfg, err := indexer.LoadConfig(st.vars)
		if err != nil {
			return err
		}
		run = func(ctx context.Context) error { return indexer.Run(ctx, cfg, log) }
	case "pricer":
		cfg, err := pricer.LoadConfig(st.vars)
		if err != nil {
			return err
		}
		run = func(ctx context.Context) error { return pricer.Run(ctx, cfg, log) }
	case "gateway":
		cfg, err := gateway.LoadConfig(st.vars)
		if err != nil {
			return err
		}
		run = func(ctx context.Context) error { return gateway.Run(ctx, cfg, log) }
	default:
		return fmt.Errorf("unknown service %q", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	st.mu.Lock()
	st.services[name] = r
	st.mu.Unlock()
	return nil
}

// stop ends one service and waits for its Run to return.
func (st *stack) stop(name string) error {
	st.mu.Lock()
	r := st.services[name]
	delete(st.services, name)
	st.mu.Unlock()
	if r == nil {
		return nil
	}
	r.cancel()
	select {
	case err := <-r.done:
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	case <-time.After(15 * time.Second):
		return fmt.Errorf("%s: Run did not return 15s after cancel", name)
	}
}

// failed reports a service whose Run already returned.
func (st *stack) failed() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for name, r := range st.services {
		select {
		case err := <-r.done:
			r.done <- err
			return fmt.Errorf("%s stopped: %v", name, err)
		default:
		}
	}
	return nil
}

func (st *stack) close() {
	st.mu.Lock()
	names := make([]string, 0, len(st.services))
	for n := range st.services {
		names = append(names, n)
	}
	st.mu.Unlock()
	// Reverse dependency order: the gateway and indexer first, campaign last.
	order := map[string]int{"gateway": 0, "indexer": 1, "pricer": 2, "campaign": 3}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if order[names[j]] < order[names[i]] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	st.pauseClock()
	for _, n := range names {
		if err := st.stop(n); err != nil {
			st.log.Warn("stop", "service", n, "err", err)
		}
	}
	if st.db != nil {
		st.db.Close()
	}
	if st.bus != nil {
		_ = st.bus.Close()
	}
	if st.dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := pgtest.Drop(ctx, pgtest.AdminURL(), st.dbName); err != nil {
			st.log.Warn("drop database", "name", st.dbName, "err", err)
		}
		cancel()
	}
	if st.sim != nil {
		_ = st.sim.Close()
	}
	if st.market != nil {
		_ = st.market.Close()
	}
	if st.nats != nil {
		st.nats.Stop()
		_ = os.RemoveAll(st.nats.StoreDir())
	}
}

// waitFor polls cond every 20 ms until it holds, the deadline passes or a service stops.
func (st *stack) waitFor(ctx context.Context, d time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if ferr := st.failed(); ferr != nil {
			return ferr
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%s: not reached in %s: %v", what, d, err)
			}
			return fmt.Errorf("%s: not reached in %s", what, d)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// createCampaign registers the benchmark campaign through the campaign service (which asks the
// real pricer about the mint) with a fresh escrow, and waits until the indexer, if it runs,
// watches it.
func (st *stack) createCampaign(ctx context.Context) error {
	escrow := solana.NewWallet().PublicKey()
	w := escrow.String()
	desc := "benchmark"
	var rep events.CampaignReply
	err := st.waitFor(ctx, 30*time.Second, "create campaign", func() (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var err error
		rep, err = bus.Request[events.CampaignReply](rctx, st.bus, events.SubjectCampaignCreate, events.CreateCampaignRequest{
			ContractAddress: benchMint,
			GoalAmount:      "1000000",
			ExpiresAt:       time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
			Description:     &desc,
			WalletAddress:   &w,
			IdempotencyKey:  "bench-" + w,
		})
		return err == nil, err
	})
	if err != nil {
		return err
	}
	st.campaignID = rep.Campaign.ID
	st.escrow = escrow
	st.reference, err = solana.PublicKeyFromBase58(rep.Campaign.Reference)
	if err != nil {
		return fmt.Errorf("campaign reference %q: %w", rep.Campaign.Reference, err)
	}
	return nil
}

// waitWatched waits until the indexer reports the escrow on its watch list and subscribed.
func (st *stack) waitWatched(ctx context.Context) error {
	return st.waitFor(ctx, 30*time.Second, "indexer watching the escrow", func() (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		rep, err := bus.Request[events.ChainHealthReply](rctx, st.bus, events.SubjectIndexerHealth, events.ChainHealthRequest{})
		if err != nil {
			return false, err
		}
		return rep.Subscriptions > 0, nil
	})
}

// waitGateway waits until the gateway answers its health endpoint.
func (st *stack) waitGateway(ctx context.Context) error {
	return st.waitFor(ctx, 30*time.Second, "gateway answering", func() (bool, error) {
		resp, err := http.Get(st.api + "/api/health")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("health %d", resp.StatusCode)
	})
}

// ledger reads the committed truth from Postgres: live contributions into the escrow, their sum,
// how many are finalized, and the campaign's stored totals.
type ledgerState struct {
	count, finalized   int64
	sum, raised        uint64
	contributionsCount int64
}

func (st *stack) ledger(ctx context.Context) (ledgerState, error) {
	var s ledgerState
	var sum, raised string
	err := st.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'finalized'), coalesce(sum(amount), 0)::text
		FROM contributions WHERE escrow = $1 AND state IN ('confirmed', 'finalized')`, st.escrow.String()).Scan(&s.count, &s.finalized, &sum)
	if err != nil {
		return s, err
	}
	if s.sum, err = strconv.ParseUint(sum, 10, 64); err != nil {
		return s, fmt.Errorf("ledger sum %q: %w", sum, err)
	}
	if st.campaignID != "" {
		if err = st.db.QueryRow(ctx, `SELECT raised_lamports::text, contribution_count FROM campaigns WHERE id = $1`, st.campaignID).Scan(&raised, &s.contributionsCount); err != nil {
			return s, err
		}
		if s.raised, err = strconv.ParseUint(raised, 10, 64); err != nil {
			return s, fmt.Errorf("raised_lamports %q: %w", raised, err)
		}
	}
	return s, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// serveLocal serves h on a free port of 127.0.0.1 and returns its base URL.
func serveLocal(h http.Handler) (string, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}

// startServingStack starts a stack with all four services, a campaign whose escrow the indexer
// watches, and a gateway that answers: the state every serving figure (detect, rest, fanout)
// measures from. The caller closes it.
func startServingStack(ctx context.Context, o options) (*stack, error) {
	st, err := startStack(ctx, stackOptions{slot: o.slot, env: o.env}, o.log)
	if err != nil {
		return nil, err
	}
	ready := func() error {
		for _, s := range []string{"campaign", "pricer", "indexer", "gateway"} {
			if err := st.start(s); err != nil {
				return err
			}
		}
		if err := st.createCampaign(ctx); err != nil {
			return err
		}
		if err := st.waitWatched(ctx); err != nil {
			return err
		}
		return st.waitGateway(ctx)
	}
	if err := ready(); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}
