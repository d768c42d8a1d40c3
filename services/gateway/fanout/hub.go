package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/solcrowd/backend/libs/events"
)

// Options configure a Hub.
type Options struct {
	AllowedOrigins  []string      // "*" allows any; requests without Origin are always allowed
	SendQueue       int           // frames queued per client before it is disconnected
	MaxMessageBytes int64         // largest message a client may send
	PingInterval    time.Duration // a client silent for two intervals is dropped
	WriteTimeout    time.Duration // bound of one write
	MaxChannels     int           // channels per connection (default 64)
	ReplayLimit     int           // stored messages a resume may scan per stream (default 10000)
	Log             *slog.Logger
	Registry        prometheus.Registerer
}

// Hub fans JetStream events out to WebSocket clients. Create it with New, start it with Run.
type Hub struct {
	js  jetstream.JetStream
	o   Options
	log *slog.Logger

	mu      sync.RWMutex
	subs    map[string]map[*client]struct{} // channel → clients
	clients map[*client]struct{}
	prices  map[string]priceEntry // PRICES key → newest entry
	closed  bool

	running atomic.Bool
	conns   sync.WaitGroup

	// writeBuffers lends a connection a write buffer only while it writes a frame: with
	// thousands of mostly idle subscribers, a buffer per connection would be most of their memory.
	writeBuffers sync.Pool

	mClients   prometheus.Gauge
	mEvictions *prometheus.CounterVec
	mEvents    *prometheus.CounterVec
}

type priceEntry struct {
	rev   uint64
	frame []byte
}

// New returns a hub reading from js.
func New(js jetstream.JetStream, o Options) (*Hub, error) {
	if o.SendQueue <= 0 {
		o.SendQueue = 256
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 4096
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.MaxChannels <= 0 {
		o.MaxChannels = 64
	}
	if o.ReplayLimit <= 0 {
		o.ReplayLimit = 10000
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		js: js, o: o, log: o.Log,
		subs:    map[string]map[*client]struct{}{},
		clients: map[*client]struct{}{},
		prices:  map[string]priceEntry{},
		mClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_ws_clients", Help: "Open WebSocket connections.",
		}),
		mEvictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_ws_disconnects_total", Help: "WebSocket connections closed by the server, by reason.",
		}, []string{"reason"}),
		mEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_ws_events_total", Help: "Events received from JetStream for fan-out, by stream.",
		}, []string{"stream"}),
	}
	if o.Registry != nil {
		for _, c := range []prometheus.Collector{h.mClients, h.mEvictions, h.mEvents} {
			if err := o.Registry.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// Run consumes the streams and the PRICES bucket until ctx ends, then disconnects every client
// and waits for their goroutines to finish.
func (h *Hub) Run(ctx context.Context) error {
	defer h.shutdown()
	for _, st := range []string{events.StreamCampaigns, events.StreamContributions} {
		cons, err := h.js.OrderedConsumer(ctx, st, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
		if err != nil {
			return fmt.Errorf("fanout: consumer on %s: %w", st, err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) { h.onStreamMsg(st, m) })
		if err != nil {
			return fmt.Errorf("fanout: consume %s: %w", st, err)
		}
		defer cc.Stop()
	}
	kv, err := h.js.KeyValue(ctx, events.BucketPrices)
	if err != nil {
		return fmt.Errorf("fanout: open %s: %w", events.BucketPrices, err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("fanout: watch %s: %w", events.BucketPrices, err)
	}
	defer func() { _ = w.Stop() }()
	h.running.Store(true)
	defer h.running.Store(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("fanout: prices watcher closed")
			}
			if e != nil { // nil marks the end of the initial values
				h.onPrice(e)
			}
		}
	}
}

// Check reports whether the hub is consuming, for readiness probes.
func (h *Hub) Check(context.Context) error {
	if !h.running.Load() {
		return errors.New("fanout not running")
	}
	return nil
}

// Clients returns the number of open connections.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

func (h *Hub) shutdown() {
	h.mu.Lock()
	h.closed = true
	cs := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.evict("shutdown", 1001, "server shutting down")
	}
	h.conns.Wait()
}

func (h *Hub) onStreamMsg(stream string, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		h.log.Warn("fanout: message without metadata", "stream", stream, "err", err)
		return
	}
	h.mEvents.WithLabelValues(stream).Inc()
	h.dispatch(stream, md.Sequence.Stream, m.Subject(), m.Data())
}

// frames builds one frame per channel of a message, or nil when the message has no channel.
func frames(stream string, seq uint64, subject string, data []byte) (chs []string, out map[string][]byte) {
	chs, ok := route(stream, data)
	if !ok {
		return nil, nil
	}
	out = make(map[string][]byte, len(chs))
	for _, ch := range chs {
		b, err := json.Marshal(eventFrame{Type: "event", Channel: ch, Stream: stream, Seq: seq, Subject: subject, Event: json.RawMessage(data)})
		if err != nil {
			return nil, nil
		}
		out[ch] = b
	}
	return chs, out
}

// dispatch hands a live stream message to every subscribed client without blocking.
func (h *Hub) dispatch(stream string, seq uint64, subject string, data []byte) {
	chs, fr := frames(stream, seq, subject, data)
	if len(chs) == 0 {
		h.log.Warn("fanout: unroutable message", "stream", stream, "seq", seq, "subject", subject)
		return
	}
	h.mu.RLock()
	var targets map[*client][][]byte
	for _, ch := range chs {
		for c := range h.subs[ch] {
			if targets == nil {
				targets = map[*client][][]byte{}
			}
			targets[c] = append(targets[c], fr[ch])
		}
	}
	h.mu.RUnlock()
	for c, fs := range targets {
		c.live(stream, seq, fs)
	}
}

func (h *Hub) onPrice(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		return
	}
	h.mEvents.WithLabelValues(StreamPrices).Inc()
	b, err := json.Marshal(eventFrame{Type: "event", Channel: ChannelPrices, Stream: StreamPrices, Seq: e.Revision(), Subject: e.Key(), Event: json.RawMessage(e.Value())})
	if err != nil || !json.Valid(e.Value()) {
		h.log.Warn("fanout: price entry is not JSON", "key", e.Key())
		return
	}
	// The cache update and the dispatch happen under the write lock so a subscriber gets either
	// the entry from the snapshot or live, never both and never neither.
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prices[e.Key()] = priceEntry{rev: e.Revision(), frame: b}
	for c := range h.subs[ChannelPrices] {
		c.live(StreamPrices, e.Revision(), [][]byte{b})
	}
}

// register adds a connection; it fails once the hub is shutting down.
func (h *Hub) register(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.clients[c] = struct{}{}
	h.conns.Add(1)
	h.mClients.Inc()
	return true
}

// unregister removes a connection and all its subscriptions.
func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	for ch := range c.channels {
		if m := h.subs[ch]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(h.subs, ch)
			}
		}
	}
	h.mClients.Dec()
}

// subscribe adds channels for c. For a new "prices" subscription it queues the newest entry of
// every key with a revision above sincePrices, atomically with live price dispatch.
func (h *Hub) subscribe(c *client, chs []string, sincePrices uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range chs {
		if _, dup := c.channels[ch]; dup {
			continue
		}
		c.channels[ch] = struct{}{}
		m := h.subs[ch]
		if m == nil {
			m = map[*client]struct{}{}
			h.subs[ch] = m
		}
		m[c] = struct{}{}
		if ch == ChannelPrices {
			entries := make([]priceEntry, 0, len(h.prices))
			for _, e := range h.prices {
				if e.rev > sincePrices {
					entries = append(entries, e)
				}
			}
			slices.SortFunc(entries, func(a, b priceEntry) int { return int(int64(a.rev) - int64(b.rev)) })
			for _, e := range entries {
				c.live(StreamPrices, e.rev, [][]byte{e.frame})
			}
		}
	}
}

func (h *Hub) unsubscribe(c *client, chs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range chs {
		delete(c.channels, ch)
		if m := h.subs[ch]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(h.subs, ch)
			}
		}
	}
}

// channelList returns c's channels, sorted.
func (h *Hub) channelList(c *client) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(c.channels))
	for ch := range c.channels {
		out = append(out, ch)
	}
	slices.Sort(out)
	return out
}
