// Package market adapts the HTTP price and metadata APIs the pricer reads: CoinGecko and Jupiter
// for SOL/USD, DexScreener for token market data, and token metadata JSON (the image) behind an
// IPFS gateway. Every adapter goes through Client, which bounds time and size, paces requests,
// honours 429 Retry-After, and decodes numbers exactly (json.Number, never float64).
package market

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrRateLimited is returned (wrapped) while an upstream has asked us to back off.
var ErrRateLimited = errors.New("upstream rate limited")

// StatusError is a non-2xx upstream answer.
type StatusError struct {
	Upstream string
	Status   int
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: HTTP %d", e.Upstream, e.Status) }

// ClientConfig tunes one upstream's Client.
type ClientConfig struct {
	Name    string        // for errors and metrics, e.g. "coingecko"
	Timeout time.Duration // per request, headers and body included; default 5s
	RPS     float64       // sustained requests per second; 0 = unlimited
	MaxBody int64         // response size cap; default 1 MiB
	// DefaultBackoff is how long to back off after a 429 without a usable Retry-After; default 30s.
	DefaultBackoff time.Duration
	// MaxBackoff caps any Retry-After; default 10 minutes.
	MaxBackoff time.Duration
	HTTP       *http.Client // nil = a fresh client
	Now        func() time.Time
}

// Client is a polite HTTP JSON client for one upstream. It is safe for concurrent use.
type Client struct {
	cfg     ClientConfig
	limiter *rate.Limiter

	mu           sync.Mutex
	blockedUntil time.Time
}

// NewClient returns a Client for one upstream.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.DefaultBackoff <= 0 {
		cfg.DefaultBackoff = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lim := rate.NewLimiter(rate.Inf, 1)
	if cfg.RPS > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.RPS), 1)
	}
	return &Client{cfg: cfg, limiter: lim}
}

// BlockedUntil reports until when the upstream asked us to wait (zero when it did not).
func (c *Client) BlockedUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blockedUntil
}

// GetJSON fetches url and decodes the JSON body into dst with UseNumber. While a Retry-After is
// in force it fails at once with ErrRateLimited and sends nothing; otherwise it waits for the rate
// limiter (bounded by ctx and the timeout) and makes exactly one request.
func (c *Client) GetJSON(ctx context.Context, url string, header http.Header, dst any) error {
	body, err := c.Get(ctx, url, header)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: decode response: %w", c.cfg.Name, err)
	}
	return nil
}

// Get fetches url and returns the body, at most MaxBody bytes (a longer body is an error).
func (c *Client) Get(ctx context.Context, url string, header http.Header) ([]byte, error) {
	if until := c.BlockedUntil(); c.cfg.Now().Before(until) {
		return nil, fmt.Errorf("%s: %w until %s", c.cfg.Name, ErrRateLimited, until.UTC().Format(time.RFC3339))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", c.cfg.Name, ErrRateLimited, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.cfg.Name, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		wait := c.retryAfter(resp.Header.Get("Retry-After"))
		c.mu.Lock()
		if until := c.cfg.Now().Add(wait); until.After(c.blockedUntil) {
			c.blockedUntil = until
		}
		c.mu.Unlock()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s: %w for %s (HTTP 429)", c.cfg.Name, ErrRateLimited, wait)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &StatusError{Upstream: c.cfg.Name, Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read body: %w", c.cfg.Name, err)
	}
	if int64(len(body)) > c.cfg.MaxBody {
		return nil, fmt.Errorf("%s: response larger than %d bytes", c.cfg.Name, c.cfg.MaxBody)
	}
	return body, nil
}

// retryAfter parses a Retry-After header (delta seconds or an HTTP date), capped at MaxBackoff.
func (c *Client) retryAfter(h string) time.Duration {
	d := c.cfg.DefaultBackoff
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil && secs >= 0 {
		d = time.Duration(min(secs, int64(c.cfg.MaxBackoff/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(c.cfg.Now())
	}
	return min(max(d, time.Second), c.cfg.MaxBackoff)
}
