package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// benchREST measures requests per second and p99 latency of campaign-detail and health with
// o.conc concurrent keep-alive clients for o.duration each, next to a bare gin handler that
// returns the same JSON (decoded once from the real response and encoded per request, as the
// gateway does) in the same process and run.
func benchREST(ctx context.Context, o options) (*table, error) {
	t := &table{title: fmt.Sprintf("REST (%d concurrent keep-alive clients, %s per endpoint per run)", o.conc, o.duration)}
	for r := range o.runs {
		if err := restRun(ctx, o, t); err != nil {
			return t, fmt.Errorf("run %d: %w", r+1, err)
		}
	}
	t.note("target: ≥ 0.5 of the bare gin handler's requests/s")
	t.note("clients, gateway, the other services, NATS and the simulator share the same 2 cores; a request to the gateway crosses NATS to the campaign service (campaign-detail) or to campaign, indexer and pricer (health)")
	return t, nil
}

func restRun(ctx context.Context, o options, t *table) error {
	st, err := startServingStack(ctx, o)
	if err != nil {
		return err
	}
	defer st.close()
	paths := []struct{ name, path string }{
		{"campaign-detail", "/api/campaign-detail/" + benchMint},
		{"health", "/api/health"},
	}
	for _, p := range paths {
		body, err := getBody(st.api + p.path)
		if err != nil {
			return err
		}
		bare, stop, err := bareGin(p.path, body)
		if err != nil {
			return err
		}
		base, err := load(ctx, bare+p.path, o.conc, o.duration)
		stop()
		if err != nil {
			return err
		}
		stopProfile := o.profile() // the first endpoint's gateway load
		real, err := load(ctx, st.api+p.path, o.conc, o.duration)
		stopProfile()
		if err != nil {
			return err
		}
		t.add(p.name+": gateway", "req/s", real.rps)
		t.add(p.name+": gateway p99", "ms", ms(real.lat.pct(99)))
		t.add(p.name+": bare gin, same JSON", "req/s", base.rps)
		t.add(p.name+": bare gin p99", "ms", ms(base.lat.pct(99)))
		t.add(p.name+": ratio gateway / bare gin", "×", real.rps/base.rps)
		t.add(p.name+": CPU per request, gateway (bench process: clients, gateway, services, NATS; Postgres excluded)", "µs", real.cpu*1e6)
		t.add(p.name+": CPU per request, bare gin (bench process: clients and handler)", "µs", base.cpu*1e6)
		if real.errors+base.errors > 0 {
			t.note("%s: non-200 answers or errors: gateway %d, bare %d", p.name, real.errors, base.errors)
		}
	}
	return nil
}

func getBody(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, nil
}

// bareGin serves path with a gin engine (release mode, no middleware) that encodes the same JSON
// document on every request.
func bareGin(path string, body []byte) (base string, stop func(), err error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET(path, func(c *gin.Context) { c.JSON(http.StatusOK, doc) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

type loadResult struct {
	rps    float64
	lat    durations
	errors int
	cpu    float64 // CPU-seconds of the bench process per successful request
}

// load runs conc clients, each on its own keep-alive connection, sending GETs back to back for d.
func load(ctx context.Context, url string, conc int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	cpu := startCPU()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			var lat durations
			errs := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
				t0 := time.Now()
				resp, err := cl.Do(req)
				if err != nil {
					errs++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	res.rps = float64(len(res.lat)) / el.Seconds()
	res.cpu = cpu.cores() * el.Seconds() / float64(max(1, len(res.lat)))
	if len(res.lat) == 0 {
		return res, fmt.Errorf("GET %s: no successful answer in %s (%d errors)", url, d, res.errors)
	}
	return res, nil
}
