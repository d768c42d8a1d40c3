package observe_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/observe"
)

func TestOpsServerReportsReadinessFromChecks(t *testing.T) {
	log, err := observe.NewLogger(io.Discard, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	health := observe.NewHealth()
	var failing atomic.Bool
	failing.Store(true)
	health.Add("db", func(context.Context) error {
		if failing.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- observe.Serve(ctx, "127.0.0.1:0", observe.Handler(health, observe.NewRegistry()), time.Second, log, func(a net.Addr) { addrc <- a })
	}()
	base := "http://" + (<-addrc).String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "connection refused") {
		t.Errorf("readyz with failing check: %d %s", code, body)
	}
	failing.Store(false)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz with passing check: %d", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestNewLoggerRejectsBadSettings(t *testing.T) {
	if _, err := observe.NewLogger(io.Discard, "xml", "info"); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := observe.NewLogger(io.Discard, "text", "loud"); err == nil {
		t.Error("level loud accepted")
	}
}
