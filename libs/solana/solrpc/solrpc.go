// Package solrpc is a disciplined Solana JSON-RPC client: the production client
// github.com/gagliardetto/solana-go/rpc running over a transport that applies one client-side rate
// limiter, bounded per-attempt timeouts, and retries with jittered exponential backoff.
//
// Guarantees:
//   - Every HTTP attempt (first tries and retries alike) waits for the one rate limiter, so a
//     process never sends more than Options.RPS requests per second through one Client.
//   - HTTP 429 and a 200 response carrying JSON-RPC error code 429 are both retried, waiting at
//     least the server's Retry-After (seconds or an HTTP date) when it sends one; while such a
//     pause is in force every call through the Client waits, not just the one that was refused.
//   - Transient failures (5xx, transport errors, per-attempt timeouts, node-behind codes such as
//     -32005) are retried up to Options.MaxAttempts. Permanent JSON-RPC errors (-32602 invalid
//     params, -32601 method not found, -32015 unsupported transaction version, -32007/-32009
//     skipped slots, ...) are returned at once, never retried.
//   - Options.OnAttempt sees every attempt with its method and outcome, for metrics.
package solrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
	"golang.org/x/time/rate"
)

// Outcome classifies one attempt, for metrics.
type Outcome string

const (
	OutcomeOK          Outcome = "ok"
	OutcomeRateLimited Outcome = "rate_limited" // HTTP 429 or JSON-RPC 429
	OutcomeRPCError    Outcome = "rpc_error"    // a JSON-RPC error other than 429
	OutcomeHTTPError   Outcome = "http_error"   // a non-2xx status without a usable JSON-RPC body
	OutcomeTransport   Outcome = "transport"    // connection failure, timeout, unreadable body
)

// Attempt describes one HTTP attempt of a call.
type Attempt struct {
	Method   string
	Outcome  Outcome
	Attempt  int // 1 for the first try
	Duration time.Duration
	Err      error // nil when Outcome is ok
	Retrying bool  // another attempt follows
}

// Options tunes a Client. Zero values take the defaults noted.
type Options struct {
	// RPS is the client-side rate limit in requests per second (default 10). Burst defaults to RPS.
	RPS   float64
	Burst int
	// Timeout bounds one HTTP attempt (default 15s).
	Timeout time.Duration
	// MaxAttempts bounds the tries of one call, the first included (default 6).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the full-jitter exponential backoff (defaults 100ms, 5s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured (default 30s).
	MaxRetryAfter time.Duration
	// Headers are sent with every request (e.g. a provider's API key header).
	Headers map[string]string
	// HTTPClient overrides the HTTP client (its Timeout is ignored; Timeout above applies).
	HTTPClient *http.Client
	// OnAttempt, when set, is called after every attempt.
	OnAttempt func(Attempt)
}

func (o *Options) defaults() {
	if o.RPS <= 0 {
		o.RPS = 10
	}
	if o.Burst <= 0 {
		o.Burst = max(1, int(o.RPS))
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
}

// Client is a solana-go RPC client whose every call goes through the disciplined transport. Use
// the embedded *rpc.Client's methods (GetTransaction, GetSignaturesForAddress, ...) or
// RPCCallForInto for raw results.
type Client struct {
	*rpc.Client
	t *transport
}

// New returns a Client for the JSON-RPC endpoint url.
func New(url string, o Options) *Client {
	o.defaults()
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		}}
	}
	t := &transport{
		url:     url,
		opts:    o,
		http:    hc,
		limiter: rate.NewLimiter(rate.Limit(o.RPS), o.Burst),
	}
	return &Client{Client: rpc.NewWithCustomRPCClient(t), t: t}
}

// Error is a failed call after its last attempt.
type Error struct {
	Method   string
	Attempts int
	// HTTPStatus is the status of the last response, 0 when none was received.
	HTTPStatus int
	// RPC is the JSON-RPC error of the last response, nil when there was none.
	RPC *jsonrpc.RPCError
	Err error
	// Canceled is the caller's context error when the call gave up because ctx ended.
	Canceled error
}

func (e *Error) Error() string {
	switch {
	case e.RPC != nil:
		return fmt.Sprintf("solrpc %s: rpc error %d: %s (after %d attempts)", e.Method, e.RPC.Code, e.RPC.Message, e.Attempts)
	case e.HTTPStatus != 0:
		return fmt.Sprintf("solrpc %s: http %d: %v (after %d attempts)", e.Method, e.HTTPStatus, e.Err, e.Attempts)
	}
	if e.Err == nil {
		return fmt.Sprintf("solrpc %s: %v (after %d attempts)", e.Method, e.Canceled, e.Attempts)
	}
	return fmt.Sprintf("solrpc %s: %v (after %d attempts)", e.Method, e.Err, e.Attempts)
}

// Unwrap exposes the JSON-RPC error (so errors.As(err, **jsonrpc.RPCError) works as with the
// plain solana-go client), the transport error and the caller's context error.
func (e *Error) Unwrap() []error {
	var out []error
	if e.RPC != nil {
		out = append(out, e.RPC)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Canceled != nil {
		out = append(out, e.Canceled)
	}
	return out
}

// Code returns the JSON-RPC error code carried by err, if any.
func Code(err error) (int, bool) {
	var re *jsonrpc.RPCError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}

// Permanent reports whether err is a JSON-RPC error that no retry can fix.
func Permanent(err error) bool {
	code, ok := Code(err)
	return ok && !retryableCode(code)
}

// JSON-RPC codes that mean "try again later". Everything else is permanent: an invalid request
// stays invalid, and a skipped slot stays skipped.
func retryableCode(code int) bool {
	switch code {
	case 429, // rate limited (some providers answer 200 with this code)
		-32603, // internal error
		-32005, // node is behind / unhealthy
		-32004, // block not available for slot (yet)
		-32014, // block status not yet available
		-32016, // minimum context slot not reached
		-32000: // generic server error used by proxies for overload
		return true
	}
	return false
}

type transport struct {
	url     string
	opts    Options
	http    *http.Client
	limiter *rate.Limiter

	ids atomic.Uint64

	mu        sync.Mutex
	notBefore time.Time // a Retry-After pause shared by every call
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
}

type response struct {
	JSONRPC string            `json:"jsonrpc"`
	Result  json.RawMessage   `json:"result"`
	Error   *jsonrpc.RPCError `json:"error"`
	ID      json.RawMessage   `json:"id"`
}

// CallForInto implements rpc.JSONRPCClient.
func (t *transport) CallForInto(ctx context.Context, out any, method string, params []any) error {
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: t.ids.Add(1), Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("solrpc %s: encode params: %w", method, err)
	}
	raw, err := t.do(ctx, method, body, func(status int, data []byte) (json.RawMessage, *jsonrpc.RPCError, error) {
		var resp response
		if err := json.Unmarshal(data, &resp); err != nil {
			return nil, nil, fmt.Errorf("decode response: %w", err)
		}
		if resp.Error == nil && resp.Result == nil && status/100 != 2 {
			return nil, nil, fmt.Errorf("no JSON-RPC result")
		}
		return resp.Result, resp.Error, nil
	})
	if err != nil {
		return err
	}
	// Decode exactly as solana-go's own client does.
	if err := (&jsonrpc.RPCResponse{Result: raw}).GetObject(out); err != nil {
		return &Error{Method: method, Attempts: 1, Err: fmt.Errorf("decode result: %w", err)}
	}
	return nil
}

// CallWithCallback implements rpc.JSONRPCClient: one rate-limited attempt, no retries, since the
// callback owns the response.
func (t *transport) CallWithCallback(ctx context.Context, method string, params []any, cb func(*http.Request, *http.Response) error) error {
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: t.ids.Add(1), Method: method, Params: params})
	if err != nil {
		return err
	}
	if err := t.wait(ctx); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	req, err := t.newRequest(actx, body)
	if err != nil {
		return err
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return &Error{Method: method, Attempts: 1, Err: err}
	}
	defer resp.Body.Close()
	return cb(req, resp)
}

// CallBatch implements rpc.JSONRPCClient with the same retry rules applied to the whole batch.
func (t *transport) CallBatch(ctx context.Context, reqs jsonrpc.RPCRequests) (jsonrpc.RPCResponses, error) {
	if len(reqs) == 0 {
		return nil, errors.New("solrpc: empty batch")
	}
	for i, r := range reqs {
		r.ID = i
		r.JSONRPC = "2.0"
	}
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, err
	}
	var out jsonrpc.RPCResponses
	_, err = t.do(ctx, "batch", body, func(status int, data []byte) (json.RawMessage, *jsonrpc.RPCError, error) {
		var single response
		if json.Unmarshal(data, &single) == nil && single.Error != nil {
			return nil, single.Error, nil
		}
		out = nil
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, nil, fmt.Errorf("decode batch response: %w", err)
		}
		return nil, nil, nil
	})
	return out, err
}

func (t *transport) newRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range t.opts.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// wait blocks for the shared Retry-After pause and then for the rate limiter.
func (t *transport) wait(ctx context.Context) error {
	t.mu.Lock()
	nb := t.notBefore
	t.mu.Unlock()
	if d := time.Until(nb); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	return t.limiter.Wait(ctx)
}

func (t *transport) pause(d time.Duration) {
	t.mu.Lock()
	if nb := time.Now().Add(d); nb.After(t.notBefore) {
		t.notBefore = nb
	}
	t.mu.Unlock()
}

type decodeFunc func(status int, data []byte) (json.RawMessage, *jsonrpc.RPCError, error)

// do runs the attempts of one call.
func (t *transport) do(ctx context.Context, method string, body []byte, decode decodeFunc) (json.RawMessage, error) {
	var last *Error
	for attempt := 1; ; attempt++ {
		if err := t.wait(ctx); err != nil {
			if last != nil {
				last.Canceled = err
				return nil, last
			}
			return nil, &Error{Method: method, Attempts: attempt - 1, Err: err, Canceled: ctx.Err()}
		}
		start := time.Now()
		result, retryAfter, outcome, cerr := t.attempt(ctx, method, body, decode)
		retry := cerr != nil && cerr.retryable && attempt < t.opts.MaxAttempts && ctx.Err() == nil
		if t.opts.OnAttempt != nil {
			a := Attempt{Method: method, Outcome: outcome, Attempt: attempt, Duration: time.Since(start), Retrying: retry}
			if cerr != nil {
				a.Err = cerr.Error
			}
			t.opts.OnAttempt(a)
		}
		if cerr == nil {
			return result, nil
		}
		last = cerr.Error
		last.Attempts = attempt
		if !retry {
			return nil, last
		}
		delay := t.backoff(attempt)
		if retryAfter > 0 {
			retryAfter = min(retryAfter, t.opts.MaxRetryAfter)
			t.pause(retryAfter)
			delay = max(delay, retryAfter)
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			last.Canceled = ctx.Err()
			return nil, last
		case <-timer.C:
		}
	}
}

// backoff is full-jitter exponential: uniform in [base/2, min(max, base·2^(n-1))].
func (t *transport) backoff(attempt int) time.Duration {
	ceil := t.opts.BaseBackoff << min(attempt-1, 20)
	if ceil > t.opts.MaxBackoff || ceil <= 0 {
		ceil = t.opts.MaxBackoff
	}
	floor := t.opts.BaseBackoff / 2
	if ceil <= floor {
		return ceil
	}
	return floor + time.Duration(rand.Int64N(int64(ceil-floor)))
}

type callError struct {
	*Error
	retryable bool
}

func (t *transport) attempt(ctx context.Context, method string, body []byte, decode decodeFunc) (json.RawMessage, time.Duration, Outcome, *callError) {
	actx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	req, err := t.newRequest(actx, body)
	if err != nil {
		return nil, 0, OutcomeTransport, &callError{Error: &Error{Method: method, Err: err}}
	}
	resp, err := t.http.Do(req)
	if err != nil {
		// Connection refused/reset and per-attempt timeouts are transient; a cancelled caller is not.
		return nil, 0, OutcomeTransport, &callError{Error: &Error{Method: method, Err: err}, retryable: ctx.Err() == nil}
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	if rerr != nil {
		return nil, retryAfter, OutcomeTransport, &callError{Error: &Error{Method: method, HTTPStatus: resp.StatusCode, Err: rerr}, retryable: ctx.Err() == nil}
	}
	result, rpcErr, derr := decode(resp.StatusCode, data)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || (rpcErr != nil && rpcErr.Code == 429):
		e := &Error{Method: method, HTTPStatus: resp.StatusCode, RPC: rpcErr, Err: errors.New("rate limited")}
		return nil, retryAfter, OutcomeRateLimited, &callError{Error: e, retryable: true}
	case rpcErr != nil:
		e := &Error{Method: method, HTTPStatus: resp.StatusCode, RPC: rpcErr}
		return nil, retryAfter, OutcomeRPCError, &callError{Error: e, retryable: retryableCode(rpcErr.Code)}
	case resp.StatusCode/100 != 2:
		e := &Error{Method: method, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("status %s", resp.Status)}
		retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout
		return nil, retryAfter, OutcomeHTTPError, &callError{Error: e, retryable: retryable}
	case derr != nil:
		return nil, 0, OutcomeTransport, &callError{Error: &Error{Method: method, HTTPStatus: resp.StatusCode, Err: derr}, retryable: true}
	}
	return result, 0, OutcomeOK, nil
}

// parseRetryAfter reads a Retry-After header in either form: delay seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := time.Until(at); d > 0 {
			return d
		}
	}
	return 0
}
