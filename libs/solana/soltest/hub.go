package soltest

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// sub is one PubSub subscription.
type sub struct {
	id       uint64
	kind     string // "logs", "account", "signature", "slot"
	conn     *wsConn
	cm       rpc.CommitmentType
	encoding string
	key      solana.PublicKey // account, or the mentioned address for logs
	all      bool             // logs "all"/"allWithVotes"
	sig      solana.Signature
}

// event is one frame ready for one connection.
type event struct {
	conn  *wsConn
	frame []byte
}

// hub routes chain events to subscriptions. Lock order: Chain.mu before hub.mu.
type hub struct {
	c       *Chain
	mu      sync.RWMutex
	nextID  uint64
	conns   map[*wsConn]struct{}
	subs    map[uint64]*sub
	logsAll map[uint64]*sub
	logsKey map[solana.PublicKey]map[uint64]*sub
	acct    map[solana.PublicKey]map[uint64]*sub
	sigs    map[solana.Signature]map[uint64]*sub
	slots   map[uint64]*sub
}

func newHub(c *Chain) *hub {
	return &hub{c: c, conns: map[*wsConn]struct{}{}, subs: map[uint64]*sub{}, logsAll: map[uint64]*sub{},
		logsKey: map[solana.PublicKey]map[uint64]*sub{}, acct: map[solana.PublicKey]map[uint64]*sub{},
		sigs: map[solana.Signature]map[uint64]*sub{}, slots: map[uint64]*sub{}}
}

func notification(method string, result []byte, id uint64) []byte {
	b := make([]byte, 0, len(result)+96)
	b = append(b, `{"jsonrpc":"2.0","method":"`...)
	b = append(b, method...)
	b = append(b, `","params":{"result":`...)
	b = append(b, result...)
	b = append(b, `,"subscription":`...)
	b = strconv.AppendUint(b, id, 10)
	return append(b, "}}"...)
}

func contextResult(slot uint64, value []byte) []byte {
	b := make([]byte, 0, len(value)+40)
	b = append(b, `{"context":{"slot":`...)
	b = strconv.AppendUint(b, slot, 10)
	b = append(b, `},"value":`...)
	b = append(b, value...)
	return append(b, '}')
}

func normCommitment(cm rpc.CommitmentType) rpc.CommitmentType {
	switch cm {
	case rpc.CommitmentProcessed, "recent", "single":
		return rpc.CommitmentProcessed
	case rpc.CommitmentConfirmed, "singleGossip":
		return rpc.CommitmentConfirmed
	default:
		return rpc.CommitmentFinalized
	}
}

// txEventsLocked builds logs and signature notifications for a transaction reaching cm.
// Signature subscriptions are one-shot and are removed here.
func (h *hub) txEventsLocked(r *txRecord, cm rpc.CommitmentType) []event {
	if h.c.faults.skipped(r.sig) {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var evs []event
	var logsFrame []byte
	logsFor := func(s *sub) {
		if s.cm != cm {
			return
		}
		if logsFrame == nil {
			errJSON, _ := json.Marshal(r.err)
			logsJSON, _ := json.Marshal(r.logs)
			v := make([]byte, 0, 128+len(logsJSON))
			v = append(v, `{"signature":"`...)
			v = append(v, r.sig.String()...)
			v = append(v, `","err":`...)
			v = append(v, errJSON...)
			v = append(v, `,"logs":`...)
			v = append(v, logsJSON...)
			v = append(v, '}')
			logsFrame = contextResult(r.slot, v)
		}
		evs = append(evs, event{s.conn, notification("logsNotification", logsFrame, s.id)})
	}
	for _, s := range h.logsAll {
		logsFor(s)
	}
	if len(h.logsKey) > 0 {
		seen := map[solana.PublicKey]bool{}
		for _, k := range r.keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			for _, s := range h.logsKey[k] {
				logsFor(s)
			}
		}
	}
	if subs := h.sigs[r.sig]; len(subs) > 0 {
		errJSON, _ := json.Marshal(r.err)
		res := contextResult(r.slot, append(append([]byte(`{"err":`), errJSON...), '}'))
		for id, s := range subs {
			if s.cm != cm {
				continue
			}
			evs = append(evs, event{s.conn, notification("signatureNotification", res, s.id)})
			delete(subs, id)
			delete(h.subs, id)
		}
		if len(subs) == 0 {
			delete(h.sigs, r.sig)
		}
	}
	return evs
}

// accountEventsLocked builds account notifications for pk as of slot s for subscribers at cms.
func (h *hub) accountEventsLocked(pk solana.PublicKey, s uint64, cms []rpc.CommitmentType) []event {
	h.mu.RLock()
	defer h.mu.RUnlock()
	subs := h.acct[pk]
	if len(subs) == 0 {
		return nil
	}
	var evs []event
	a := h.c.accountAtLocked(pk, s)
	cache := map[string][]byte{}
	for _, sb := range subs {
		match := false
		for _, cm := range cms {
			if sb.cm == cm {
				match = true
			}
		}
		if !match {
			continue
		}
		res, ok := cache[sb.encoding]
		if !ok {
			v, _ := json.Marshal(h.c.renderAccountLocked(pk, a, sb.encoding, nil))
			res = contextResult(s, v)
			cache[sb.encoding] = res
		}
		evs = append(evs, event{sb.conn, notification("accountNotification", res, sb.id)})
	}
	return evs
}

func (h *hub) slotEventLocked(s uint64) []event {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.slots) == 0 {
		return nil
	}
	root := uint64(0)
	if s > finalityDepth {
		root = s - finalityDepth
	}
	res := []byte(`{"parent":` + strconv.FormatUint(s-1, 10) + `,"root":` + strconv.FormatUint(root, 10) + `,"slot":` + strconv.FormatUint(s, 10) + `}`)
	evs := make([]event, 0, len(h.slots))
	for _, sb := range h.slots {
		evs = append(evs, event{sb.conn, notification("slotNotification", res, sb.id)})
	}
	return evs
}

// publish hands frames to their connections' writers; it never blocks on a socket.
func (h *hub) publish(evs []event) {
	if len(evs) == 0 || h.c.faults.isSilent() {
		return
	}
	for _, e := range evs {
		e.conn.enqueue(e.frame)
	}
}

// add registers a subscription and queues the subscribe response (request id reqID) under the
// hub lock, so that no notification for it can be queued before the response.
func (h *hub) add(s *sub, reqID json.RawMessage) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	s.id = h.nextID
	s.conn.enqueue(resultFrame(reqID, s.id))
	h.subs[s.id] = s
	switch s.kind {
	case "logs":
		if s.all {
			h.logsAll[s.id] = s
		} else {
			m := h.logsKey[s.key]
			if m == nil {
				m = map[uint64]*sub{}
				h.logsKey[s.key] = m
			}
			m[s.id] = s
		}
	case "account":
		m := h.acct[s.key]
		if m == nil {
			m = map[uint64]*sub{}
			h.acct[s.key] = m
		}
		m[s.id] = s
	case "signature":
		m := h.sigs[s.sig]
		if m == nil {
			m = map[uint64]*sub{}
			h.sigs[s.sig] = m
		}
		m[s.id] = s
	case "slot":
		h.slots[s.id] = s
	}
	return s.id
}

// remove deletes a subscription of the given kind owned by conn; it reports whether it existed.
func (h *hub) remove(conn *wsConn, id uint64, kind string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.subs[id]
	if !ok || s.conn != conn || (kind != "" && s.kind != kind) {
		return false
	}
	h.removeLocked(s)
	return true
}

func (h *hub) removeLocked(s *sub) {
	delete(h.subs, s.id)
	switch s.kind {
	case "logs":
		delete(h.logsAll, s.id)
		if m := h.logsKey[s.key]; m != nil {
			delete(m, s.id)
			if len(m) == 0 {
				delete(h.logsKey, s.key)
			}
		}
	case "account":
		if m := h.acct[s.key]; m != nil {
			delete(m, s.id)
			if len(m) == 0 {
				delete(h.acct, s.key)
			}
		}
	case "signature":
		if m := h.sigs[s.sig]; m != nil {
			delete(m, s.id)
			if len(m) == 0 {
				delete(h.sigs, s.sig)
			}
		}
	case "slot":
		delete(h.slots, s.id)
	}
}

// count returns the number of live subscriptions.
func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

func (h *hub) register(c *wsConn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

// unregister drops a closed connection and all its subscriptions.
func (h *hub) unregister(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	for _, s := range h.subs {
		if s.conn == c {
			h.removeLocked(s)
		}
	}
}

// closeAll drops every WebSocket connection (the DropConnections fault and shutdown).
func (h *hub) closeAll() int {
	h.mu.RLock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	for _, c := range conns {
		c.close()
	}
	return len(conns)
}

// replay delivers a recorded notification frame to every matching subscription, rewriting only
// the subscription id; it returns how many frames were queued.
func (h *hub) replay(method string, result json.RawMessage, logs []string) int {
	h.mu.Lock()
	var evs []event
	switch method {
	case "logsNotification":
		targets := map[uint64]*sub{}
		for id, s := range h.logsAll {
			targets[id] = s
		}
		for _, l := range logs {
			var prog string
			if n, _ := scanInvoke(l, &prog); n {
				if pk, err := solana.PublicKeyFromBase58(prog); err == nil {
					for id, s := range h.logsKey[pk] {
						targets[id] = s
					}
				}
			}
		}
		for _, s := range targets {
			evs = append(evs, event{s.conn, notification(method, result, s.id)})
		}
	case "accountNotification":
		for _, m := range h.acct {
			for _, s := range m {
				evs = append(evs, event{s.conn, notification(method, result, s.id)})
			}
		}
	case "signatureNotification":
		for sig, m := range h.sigs {
			for id, s := range m {
				evs = append(evs, event{s.conn, notification(method, result, s.id)})
				delete(h.subs, id)
			}
			delete(h.sigs, sig)
		}
	}
	h.mu.Unlock()
	h.publish(evs)
	return len(evs)
}

func scanInvoke(line string, prog *string) (bool, error) {
	const p = "Program "
	if len(line) < len(p) || line[:len(p)] != p {
		return false, nil
	}
	rest := line[len(p):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == ' ' {
			if len(rest) > i+7 && rest[i+1:i+7] == "invoke" {
				*prog = rest[:i]
				return true, nil
			}
			return false, nil
		}
	}
	return false, nil
}
