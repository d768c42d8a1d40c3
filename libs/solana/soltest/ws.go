package soltest

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gorilla/websocket"
)

// wsQueue is how many frames may wait for a slow subscriber before its connection is closed,
// so one stuck client never slows the chain.
const wsQueue = 16384

type wsConn struct {
	h    *hub
	ws   *websocket.Conn
	send chan []byte
	done chan struct{}
	once sync.Once
}

var upgrader = websocket.Upgrader{
	CheckOrigin:       func(*http.Request) bool { return true },
	EnableCompression: true,
}

func (c *Chain) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := &wsConn{h: c.hub, ws: ws, send: make(chan []byte, wsQueue), done: make(chan struct{})}
	ws.SetPingHandler(func(data string) error {
		if c.faults.isSilent() {
			return nil // a silent socket does not answer pings
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if err == websocket.ErrCloseSent {
			return nil
		}
		return err
	})
	c.hub.register(conn)
	go conn.writer()
	conn.reader(c)
}

func (w *wsConn) enqueue(frame []byte) {
	select {
	case <-w.done:
	case w.send <- frame:
	default:
		w.close() // subscriber too slow: drop it rather than block the chain
	}
}

func (w *wsConn) close() {
	w.once.Do(func() {
		close(w.done)
		w.ws.Close()
	})
}

func (w *wsConn) writer() {
	for {
		select {
		case <-w.done:
			return
		case f := <-w.send:
			if w.h.c.faults.isSilent() {
				continue
			}
			w.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := w.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				w.close()
				return
			}
		}
	}
}

func (w *wsConn) reader(c *Chain) {
	defer func() {
		w.close()
		c.hub.unregister(w)
	}()
	for {
		_, msg, err := w.ws.ReadMessage()
		if err != nil {
			return
		}
		c.handleWS(w, msg)
	}
}

type wsRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

func (c *Chain) handleWS(w *wsConn, msg []byte) {
	var req wsRequest
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("soltest: panic in PubSub handler", "method", req.Method, "panic", r)
			w.enqueue(errorFrame(req.ID, &rpcError{Code: -32603, Message: "Internal error"}))
		}
	}()
	if err := json.Unmarshal(msg, &req); err != nil {
		w.enqueue(errorFrame(nil, &rpcError{Code: -32700, Message: "Parse error"}))
		return
	}
	if req.Method == "" {
		w.enqueue(errorFrame(req.ID, &rpcError{Code: -32600, Message: "Invalid request"}))
		return
	}
	c.calls.inc(req.Method)
	res, rerr := c.wsMethod(w, req)
	if rerr != nil {
		w.enqueue(errorFrame(req.ID, rerr))
		return
	}
	if _, done := res.(responded); done {
		return
	}
	w.enqueue(resultFrame(req.ID, res))
}

// responded marks a request whose response was already queued (subscriptions, whose response
// must precede their first notification).
type responded struct{}

type subConfig struct {
	Commitment rpc.CommitmentType `json:"commitment"`
	Encoding   string             `json:"encoding"`
}

func parseSubConfig(p []json.RawMessage, i int) (subConfig, *rpcError) {
	var cfg subConfig
	if len(p) > i && string(p[i]) != "null" {
		if err := json.Unmarshal(p[i], &cfg); err != nil {
			return cfg, invalidParams("Invalid params: " + err.Error())
		}
	}
	cfg.Commitment = normCommitment(cfg.Commitment)
	return cfg, nil
}

func (c *Chain) wsMethod(w *wsConn, req wsRequest) (any, *rpcError) {
	p := req.Params
	subscribe := func(s *sub) uint64 {
		s.conn = w
		return c.hub.add(s, req.ID)
	}
	isSub := len(req.Method) > 9 && req.Method[len(req.Method)-9:] == "Subscribe"
	if isSub && c.faults.subscribeDisabled() {
		return nil, &rpcError{Code: -32601, Message: "Method not found"}
	}
	switch req.Method {
	case "logsSubscribe":
		if len(p) < 1 {
			return nil, invalidParams("Invalid params: invalid length 0, expected at least 1 element")
		}
		cfg, e := parseSubConfig(p, 1)
		if e != nil {
			return nil, e
		}
		s := &sub{kind: "logs", cm: cfg.Commitment}
		var str string
		if json.Unmarshal(p[0], &str) == nil {
			if str != "all" && str != "allWithVotes" {
				return nil, invalidParams("Invalid params: unknown variant `" + str + "`, expected `all` or `allWithVotes`")
			}
			s.all = true
		} else {
			var m struct {
				Mentions []string `json:"mentions"`
			}
			if err := json.Unmarshal(p[0], &m); err != nil || m.Mentions == nil {
				return nil, invalidParams("Invalid params: data did not match any variant of untagged enum RpcTransactionLogsFilter")
			}
			if len(m.Mentions) != 1 {
				return nil, invalidParams("Invalid Request: Only 1 address supported")
			}
			pk, err := solana.PublicKeyFromBase58(m.Mentions[0])
			if err != nil {
				return nil, invalidParams("Invalid Request: Invalid pubkey provided")
			}
			s.key = pk
		}
		subscribe(s)
		return responded{}, nil
	case "accountSubscribe":
		if len(p) < 1 {
			return nil, invalidParams("Invalid params: invalid length 0, expected at least 1 element")
		}
		pk, e := parsePubkey(p[0])
		if e != nil {
			return nil, e
		}
		cfg, e := parseSubConfig(p, 1)
		if e != nil {
			return nil, e
		}
		if cfg.Encoding == "" {
			cfg.Encoding = "base58"
		}
		subscribe(&sub{kind: "account", key: pk, cm: cfg.Commitment, encoding: cfg.Encoding})
		return responded{}, nil
	case "signatureSubscribe":
		if len(p) < 1 {
			return nil, invalidParams("Invalid params: invalid length 0, expected at least 1 element")
		}
		sig, e := parseSignature(p[0])
		if e != nil {
			return nil, e
		}
		cfg, e := parseSubConfig(p, 1)
		if e != nil {
			return nil, e
		}
		// Subscribe and check under the chain lock so that a transaction reaching the commitment
		// concurrently is notified exactly once.
		c.mu.RLock()
		subscribe(&sub{kind: "signature", sig: sig, cm: cfg.Commitment})
		r, ok := c.txs[sig]
		var evs []event
		if ok && !r.dropped && r.fixture == nil && r.slot <= c.commitSlotLocked(cfg.Commitment) {
			evs = c.hub.txEventsLocked(r, cfg.Commitment)
		}
		c.mu.RUnlock()
		c.hub.publish(evs)
		return responded{}, nil
	case "slotSubscribe":
		subscribe(&sub{kind: "slot"})
		return responded{}, nil
	case "logsUnsubscribe", "accountUnsubscribe", "signatureUnsubscribe", "slotUnsubscribe":
		if len(p) < 1 {
			return nil, invalidParams("Invalid params: invalid length 0, expected 1 element")
		}
		var id uint64
		if err := json.Unmarshal(p[0], &id); err != nil {
			return nil, invalidParams("Invalid params: invalid type: expected u64")
		}
		kind := map[string]string{"logsUnsubscribe": "logs", "accountUnsubscribe": "account", "signatureUnsubscribe": "signature", "slotUnsubscribe": "slot"}[req.Method]
		if !c.hub.remove(w, id, kind) {
			return nil, invalidParams("Invalid subscription id.")
		}
		return true, nil
	}
	return nil, &rpcError{Code: -32601, Message: "Method not found"}
}
