package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
)

// ErrOriginNotAllowed is returned by ServeWS for a browser origin outside the allow-list.
var ErrOriginNotAllowed = apperr.New(apperr.Unauthorized, "this origin may not open the WebSocket")

// Close codes the server uses besides the standard ones.
const (
	CloseSlowConsumer = 4008 // the send queue was full
)

// streams whose events can be replayed.
var replayable = []string{events.StreamCampaigns, events.StreamContributions}

// client is one WebSocket connection.
type client struct {
	h    *Hub
	conn *websocket.Conn
	send chan []byte

	ctx    context.Context
	cancel context.CancelFunc

	// channels is guarded by h.mu.
	channels map[string]struct{}

	mu        sync.Mutex
	closed    bool
	closeCode int
	closeText string
	last      map[string]uint64   // per stream: newest seq delivered (or resumed after)
	replaying map[string]bool     // per stream: a replay is running; live events wait in pending
	anchored  map[string]bool     // per stream: last holds a resume point (given or taken at subscribe)
	pending   map[string][]pended // per stream: live events held during a replay
	replays   sync.WaitGroup
}

type pended struct {
	seq    uint64
	frames [][]byte
}

// ServeWS upgrades the request and serves the connection until it ends. Errors before the
// upgrade (a refused origin, a request that is not a WebSocket handshake) are returned for the
// caller to answer; after the upgrade it returns nil.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) error {
	if origin := r.Header.Get("Origin"); origin != "" && !slices.Contains(h.o.AllowedOrigins, "*") && !slices.Contains(h.o.AllowedOrigins, origin) {
		return ErrOriginNotAllowed
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return apperr.InvalidField("Upgrade", "this endpoint only speaks WebSocket")
	}
	up := websocket.Upgrader{
		// Zero read size reuses the HTTP server's buffer; writes borrow from the hub's pool.
		WriteBufferPool: &h.writeBuffers,
		CheckOrigin:     func(*http.Request) bool { return true }, // checked above
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader already answered the handshake failure
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{
		h: h, conn: conn, send: make(chan []byte, h.o.SendQueue),
		ctx: ctx, cancel: cancel,
		channels:  map[string]struct{}{},
		last:      map[string]uint64{},
		replaying: map[string]bool{},
		anchored:  map[string]bool{},
		pending:   map[string][]pended{},
	}
	if !h.register(c) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		cancel()
		return nil
	}
	defer h.conns.Done()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	if why := c.readLoop(); why == "pong timeout" {
		c.evict(why, websocket.ClosePolicyViolation, "no pong within two ping intervals")
	} else {
		c.evict(why, websocket.CloseNormalClosure, "")
	}
	<-writerDone
	c.replays.Wait()
	h.unregister(c)
	return nil
}

// evict ends the connection: the writer sends a close frame (bounded by the write timeout) and
// closes the socket, which ends the reader. It never blocks and never takes the hub lock, so the
// hub may call it while dispatching.
func (c *client) evict(reason string, code int, text string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closeCode, c.closeText = code, text
	c.pending = nil
	c.mu.Unlock()
	if reason != "client gone" {
		c.h.mEvictions.WithLabelValues(reason).Inc()
		c.h.log.Debug("websocket disconnected by server", "reason", reason)
	}
	c.cancel()
}

// enqueue queues a frame without blocking; a full queue evicts the client. Callers hold c.mu.
func (c *client) enqueueLocked(b []byte) bool {
	if c.closed {
		return false
	}
	select {
	case c.send <- b:
		return true
	default:
		c.mu.Unlock()
		c.evict("slow consumer", CloseSlowConsumer, "send queue full: read faster or subscribe to fewer channels")
		c.mu.Lock()
		return false
	}
}

// control queues an ack or error frame.
func (c *client) control(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueueLocked(b)
}

// live delivers a live event (or a prices snapshot entry) of stream at seq: held back while the
// stream replays, dropped when already delivered, queued otherwise.
func (c *client) live(stream string, seq uint64, frames [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.replaying[stream] {
		if len(c.pending[stream]) >= c.h.o.SendQueue*4 {
			c.mu.Unlock()
			c.evict("slow consumer", CloseSlowConsumer, "too many events while replaying")
			c.mu.Lock()
			return
		}
		c.pending[stream] = append(c.pending[stream], pended{seq: seq, frames: frames})
		return
	}
	if seq <= c.last[stream] {
		return
	}
	for _, f := range frames {
		if !c.enqueueLocked(f) {
			return
		}
	}
	c.last[stream] = seq
}

func (c *client) writeLoop() {
	ping := time.NewTicker(c.h.o.PingInterval)
	defer ping.Stop()
	defer c.conn.Close()
	for {
		select {
		case <-c.ctx.Done():
			c.mu.Lock()
			code, text := c.closeCode, c.closeText
			c.mu.Unlock()
			if code == 0 {
				code = websocket.CloseNormalClosure
			}
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(min(c.h.o.WriteTimeout, time.Second)))
			return
		case b := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.h.o.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				c.evict("write failed", websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.h.o.WriteTimeout)); err != nil {
				c.evict("ping failed", websocket.CloseAbnormalClosure, "")
				return
			}
		}
	}
}

// readLoop reads client messages until the connection ends. It returns why: "pong timeout" when
// the client stopped answering pings (a client that stops reading does), else "client gone".
func (c *client) readLoop() string {
	c.conn.SetReadLimit(c.h.o.MaxMessageBytes)
	alive := func() { _ = c.conn.SetReadDeadline(time.Now().Add(2 * c.h.o.PingInterval)) }
	alive()
	c.conn.SetPongHandler(func(string) error { alive(); return nil })
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "pong timeout"
			}
			return "client gone"
		}
		alive()
		if typ != websocket.TextMessage {
			c.control(errorFrame{Type: "error", Code: CodeBadMessage, Message: "send JSON text messages"})
			continue
		}
		c.handle(data)
	}
}

func (c *client) handle(data []byte) {
	var m clientMsg
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() {
		c.control(errorFrame{Type: "error", Code: CodeBadMessage, Message: "a message is one JSON object with type, channels, since and id"})
		return
	}
	switch m.Type {
	case "ping":
		c.control(map[string]string{"type": "pong", "id": m.ID})
	case "subscribe":
		c.subscribe(m)
	case "unsubscribe":
		for _, ch := range m.Channels {
			if !checkChannel(ch) {
				c.control(errorFrame{Type: "error", Code: CodeBadChannel, Message: "unknown channel", ID: m.ID, Channel: truncate(ch)})
				return
			}
		}
		c.h.unsubscribe(c, m.Channels)
		c.ack("unsubscribe", m.ID)
	default:
		c.control(errorFrame{Type: "error", Code: CodeUnknownType, Message: "type must be subscribe, unsubscribe or ping", ID: m.ID})
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

func (c *client) ack(action, id string, extra ...string) {
	chs := c.h.channelList(c)
	for _, ch := range extra {
		if !slices.Contains(chs, ch) {
			chs = append(chs, ch)
		}
	}
	slices.Sort(chs)
	c.mu.Lock()
	seq := make(map[string]uint64, len(c.last))
	for k, v := range c.last {
		seq[k] = v
	}
	c.mu.Unlock()
	c.control(ackFrame{Type: "ack", Action: action, ID: id, Channels: chs, LastSeq: seq})
}

func (c *client) subscribe(m clientMsg) {
	if len(m.Channels) == 0 {
		c.control(errorFrame{Type: "error", Code: CodeBadChannel, Message: "channels must name at least one channel", ID: m.ID})
		return
	}
	for _, ch := range m.Channels {
		if !checkChannel(ch) {
			c.control(errorFrame{Type: "error", Code: CodeBadChannel, Message: "unknown channel; use prices, campaigns, campaign:<id> or escrow:<address>", ID: m.ID, Channel: truncate(ch)})
			return
		}
	}
	if len(c.h.channelList(c))+len(m.Channels) > c.h.o.MaxChannels {
		c.control(errorFrame{Type: "error", Code: CodeTooManyChannels, Message: fmt.Sprintf("at most %d channels per connection", c.h.o.MaxChannels), ID: m.ID})
		return
	}
	// Validate since before changing anything.
	c.mu.Lock()
	for st := range m.Since {
		if st != events.StreamCampaigns && st != events.StreamContributions && st != StreamPrices {
			c.mu.Unlock()
			c.control(errorFrame{Type: "error", Code: CodeBadSince, Message: "since keys are CAMPAIGNS, CONTRIBUTIONS and PRICES", ID: m.ID, Stream: truncate(st)})
			return
		}
		if c.anchored[st] && st != StreamPrices || c.last[st] != 0 || c.replaying[st] {
			c.mu.Unlock()
			c.control(errorFrame{Type: "error", Code: CodeBadSince, Message: "since is only accepted before this connection has delivered events of that stream", ID: m.ID, Stream: st})
			return
		}
	}
	var replay, anchor, resumed []string
	for _, st := range replayable {
		if n, ok := m.Since[st]; ok { // 0 replays the stream from its start
			c.last[st] = n
			c.replaying[st] = true
			c.anchored[st] = true
			replay = append(replay, st)
			resumed = append(resumed, st)
		} else if !c.anchored[st] && touches(st, m.Channels) {
			anchor = append(anchor, st)
		}
	}
	c.mu.Unlock()
	sincePrices, hasSincePrices := m.Since[StreamPrices]
	var ahead []errorFrame
	if hasSincePrices && sincePrices > 0 {
		// A revision past the bucket's newest would hold back every price update; the client's
		// values belong to another store, so it gets the current values instead.
		if info, err := c.h.js.Stream(c.ctx, "KV_"+events.BucketPrices); err == nil {
			if last := info.CachedInfo().State.LastSeq; sincePrices > last {
				ahead = append(ahead, errorFrame{Type: "error", Code: CodeSinceAhead, ID: m.ID, Stream: StreamPrices,
					Message: fmt.Sprintf("since %d is ahead of the newest PRICES revision %d (was the store reset?); the current values follow", sincePrices, last)})
				sincePrices = 0
			}
		}
	}
	if hasSincePrices || slices.Contains(m.Channels, ChannelPrices) {
		// PRICES' resume point is the since given (0 without): the current values newer than it
		// follow the ack, so a client that reads none of them resumes from the same point.
		c.mu.Lock()
		c.last[StreamPrices] = max(c.last[StreamPrices], sincePrices)
		c.mu.Unlock()
	}

	// Without since, the resume point is the stream's last sequence now, taken before the
	// channels are registered; the replay below then covers anything stored between that read and
	// the registration, so the ack's last_seq is a point the client can resume from exactly.
	for _, st := range anchor {
		info, err := c.h.js.Stream(c.ctx, st)
		if err != nil {
			c.h.log.Warn("fanout: stream info", "stream", st, "err", err)
			continue
		}
		c.mu.Lock()
		c.last[st] = info.CachedInfo().State.LastSeq
		c.replaying[st] = true
		c.anchored[st] = true
		c.mu.Unlock()
		replay = append(replay, st)
	}

	// A since ahead of its stream (the store was reset, or a bogus value) would hold back every
	// event until the stream caught up; it is moved back to the stream's last sequence before
	// the ack, so the ack states the real resume point. The replay catches anything stored after
	// this read. A failed read is left to the replay, which reports replay_failed.
	for _, st := range resumed {
		info, err := c.h.js.Stream(c.ctx, st)
		if err != nil {
			continue
		}
		last := info.CachedInfo().State.LastSeq
		c.mu.Lock()
		if since := c.last[st]; since > last {
			c.last[st] = last
			ahead = append(ahead, sinceAheadFrame(st, since, last, m.ID))
		}
		c.mu.Unlock()
	}

	// The ack goes first: no event of the new channels can be queued before subscribe below.
	c.ack("subscribe", m.ID, m.Channels...)
	for _, f := range ahead {
		c.control(f)
	}
	c.h.subscribe(c, m.Channels, sincePrices)
	for _, st := range replay {
		c.replays.Add(1)
		go func() {
			defer c.replays.Done()
			c.replay(st, m.ID)
		}()
	}
}

// replay sends the stored events of stream after the client's resume point up to the stream's
// last sequence at the time of the call, on the client's channels, then releases the live
// events held meanwhile. Replay frames wait for room in the queue (bounded by the write
// timeout) instead of evicting at once, since the backlog is expected.
func (c *client) replay(stream, id string) {
	c.mu.Lock()
	after := c.last[stream]
	c.mu.Unlock()
	err := c.replayRange(stream, after, id)
	if err != nil && c.ctx.Err() == nil {
		c.h.log.Warn("fanout: replay failed", "stream", stream, "err", err)
		c.control(errorFrame{Type: "error", Code: CodeReplayFailed, Message: "could not replay missed events; resubscribe on a new connection", ID: id, Stream: stream})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	held := c.pending[stream]
	c.pending[stream] = nil
	c.replaying[stream] = false
	for _, p := range held {
		if p.seq <= c.last[stream] {
			continue
		}
		for _, f := range p.frames {
			if !c.enqueueLocked(f) {
				return
			}
		}
		c.last[stream] = p.seq
	}
}

// sinceAhead moves the resume point of stream back to last when it is ahead of the stream and
// tells the client with a since_ahead error frame.
func (c *client) sinceAhead(stream string, since, last uint64, id string) {
	c.mu.Lock()
	moved := c.last[stream] > last
	if moved {
		c.last[stream] = last
	}
	c.mu.Unlock()
	if moved {
		c.control(sinceAheadFrame(stream, since, last, id))
	}
}

func sinceAheadFrame(stream string, since, last uint64, id string) errorFrame {
	return errorFrame{Type: "error", Code: CodeSinceAhead, ID: id, Stream: stream,
		Message: fmt.Sprintf("since %d is ahead of the stream's last sequence %d (was the store reset?); resuming live after %d", since, last, last)}
}

// touches reports whether any of chs receives events of stream.
func touches(stream string, chs []string) bool {
	for _, ch := range chs {
		switch {
		case strings.HasPrefix(ch, prefixCampaign):
			return true
		case ch == ChannelCampaigns && stream == events.StreamCampaigns:
			return true
		case strings.HasPrefix(ch, prefixEscrow) && stream == events.StreamContributions:
			return true
		}
	}
	return false
}

// replayRange replays the stored events of stream after seq `after` up to the stream's last
// sequence now. A resume point ahead of the stream (the store was reset, or a bogus since such
// as the largest uint64, whose successor would wrap to 0) is reported as since_ahead and moved
// back to the stream's last sequence, so live events flow from there.
func (c *client) replayRange(stream string, after uint64, id string) error {
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	st, err := c.h.js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	state := st.CachedInfo().State
	last := state.LastSeq
	if after > last {
		c.sinceAhead(stream, after, last, id)
		return nil
	}
	if after == last {
		return nil
	}
	from := after + 1 // after < last, so this cannot overflow
	if state.Msgs == 0 || from < state.FirstSeq {
		c.control(errorFrame{Type: "error", Code: CodeReplayTruncated, Message: fmt.Sprintf("events before seq %d are no longer stored", state.FirstSeq), ID: id, Stream: stream})
		from = max(from, state.FirstSeq)
	}
	if last-from+1 > uint64(c.h.o.ReplayLimit) {
		newFrom := last - uint64(c.h.o.ReplayLimit) + 1
		c.control(errorFrame{Type: "error", Code: CodeReplayTruncated, Message: fmt.Sprintf("only the last %d events are replayed; events before seq %d are skipped", c.h.o.ReplayLimit, newFrom), ID: id, Stream: stream})
		from = newFrom
	}
	if state.Msgs == 0 || from > last {
		return nil
	}
	c.h.log.Debug("fanout: replaying", "stream", stream, "from", from, "to", last)
	cons, err := c.h.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
		// The server drops the replay consumer soon after we stop reading it.
		InactiveThreshold: 10 * time.Second,
	})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		seq := md.Sequence.Stream
		if seq > last {
			return nil
		}
		if err := c.replayOne(stream, seq, msg.Subject(), msg.Data()); err != nil {
			return err
		}
		if seq == last {
			return nil
		}
	}
}

func (c *client) replayOne(stream string, seq uint64, subject string, data []byte) error {
	chs, fr := frames(stream, seq, subject, data)
	c.h.mu.RLock()
	var out [][]byte
	for _, ch := range chs {
		if _, ok := c.channels[ch]; ok {
			out = append(out, fr[ch])
		}
	}
	c.h.mu.RUnlock()
	for _, f := range out {
		t := time.NewTimer(2 * c.h.o.WriteTimeout)
		select {
		case c.send <- f:
			t.Stop()
		case <-c.ctx.Done():
			t.Stop()
			return c.ctx.Err()
		case <-t.C:
			c.evict("slow consumer", CloseSlowConsumer, "send queue full during replay")
			return errors.New("client too slow during replay")
		}
	}
	c.mu.Lock()
	if seq > c.last[stream] {
		c.last[stream] = seq
	}
	c.mu.Unlock()
	return nil
}
