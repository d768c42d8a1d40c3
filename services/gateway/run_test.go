package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/services/gateway"
)

// TestRunServesAndStops starts the real wiring (Run) on a free port against an embedded
// JetStream server: the REST surface, readiness, the WebSocket and the docs answer, and Run
// returns cleanly when its context ends.
func TestRunServesAndStops(t *testing.T) {
	ns := natstest.Run(t)
	cfg, err := gateway.LoadConfig(map[string]string{
		"NATS_URL": ns.URL(), "HTTP_ADDR": "127.0.0.1:0", "GATEWAY_OPS_ADDR": "127.0.0.1:0",
		"WS_ALLOWED_ORIGINS": "https://app.example", "CORS_ORIGINS": "https://app.example, https://b.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CORSOrigins) != 2 || cfg.CORSOrigins[1] != "https://b.example" {
		t.Fatalf("CORS_ORIGINS parsed as %q", cfg.CORSOrigins)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.RunWithListener(ctx, cfg, slog.New(slog.DiscardHandler), func(a net.Addr) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no listener")
	}
	get := func(path string) (int, string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get("/openapi.json"); code != 200 || !strings.Contains(body, `"/api/campaign-detail/{contract_address}"`) {
		t.Fatalf("openapi: %d", code)
	}
	// No campaign service runs here: the seed's health answers 503 in the seed's shape.
	if code, body := get("/api/health"); code != 503 || !strings.Contains(body, `"status":"unhealthy"`) {
		t.Fatalf("health: %d %s", code, body)
	}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {"https://app.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(map[string]any{"type": "subscribe", "channels": []string{"campaigns"}}); err != nil {
		t.Fatal(err)
	}
	var ack map[string]any
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.ReadJSON(&ack); err != nil || ack["type"] != "ack" {
		t.Fatalf("ack: %v %v", ack, err)
	}
	// A foreign origin is refused with the API's error envelope.
	_, res, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop")
	}
	// The server closed the WebSocket on shutdown.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("websocket still open after shutdown")
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	for _, kv := range [][2]string{
		{"WS_SEND_QUEUE", "0"}, {"WS_MAX_MESSAGE_BYTES", "10"}, {"MAX_BODY_BYTES", "1"},
		{"RATE_LIMIT_WRITES_PER_MIN", "-1"}, {"PUBLIC_BASE_URL", "ftp://x"}, {"WS_PING_INTERVAL", "soon"},
		{"HTTP_ADDR", "nope"}, {"HTTP_ADDR", ":99999"}, {"GATEWAY_OPS_ADDR", ":99999"}, {"GATEWAY_OPS_ADDR", "nope"},
		{"TRUSTED_PROXIES", "banana"}, {"TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/33"},
		{"CORS_ORIGINS", "app.example"}, {"CORS_ORIGINS", "https://app.example/"}, {"CORS_ORIGINS", "ftp://app.example"},
		{"CORS_ORIGINS", "https://app.example,**"}, {"CORS_ORIGINS", "https://app.example:0"},
		{"WS_ALLOWED_ORIGINS", "https://app.example/path"},
	} {
		_, err := gateway.LoadConfig(map[string]string{kv[0]: kv[1]})
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: error %v does not name the variable", kv[0], kv[1], err)
		}
	}
	cfg, err := gateway.LoadConfig(map[string]string{"ADMIN_API_KEY": "k", "PUBLIC_BASE_URL": "https://api.example/"})
	if err != nil || cfg.AdminAPIKey.String() != "****" || cfg.PublicBaseURL != "https://api.example" {
		t.Fatalf("%+v %v", cfg, err)
	}
	cfg, err = gateway.LoadConfig(map[string]string{
		"HTTP_ADDR": "127.0.0.1:8000", "GATEWAY_OPS_ADDR": "[::1]:0",
		"CORS_ORIGINS": "https://app.example, http://localhost:3000", "WS_ALLOWED_ORIGINS": "*",
		"TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/8,::1,fd00::/8",
	})
	if err != nil || len(cfg.CORSOrigins) != 2 || len(cfg.TrustedProxies) != 4 {
		t.Fatalf("good values refused: %+v %v", cfg, err)
	}
}
