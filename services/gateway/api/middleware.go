package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/solcrowd/backend/libs/apperr"
	"golang.org/x/time/rate"
)

const requestIDKey = "request_id"

// requestIDMiddleware takes a sane X-Request-ID from the client (so a caller can correlate) or
// makes a fresh one, and echoes it in the response.
func requestIDMiddleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !saneRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func saneRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// recoveryMiddleware turns a panic in a handler into a logged internal error, so one bad request
// never takes the process down or leaks a stack trace.
func recoveryMiddleware(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // the client went away; nothing to answer
					panic(p)
				}
				log.Error("panic in handler", "request_id", requestID(c), "path", c.Request.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					writeError(c, log, fmt.Errorf("panic: %v", p))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// metrics counts requests and their latency by route pattern (never by raw path, so the label
// set stays bounded).
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) middleware(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		d := time.Since(start)
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
		if route != "/healthz" && route != "/readyz" && route != "/metrics" {
			log.Debug("http", "request_id", requestID(c), "method", c.Request.Method, "route", route, "status", status, "dur", d)
		}
	}
}

// bodyLimitMiddleware caps every request body at max bytes. A declared Content-Length over the
// limit is refused before anything is read; a body that grows past it fails while decoding.
func bodyLimitMiddleware(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			fail(c, withStatus(http.StatusRequestEntityTooLarge, apperr.InvalidField("body", "request body is larger than %d bytes", max)))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// corsMiddleware answers CORS for the configured origins ("*" allows any). Preflight requests
// are answered here and go no further.
func corsMiddleware(origins []string) gin.HandlerFunc {
	any := slices.Contains(origins, "*")
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" {
			c.Next()
			return
		}
		allowed := any || slices.Contains(origins, origin)
		if allowed {
			if any {
				c.Header("Access-Control-Allow-Origin", "*")
			} else {
				c.Header("Access-Control-Allow-Origin", origin)
				c.Header("Vary", "Origin")
			}
			c.Header("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		}
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			if allowed {
				c.Header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
				c.Header("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-ID")
				c.Header("Access-Control-Max-Age", "600")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// rateLimiter holds one token bucket per client IP for write requests. Idle buckets are swept so
// the map cannot grow without bound.
type rateLimiter struct {
	mu      sync.Mutex
	perMin  int
	clients map[string]*clientLimit
	swept   time.Time
	now     func() time.Time
}

type clientLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(perMin int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMin: perMin, clients: map[string]*clientLimit{}, now: now}
}

func (r *rateLimiter) allow(ip string) bool {
	if r.perMin <= 0 {
		return true
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.swept) > time.Minute {
		for k, v := range r.clients {
			if now.Sub(v.seen) > 10*time.Minute {
				delete(r.clients, k)
			}
		}
		r.swept = now
	}
	cl, ok := r.clients[ip]
	if !ok {
		cl = &clientLimit{lim: rate.NewLimiter(rate.Limit(float64(r.perMin)/60), r.perMin)}
		r.clients[ip] = cl
	}
	cl.seen = now
	return cl.lim.AllowN(now, 1)
}

func (r *rateLimiter) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.allow(c.ClientIP()) {
			fail(c, apperr.New(apperr.RateLimited, "too many write requests from this address; retry later"))
			return
		}
		c.Next()
	}
}

// operatorAuth admits requests carrying "Authorization: Bearer <ADMIN_API_KEY>". The comparison
// is constant-time. With no key configured the operator endpoints are disabled (403).
func operatorAuth(key string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if key == "" {
			fail(c, withStatus(http.StatusForbidden, apperr.New(apperr.Unauthorized, "operator endpoints are disabled (ADMIN_API_KEY is not set)")))
			return
		}
		h := c.GetHeader("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(key)) != 1 {
			fail(c, apperr.New(apperr.Unauthorized, "missing or wrong operator bearer token"))
			return
		}
		c.Next()
	}
}

// singleValuedQueryParams returns the names of the query parameters doc declares. Every one of
// them takes a single value; a parameter declared as an array would need its own handling, so
// it is refused here rather than silently treated as single-valued.
func singleValuedQueryParams(doc *openapi3.T) (map[string]bool, error) {
	names := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			for _, ref := range params {
				p := ref.Value
				if p == nil || p.In != openapi3.ParameterInQuery {
					continue
				}
				if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeArray) {
					return nil, fmt.Errorf("openapi: %s %s: query parameter %s is an array; singleQueryMiddleware only knows single values", method, path, p.Name)
				}
				names[p.Name] = true
			}
		}
	}
	return names, nil
}

// singleQueryMiddleware refuses a request that repeats a query parameter the API declares
// (?wallet=a&wallet=b): handlers read one value, and silently taking the first would act on
// input the client may not have meant. Undeclared parameters are ignored, repeated or not.
func singleQueryMiddleware(single map[string]bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.RawQuery != "" {
			q := c.Request.URL.Query()
			names := make([]string, 0, len(q))
			for name, vs := range q {
				if len(vs) > 1 && single[name] {
					names = append(names, name)
				}
			}
			if len(names) > 0 {
				slices.Sort(names) // a stable answer when several repeat
				fail(c, apperr.InvalidField(names[0], "must be given at most once"))
				return
			}
		}
		c.Next()
	}
}
