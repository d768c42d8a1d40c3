package indexer

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc/ws"
)

// live holds one logsSubscribe per escrow, spread over WebSocket connections of at most
// SubsPerConn escrows each. Every connection also holds a slotSubscribe: its notifications are
// the connection's heartbeat. solana-go's subscribe does not report a refused subscription, but
// the server answers requests in order, so the first slot notification after the escrows'
// subscribes proves the connection works; no heartbeat within SubscribeTimeout (or for
// StaleAfter later) means the connection is broken or silent, and its escrows fall back to
// polling (backfill every PollInterval) while it reconnects with capped, jittered backoff.
type live struct {
	ix *Indexer

	mu       sync.Mutex
	ctx      context.Context
	groups   []*group
	assigned map[string]*group

	lastSlot atomic.Uint64  // newest slot seen on any heartbeat
	wg       sync.WaitGroup // connection and poll goroutines
}

type group struct {
	l       *live
	mu      sync.Mutex
	escrows map[string]bool // escrows this connection must subscribe
	polling bool            // true until the connection's heartbeat proves it works
	added   chan string
}

func newLive(ix *Indexer) *live { return &live{ix: ix, assigned: map[string]*group{}} }

// start records the context groups run under; sync may start groups from then on.
func (l *live) start(ctx context.Context) {
	l.mu.Lock()
	l.ctx = ctx
	l.mu.Unlock()
	l.sync()
	l.wg.Go(func() { l.poll(ctx) })
}

// wait blocks until every connection and the poller have stopped (after ctx ends).
func (l *live) wait() { l.wg.Wait() }

// sync assigns newly watched escrows to connections and forgets removed ones. A removed escrow's
// subscription lives until its connection is next recycled; its notifications are ignored.
func (l *live) sync() {
	want := l.ix.watch.escrows()
	l.mu.Lock()
	if l.ctx == nil || l.ctx.Err() != nil {
		l.mu.Unlock()
		return
	}
	wanted := map[string]bool{}
	var added []string
	for _, e := range want {
		wanted[e] = true
		if _, ok := l.assigned[e]; ok {
			continue
		}
		var g *group
		for _, cand := range l.groups {
			cand.mu.Lock()
			n := len(cand.escrows)
			cand.mu.Unlock()
			if n < l.ix.cfg.SubsPerConn {
				g = cand
				break
			}
		}
		if g == nil {
			g = &group{l: l, escrows: map[string]bool{}, polling: true, added: make(chan string, 4096)}
			l.groups = append(l.groups, g)
			ctx := l.ctx
			l.wg.Go(func() { g.run(ctx) })
		}
		g.mu.Lock()
		g.escrows[e] = true
		g.mu.Unlock()
		l.assigned[e] = g
		added = append(added, e)
		select {
		case g.added <- e:
		default: // the next reconnect subscribes it; polling covers it meanwhile
		}
	}
	for e, g := range l.assigned {
		if !wanted[e] {
			g.mu.Lock()
			delete(g.escrows, e)
			g.mu.Unlock()
			delete(l.assigned, e)
		}
	}
	l.mu.Unlock()
	if len(added) > 0 {
		l.ix.sigs.forgetDone()
		l.ix.bf.kick(added...)
	}
	l.updateGauge()
}

// status reports how many escrows have a live subscription and how many are polled.
func (l *live) status() (subscribed, polling int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, g := range l.groups {
		g.mu.Lock()
		if g.polling {
			polling += len(g.escrows)
		} else {
			subscribed += len(g.escrows)
		}
		g.mu.Unlock()
	}
	return subscribed, polling
}

func (l *live) updateGauge() {
	_, p := l.status()
	l.ix.m.polling.Set(float64(p))
}

// poll backfills the escrows of connections that are not live, every PollInterval.
func (l *live) poll(ctx context.Context) {
	t := time.NewTicker(l.ix.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		var escrows []string
		for _, g := range l.groups {
			g.mu.Lock()
			if g.polling {
				for e := range g.escrows {
					escrows = append(escrows, e)
				}
			}
			g.mu.Unlock()
		}
		l.mu.Unlock()
		sort.Strings(escrows)
		l.ix.bf.kick(escrows...)
	}
}

func (g *group) setPolling(on bool) {
	g.mu.Lock()
	g.polling = on
	g.mu.Unlock()
	g.l.updateGauge()
}

func (g *group) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.escrows))
	for e := range g.escrows {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func (g *group) watched(e string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.escrows[e]
}

// run keeps the group's connection up for as long as ctx lives.
func (g *group) run(ctx context.Context) {
	cfg := g.l.ix.cfg
	backoff := cfg.ReconnectMin
	for ctx.Err() == nil {
		wasLive := g.session(ctx)
		g.setPolling(true)
		if ctx.Err() != nil {
			return
		}
		if wasLive {
			backoff = cfg.ReconnectMin
		}
		// Full jitter between half and all of the current backoff.
		d := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		backoff = min(backoff*2, cfg.ReconnectMax)
	}
}

// session runs one connection; it reports whether the connection ever became live.
func (g *group) session(ctx context.Context) bool {
	ix := g.l.ix
	cfg := ix.cfg
	ix.m.reconnects.Inc()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	dctx, dcancel := context.WithTimeout(sctx, cfg.SubscribeTimeout)
	client, err := ws.ConnectWithOptions(dctx, cfg.SolanaWSURL, &ws.Options{HandshakeTimeout: cfg.SubscribeTimeout})
	dcancel()
	if err != nil {
		ix.log.Warn("websocket connect failed; escrows are polled meanwhile", "err", err)
		return false
	}
	defer client.Close()

	var lastSeen atomic.Int64
	touch := func() { lastSeen.Store(time.Now().UnixNano()) }
	touch()
	fail := make(chan error, 1)
	failed := func(err error) {
		select {
		case fail <- err:
		default:
		}
	}
	// Drain escrows queued before this connection; the subscribe loop below covers all of them.
	for drained := false; !drained; {
		select {
		case <-g.added:
		default:
			drained = true
		}
	}
	subscribed := map[string]bool{}
	subscribe := func(escrow string) bool {
		if subscribed[escrow] {
			return true
		}
		pk, err := solana.PublicKeyFromBase58(escrow)
		if err != nil {
			return true
		}
		sub, err := client.LogsSubscribeMentions(pk, commitment(cfg.Commitment))
		if err != nil {
			failed(err)
			return false
		}
		subscribed[escrow] = true
		go func() {
			for {
				res, err := sub.Recv(sctx)
				if err != nil {
					failed(err)
					return
				}
				touch()
				ix.m.notifications.Inc()
				ix.m.nNotifications.Add(1)
				if res == nil || res.Value.Err != nil || !g.watched(escrow) {
					continue // failed transactions are never credited
				}
				select {
				case ix.queue <- notified{sig: res.Value.Signature.String(), escrow: escrow}:
				case <-sctx.Done():
					return
				}
			}
		}()
		return true
	}
	for _, e := range g.list() {
		if !subscribe(e) {
			return false
		}
	}
	slots, err := client.SlotSubscribe()
	if err != nil {
		return false
	}
	beat := make(chan struct{})
	go func() {
		var once sync.Once
		for {
			res, err := slots.Recv(sctx)
			if err != nil {
				failed(err)
				return
			}
			touch()
			if res != nil {
				for {
					cur := g.l.lastSlot.Load()
					if res.Slot <= cur || g.l.lastSlot.CompareAndSwap(cur, res.Slot) {
						break
					}
				}
			}
			once.Do(func() { close(beat) })
		}
	}()

	select {
	case <-beat:
	case err := <-fail:
		ix.log.Warn("websocket failed before its first heartbeat", "err", err)
		return false
	case <-time.After(cfg.SubscribeTimeout):
		ix.log.Warn("no heartbeat after subscribing; escrows are polled until the stream recovers")
		return false
	case <-ctx.Done():
		return false
	}
	g.setPolling(false)
	// Anything that landed while the connection was down is found by a backfill after the
	// subscriptions are in place.
	ix.bf.kick(g.list()...)

	check := time.NewTicker(max(cfg.StaleAfter/4, 10*time.Millisecond))
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return true
		case err := <-fail:
			ix.log.Warn("websocket subscription ended; reconnecting", "err", err)
			return true
		case e := <-g.added:
			if !subscribe(e) {
				return true
			}
			ix.bf.kick(e)
		case <-check.C:
			if since := time.Since(time.Unix(0, lastSeen.Load())); since > cfg.StaleAfter {
				ix.log.Warn("websocket silent; reconnecting", "silent_for", since)
				return true
			}
		}
	}
}
