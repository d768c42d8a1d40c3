// Package observe gives every service the same logging, metrics and operations endpoints: a slog
// logger (text or JSON), a Prometheus registry with the Go and process collectors, and an ops HTTP
// server answering /healthz (the process is alive), /readyz (every dependency check passes) and
// /metrics.
package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewLogger returns a logger writing to w in format "text" or "json" at level "debug", "info",
// "warn" or "error".
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q is not text or json", format)
}

// NewRegistry returns a fresh registry with the Go runtime and process collectors. Each service
// (and each test) has its own, so nothing is global.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Check is one readiness check; it must return within the context's deadline.
type Check func(ctx context.Context) error

// Health collects named readiness checks. It is safe for concurrent use; checks may be added
// while the server runs (e.g. once a dependency is opened).
type Health struct {
	mu     sync.RWMutex
	checks map[string]Check
}

// NewHealth returns an empty set of checks.
func NewHealth() *Health { return &Health{checks: map[string]Check{}} }

// Add registers a named check.
func (h *Health) Add(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
}

// Result is the outcome of running every check.
type Result struct {
	Status string            `json:"status"` // "ok" or "unavailable"
	Checks map[string]string `json:"checks"` // name → "ok" or the error
}

// Run runs every check concurrently with a 2-second budget each.
func (h *Health) Run(ctx context.Context) Result {
	h.mu.RLock()
	names := make([]string, 0, len(h.checks))
	for n := range h.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make([]Check, len(names))
	for i, n := range names {
		checks[i] = h.checks[n]
	}
	h.mu.RUnlock()

	res := Result{Status: "ok", Checks: make(map[string]string, len(names))}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			errs[i] = checks[i](cctx)
		})
	}
	wg.Wait()
	for i, n := range names {
		if errs[i] != nil {
			res.Status = "unavailable"
			res.Checks[n] = errs[i].Error()
		} else {
			res.Checks[n] = "ok"
		}
	}
	return res
}

// Handler serves /healthz, /readyz and /metrics.
func Handler(h *Health, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		res := h.Run(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if res.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// Serve runs an HTTP server on addr until ctx ends, then shuts it down gracefully within
// timeout. It returns once the listener is closed; a listen failure is returned at once.
// ready, when not nil, receives the bound address (useful with port 0).
func Serve(ctx context.Context, addr string, h http.Handler, timeout time.Duration, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
