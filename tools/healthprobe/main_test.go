package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solcrowd/backend/libs/observe"
)

// The probe is exercised against the real ops handler every service serves, so a change of its
// paths or status codes shows up here.
func TestProbeAgainstOpsHandler(t *testing.T) {
	h := observe.NewHealth()
	var fail atomic.Bool
	fail.Store(true)
	h.Add("dep", func(context.Context) error {
		if fail.Load() {
			return context.DeadlineExceeded
		}
		return nil
	})
	srv := httptest.NewServer(observe.Handler(h, prometheus.NewRegistry()))
	defer srv.Close()
	ctx := context.Background()

	if err := probe(ctx, srv.Client(), srv.URL+"/healthz"); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	err := probe(ctx, srv.Client(), srv.URL+"/readyz")
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("readyz with a failing check: got %v, want a 503 error", err)
	}
	fail.Store(false)
	if err := probe(ctx, srv.Client(), srv.URL+"/readyz"); err != nil {
		t.Fatalf("readyz once ready: %v", err)
	}
	if err := probe(ctx, srv.Client(), srv.URL+"/nope"); err == nil {
		t.Fatal("404 accepted")
	}
}

func TestProbeRejectsBadURLsAndTimesOut(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9101/readyz", "ftp://x/readyz", "http:///readyz"} {
		if err := probe(context.Background(), http.DefaultClient, u); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := probe(ctx, srv.Client(), srv.URL+"/readyz"); err == nil {
		t.Fatal("a hanging server passed the probe")
	}
}
