// Package api is the gateway's public REST surface: the seed's endpoints with the seed's shapes,
// the operator endpoints, the OpenAPI document and its interactive docs page. Handlers validate
// every input before a request reaches a backend service, and every failure leaves through one
// error middleware with one mapping from error codes to HTTP statuses (errors.go).
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/gateway/fanout"
)

// Options configure the REST API.
type Options struct {
	AdminAPIKey           string
	CORSOrigins           []string
	TrustedProxies        []string
	RateLimitWritesPerMin int
	MaxBodyBytes          int64
	QRLabel               string
	Version               string
	Log                   *slog.Logger
	Health                *observe.Health      // /readyz checks; nil means none
	Registry              *prometheus.Registry // /metrics and the request metrics; nil disables both
	WebSocket             WebSocket            // mounted at GET /ws when not nil
	Now                   func() time.Time     // the clock; time.Now when nil
}

// WebSocket serves /ws. Errors before the upgrade are answered through the error middleware.
type WebSocket interface {
	ServeWS(w http.ResponseWriter, r *http.Request) error
}

// Server holds the handlers' dependencies.
type Server struct {
	b    *Backend
	o    Options
	log  *slog.Logger
	now  func() time.Time
	spec []byte
}

// New builds the gin engine with every route and middleware.
func New(b *Backend, o Options) (*gin.Engine, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.Health == nil {
		o.Health = observe.NewHealth()
	}
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	single, err := singleValuedQueryParams(doc)
	if err != nil {
		return nil, err
	}
	s := &Server{b: b, o: o, log: o.Log, now: o.Now, spec: spec}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	if err := r.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, err
	}
	reg := o.Registry
	var m *metrics
	if reg != nil {
		if m, err = newMetrics(reg); err != nil {
			return nil, err
		}
	} else if m, err = newMetrics(nil); err != nil {
		return nil, err
	}
	r.Use(requestIDMiddleware(), m.middleware(o.Log), errorMiddleware(o.Log), recoveryMiddleware(o.Log),
		corsMiddleware(o.CORSOrigins), bodyLimitMiddleware(o.MaxBodyBytes), singleQueryMiddleware(single))
	r.NoRoute(func(c *gin.Context) { fail(c, apperr.NotFoundf("no such endpoint: %s", c.Request.URL.Path)) })
	r.NoMethod(func(c *gin.Context) {
		fail(c, withStatus(http.StatusMethodNotAllowed, apperr.New(apperr.Invalid, "method %s is not allowed here", c.Request.Method)))
	})

	limit := newRateLimiter(o.RateLimitWritesPerMin, o.Now).middleware()
	operator := operatorAuth(o.AdminAPIKey)

	api := r.Group("/api")
	s.campaignRoutes(api, limit, operator)
	s.campaignDetailRoutes(api)
	s.escrowRoutes(api)
	s.qrRoutes(api)
	s.tokenRoutes(api)
	s.healthRoutes(api)

	s.docsRoutes(r)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		res := o.Health.Run(c.Request.Context())
		status := http.StatusOK
		if res.Status != "ok" {
			status = http.StatusServiceUnavailable
		}
		c.JSON(status, res)
	})
	if reg != nil {
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
		r.GET("/metrics", gin.WrapH(h))
	}
	if o.WebSocket != nil {
		r.GET("/ws", func(c *gin.Context) {
			if err := o.WebSocket.ServeWS(c.Writer, c.Request); err != nil {
				if errors.Is(err, fanout.ErrOriginNotAllowed) {
					err = withStatus(http.StatusForbidden, fanout.ErrOriginNotAllowed)
				}
				fail(c, err)
			}
		})
	}
	return r, nil
}
