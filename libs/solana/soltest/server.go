package soltest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
)

// Server is a Chain served over HTTP JSON-RPC and WebSocket PubSub on one port, like a Solana
// RPC node (which serves PubSub on its own port; clients here use WSURL).
type Server struct {
	*Chain
	URL   string // http://127.0.0.1:port
	WSURL string // ws://127.0.0.1:port
	srv   *http.Server
	ln    net.Listener
	done  chan struct{}
}

// NewServer starts a simulator on 127.0.0.1 with a free port; t.Cleanup closes it.
func NewServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("soltest: start server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Start serves a new chain on addr (host:port; port 0 picks a free one).
func Start(cfg Config, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := New(cfg)
	s := &Server{Chain: c, ln: ln, done: make(chan struct{})}
	hostPort := ln.Addr().String()
	s.URL = "http://" + hostPort
	s.WSURL = "ws://" + hostPort
	s.srv = &http.Server{Handler: Handler(c), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server, drops every connection and stops the slot clock.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.Chain.hub.closeAll()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	s.Chain.Close()
	return err
}

// serveControl is the JSON control endpoint under /control/ (see docs/simulator.md).
func (c *Chain) serveControl(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	var body struct {
		Slots      int      `json:"slots"`
		Address    string   `json:"address"`
		Lamports   uint64   `json:"lamports"`
		Signature  string   `json:"signature"`
		Signatures []string `json:"signatures"`
		Fixture    string   `json:"fixture"`
		// faults
		RateLimitRPS   *int    `json:"rateLimitRps"`
		RateLimitEvery *int    `json:"rateLimitEvery"`
		RateLimitMode  string  `json:"rateLimitMode"` // "http" (default) or "jsonrpc"
		LatencyMs      *int    `json:"latencyMs"`
		Silent         *bool   `json:"silent"`
		HistoryLag     *uint64 `json:"historyLag"`
		SubscribeOff   *bool   `json:"subscribeDisabled"`
	}
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			fail(http.StatusBadRequest, "body: "+err.Error())
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, "/control/")
	if r.Method != http.MethodPost && path != "calls" && path != "state" {
		fail(http.StatusMethodNotAllowed, "use POST")
		return
	}
	ok := map[string]any{"ok": true}
	switch path {
	case "state":
		json.NewEncoder(w).Encode(map[string]any{"processed": c.Slot("processed"), "confirmed": c.Slot("confirmed"), "finalized": c.Slot("finalized"), "blockhash": c.LatestBlockhash().String()})
	case "calls":
		json.NewEncoder(w).Encode(c.Calls())
	case "calls/reset":
		c.ResetCalls()
		json.NewEncoder(w).Encode(ok)
	case "advance":
		if body.Slots <= 0 || body.Slots > 100000 {
			fail(http.StatusBadRequest, "slots: must be 1..100000")
			return
		}
		c.Advance(body.Slots)
		json.NewEncoder(w).Encode(map[string]any{"slot": c.Slot("processed")})
	case "airdrop":
		pk, err := solana.PublicKeyFromBase58(body.Address)
		if err != nil {
			fail(http.StatusBadRequest, "address: "+err.Error())
			return
		}
		sig, err := c.airdrop(pk, body.Lamports)
		if err != nil {
			fail(http.StatusBadRequest, "lamports: "+err.Error())
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"signature": sig.String()})
	case "faults":
		f := c.faults
		mode := RateLimitHTTP
		if body.RateLimitMode == "jsonrpc" {
			mode = RateLimitJSONRPC
		} else if body.RateLimitMode != "" && body.RateLimitMode != "http" {
			fail(http.StatusBadRequest, `rateLimitMode: must be "http" or "jsonrpc"`)
			return
		}
		if body.RateLimitRPS != nil {
			f.SetRateLimit(*body.RateLimitRPS, mode)
		}
		if body.RateLimitEvery != nil {
			f.SetRateLimitEvery(*body.RateLimitEvery, mode)
		}
		if body.LatencyMs != nil {
			f.SetLatency(time.Duration(*body.LatencyMs) * time.Millisecond)
		}
		if body.Silent != nil {
			f.SetSilent(*body.Silent)
		}
		if body.HistoryLag != nil {
			f.SetHistoryLag(*body.HistoryLag)
		}
		if body.SubscribeOff != nil {
			f.SetSubscribeDisabled(*body.SubscribeOff)
		}
		json.NewEncoder(w).Encode(ok)
	case "faults/reset":
		c.faults.Reset()
		json.NewEncoder(w).Encode(ok)
	case "drop-connections":
		json.NewEncoder(w).Encode(map[string]any{"dropped": c.faults.DropConnections()})
	case "skip-notifications":
		for _, s := range body.Signatures {
			sig, err := solana.SignatureFromBase58(s)
			if err != nil {
				fail(http.StatusBadRequest, "signatures: "+err.Error())
				return
			}
			c.faults.SkipNotifications(sig)
		}
		json.NewEncoder(w).Encode(ok)
	case "fork-drop":
		sig, err := solana.SignatureFromBase58(body.Signature)
		if err != nil {
			fail(http.StatusBadRequest, "signature: "+err.Error())
			return
		}
		if err := c.faults.ForkDrop(sig); err != nil {
			fail(http.StatusConflict, "signature: "+err.Error())
			return
		}
		json.NewEncoder(w).Encode(ok)
	case "replay":
		n, err := c.Replay(body.Fixture)
		if err != nil {
			fail(http.StatusBadRequest, "fixture: "+err.Error())
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"delivered": n})
	default:
		fail(http.StatusNotFound, "unknown control path "+path)
	}
}

// Handler returns the chain's HTTP handler (JSON-RPC, PubSub upgrade and /control/), for
// mounting in another server or driving with net/http/httptest.
func Handler(c *Chain) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/control/", c.serveControl)
	mux.HandleFunc("/", c.serveRPC)
	return mux
}
