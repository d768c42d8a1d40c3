package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
)

// Indexer is the running service core: the watch list, the live path, backfill, finality
// tracking and publishing.
type Indexer struct {
	cfg  Config
	log  *slog.Logger
	bus  *bus.Conn
	rpc  *solrpc.Client
	kv   jetstream.KeyValue
	m    *metrics
	sigs *sigTable

	watch *watchList
	fin   *finality
	live  *live
	bf    *backfiller
	queue chan notified // signatures from notifications

	balMu    sync.Mutex
	balCache map[string]balanceEntry
	started  time.Time

	// The chain slot for health checks, shared for chainSlotTTL (api.go).
	slotMu     sync.Mutex
	slotVal    uint64
	slotErr    error
	slotAt     time.Time
	slotFlight singleflight.Group
}

type balanceEntry struct {
	reply events.EscrowBalanceReply
	at    time.Time
}

func commitment(c string) rpc.CommitmentType {
	if c == "finalized" {
		return rpc.CommitmentFinalized
	}
	return rpc.CommitmentConfirmed
}

// notified is a signature a logs notification named for an escrow.
type notified struct{ sig, escrow string }

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
