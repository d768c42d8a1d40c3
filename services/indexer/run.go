// Package indexer is the indexer service. Indexer turns Solana activity on watched escrows into contribution events.
//
// Run wires the service from its Config; the binary in cmd/indexer and the development stack
// (make run) both call it, so development runs exactly the production code.
//
// Guarantees (design §3–§4): every successful transfer into a watched escrow is published on
// contribution.confirmed and later on contribution.finalized or contribution.dropped, each with a
// dedup id built from (signature, transfer index, state), so that retries, restarts, the
// live/backfill overlap and several instances at once store every event once. A per-escrow
// checkpoint in KV INDEXER moves forward only over signatures whose events JetStream has
// acknowledged and whose finality is settled, so a restart resumes without gaps.
package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	return run(ctx, cfg, log, nil)
}

// run is Run with a hook that receives the ops address once it is bound (tests pass port 0).
func run(ctx context.Context, cfg Config, log *slog.Logger, opsReady func(net.Addr)) error {
	if err := cfg.check(); err != nil {
		return err
	}
	reg := observe.NewRegistry()
	health := observe.NewHealth()
	m := newMetrics(reg)

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: events.ServiceIndexer}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)
	kv, err := conn.KV(ctx, events.BucketIndexer)
	if err != nil {
		return err
	}
	client := solrpc.New(cfg.SolanaRPCURL, solrpc.Options{RPS: cfg.RPCRPS, Timeout: cfg.RPCTimeout, OnAttempt: m.onAttempt})
	ix := newIndexer(cfg, log, conn, client, kv, m)
	health.Add("solana", ix.checkChain)

	svc, err := conn.NewService(events.ServiceIndexer, serviceVersion(cfg.Version), log)
	if err != nil {
		return err
	}
	defer svc.Stop()
	if err := ix.registerHandlers(svc); err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, opsReady)
	})
	g.Go(func() error { return ix.run(ctx) })
	log.Info("indexer running", "ops", cfg.OpsAddr, "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("indexer: %w", err)
	}
	return nil
}

// serviceVersion returns v when it is a semantic version, the form NATS micro requires, else
// "0.0.0" (development builds are "dev+sha").
func serviceVersion(v string) string {
	semver := regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	if semver.MatchString(v) {
		return v
	}
	return "0.0.0"
}

func newIndexer(cfg Config, log *slog.Logger, conn *bus.Conn, client *solrpc.Client, kv jetstream.KeyValue, m *metrics) *Indexer {
	ix := &Indexer{
		cfg: cfg, log: log, bus: conn, rpc: client, kv: kv, m: m,
		sigs:     newSigTable(),
		watch:    newWatchList(),
		queue:    make(chan notified, 16384),
		balCache: map[string]balanceEntry{},
		started:  time.Now(),
	}
	ix.fin = newFinality(ix)
	ix.live = newLive(ix)
	ix.bf = newBackfiller(ix)
	ix.watch.onChange = ix.live.sync
	return ix
}

// run runs every loop of the indexer until ctx ends.
func (ix *Indexer) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	// Follow CAMPAIGNS before asking for the watch list, so that no change falls in between.
	cons, err := ix.bus.JS.OrderedConsumer(ctx, events.StreamCampaigns, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.SubjectCampaignCreated, events.SubjectCampaignStatus},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("follow %s: %w", events.StreamCampaigns, err)
	}
	g.Go(func() error { return ix.followCampaigns(ctx, cons) })
	g.Go(func() error { ix.loadWatchList(ctx); return nil })
	ix.live.start(ctx)
	for range ix.cfg.FetchWorkers {
		g.Go(func() error { return ix.worker(ctx) })
	}
	g.Go(func() error { return ix.bf.run(ctx) })
	g.Go(func() error { return ix.fin.run(ctx) })
	err = g.Wait()
	ix.live.wait()
	return err
}

// loadWatchList asks campaign for every watched escrow, retrying until it answers. The service
// is ready meanwhile; CAMPAIGNS events already add campaigns as they are created.
func (ix *Indexer) loadWatchList(ctx context.Context) {
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		reply, err := bus.Request[events.WatchListReply](rctx, ix.bus, events.SubjectCampaignWatch, events.WatchListRequest{})
		cancel()
		if err == nil {
			ix.watch.merge(reply.Entries)
			ix.log.Info("watch list loaded", "campaigns", len(reply.Entries), "escrows", len(ix.watch.escrows()))
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt == 1 || attempt%10 == 0 {
			ix.log.Warn("watch list not available yet; retrying", "err", err, "attempt", attempt)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(ix.cfg.WatchListRetry):
		}
	}
}

func (ix *Indexer) followCampaigns(ctx context.Context, cons jetstream.Consumer) error {
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev events.CampaignEvent
		if err := bus.DecodeJSON(msg.Data(), &ev, func() int { return ev.Version }, events.Version); err != nil {
			ix.log.Error("ignoring undecodable campaign event", "subject", msg.Subject(), "err", err)
			return
		}
		ix.watch.apply(ev)
	})
	if err != nil {
		return fmt.Errorf("consume %s: %w", events.StreamCampaigns, err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

// worker processes signatures named by notifications.
func (ix *Indexer) worker(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-ix.queue:
			if err := ix.process(ctx, n.sig, true); err != nil && ctx.Err() == nil {
				// A backfill of the escrow finds it again once the node serves it; never a tight loop.
				ix.log.Warn("could not process notified signature; left to backfill", "signature", n.sig, "err", err)
				time.AfterFunc(ix.cfg.PollInterval, func() { ix.bf.kick(n.escrow) })
			}
		}
	}
}
