package soltest

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
)

// RateLimitMode selects how a rate-limited HTTP request is answered.
type RateLimitMode int

const (
	// RateLimitHTTP answers HTTP 429 with a Retry-After header and Solana's JSON body (as the
	// public mainnet RPC does).
	RateLimitHTTP RateLimitMode = iota
	// RateLimitJSONRPC answers HTTP 200 carrying a JSON-RPC error with code 429 (as some providers do).
	RateLimitJSONRPC
)

// rateLimitMessage is the message Solana's public RPC sends with code 429.
const rateLimitMessage = "Too many requests for a specific RPC call, contact your app developer or support@rpcpool.com."

// Faults switches injected failures on and off at run time. All methods are safe for concurrent
// use; the zero state injects nothing.
type Faults struct {
	mu          sync.Mutex
	rps         int
	everyN      int
	mode        RateLimitMode
	windowStart time.Time
	windowCount int
	counter     int64
	latency     time.Duration
	silent      atomic.Bool
	subsOff     atomic.Bool
	skip        map[solana.Signature]struct{}
	hasSkip     atomic.Bool
	historyLag  uint64
	drop        func() int
	forkDrop    func(solana.Signature) error
}

// SetRateLimit lets through at most rps HTTP requests per second (0 disables) and answers the
// rest according to mode.
func (f *Faults) SetRateLimit(rps int, mode RateLimitMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rps, f.mode, f.windowCount, f.windowStart = rps, mode, 0, time.Time{}
}

// SetRateLimitEvery rate-limits every nth HTTP request (0 disables), answered according to mode.
func (f *Faults) SetRateLimitEvery(n int, mode RateLimitMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.everyN, f.mode, f.counter = n, mode, 0
}

// limited reports whether this request must be refused, and how.
func (f *Faults) limited() (bool, RateLimitMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.everyN > 0 {
		f.counter++
		if f.counter%int64(f.everyN) == 0 {
			return true, f.mode
		}
	}
	if f.rps > 0 {
		now := time.Now()
		if now.Sub(f.windowStart) >= time.Second {
			f.windowStart, f.windowCount = now, 0
		}
		f.windowCount++
		if f.windowCount > f.rps {
			return true, f.mode
		}
	}
	return false, 0
}

// SetLatency delays every HTTP response by d.
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

func (f *Faults) getLatency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency
}

// DropConnections closes every open WebSocket connection now and returns how many it closed.
// New connections are accepted afterwards.
func (f *Faults) DropConnections() int {
	if f.drop == nil {
		return 0
	}
	return f.drop()
}

// SetSilent makes every WebSocket connection silent while on: the TCP connection stays open but
// no response, notification or pong is sent. Notifications produced meanwhile are lost.
func (f *Faults) SetSilent(on bool) { f.silent.Store(on) }

func (f *Faults) isSilent() bool { return f.silent.Load() }

// SkipNotifications suppresses logs and signature notifications for the given signatures, so
// that only backfill (getSignaturesForAddress) can find them.
func (f *Faults) SkipNotifications(sigs ...solana.Signature) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.skip == nil {
		f.skip = map[solana.Signature]struct{}{}
	}
	for _, s := range sigs {
		f.skip[s] = struct{}{}
	}
	f.hasSkip.Store(len(f.skip) > 0)
}

func (f *Faults) skipped(sig solana.Signature) bool {
	if !f.hasSkip.Load() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.skip[sig]
	return ok
}

// SetHistoryLag makes getSignaturesForAddress answer as a history node lagging by the given
// number of slots: entries newer than (its commitment slot − lag) are left out.
func (f *Faults) SetHistoryLag(slots uint64) {
	f.mu.Lock()
	f.historyLag = slots
	f.mu.Unlock()
}

func (f *Faults) lag() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.historyLag
}

// ForkDrop simulates a fork that drops a landed, not yet finalized transaction: it disappears
// from every query and from Transfers, its balance changes are reverted and it is never
// finalized. It fails for unknown or already finalized transactions.
func (f *Faults) ForkDrop(sig solana.Signature) error {
	if f.forkDrop == nil {
		return errRejected
	}
	return f.forkDrop(sig)
}

// SetSubscribeDisabled makes every PubSub subscribe method answer -32601 Method not found.
func (f *Faults) SetSubscribeDisabled(on bool) { f.subsOff.Store(on) }

func (f *Faults) subscribeDisabled() bool { return f.subsOff.Load() }

// Reset switches every fault off (dropped transactions stay dropped).
func (f *Faults) Reset() {
	f.mu.Lock()
	f.rps, f.everyN, f.counter, f.windowCount, f.latency, f.skip, f.historyLag = 0, 0, 0, 0, 0, nil, 0
	f.mu.Unlock()
	f.hasSkip.Store(false)
	f.silent.Store(false)
	f.subsOff.Store(false)
}

// callCounter counts JSON-RPC requests per method (HTTP and WebSocket).
type callCounter struct {
	mu sync.RWMutex
	m  map[string]*atomic.Int64
}

func (cc *callCounter) init() { cc.m = map[string]*atomic.Int64{} }

func (cc *callCounter) inc(method string) {
	cc.mu.RLock()
	n, ok := cc.m[method]
	cc.mu.RUnlock()
	if !ok {
		cc.mu.Lock()
		if n, ok = cc.m[method]; !ok {
			n = new(atomic.Int64)
			cc.m[method] = n
		}
		cc.mu.Unlock()
	}
	n.Add(1)
}

// Calls returns a snapshot of request counts per JSON-RPC method (HTTP and PubSub, including
// requests refused by a fault; unknown method names are counted under their name).
func (c *Chain) Calls() map[string]int64 {
	c.calls.mu.RLock()
	defer c.calls.mu.RUnlock()
	out := make(map[string]int64, len(c.calls.m))
	for k, v := range c.calls.m {
		out[k] = v.Load()
	}
	return out
}

// ResetCalls sets every request counter to zero.
func (c *Chain) ResetCalls() {
	c.calls.mu.Lock()
	c.calls.m = map[string]*atomic.Int64{}
	c.calls.mu.Unlock()
}

// Transfers returns the chain's truth about value received by escrow: every successful, not
// dropped transfer into it (System transfers to escrow, SPL transfers into token accounts escrow
// owns), oldest first.
func (c *Chain) Transfers(escrow solana.PublicKey) []Transfer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fin := c.commitSlotLocked("finalized")
	type seqTransfer struct {
		Transfer
		seq uint64
	}
	var out []seqTransfer
	seen := map[solana.Signature]bool{}
	collect := func(list []*txRecord) {
		for _, r := range list {
			if r.dropped || r.err != nil || seen[r.sig] {
				continue
			}
			seen[r.sig] = true
			for _, t := range r.transfers {
				if (t.mint.IsZero() && t.to == escrow) || (!t.mint.IsZero() && t.toOwner == escrow) {
					out = append(out, seqTransfer{Transfer{Signature: r.sig, From: t.from, To: t.to, Amount: t.amount, Mint: t.mint, Slot: r.slot, Finalized: r.slot <= fin, Inner: t.inner}, r.seq})
				}
			}
		}
	}
	collect(c.byAddr[escrow])
	// SPL transfers name the escrow's token accounts, not the escrow itself.
	collect(c.byTokenOwner[escrow])
	sort.SliceStable(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	res := make([]Transfer, len(out))
	for i, t := range out {
		res[i] = t.Transfer
	}
	return res
}
