// Package bus adapts NATS and JetStream to the project's needs: connecting with retry and
// reconnect logging, idempotent creation of the streams, key-value buckets and durable consumers
// described in package events, publishing with dedup ids until JetStream acknowledges, a consumer
// runner that drains on shutdown, and micro services whose errors travel as apperr codes.
//
// It is the only package that imports nats.go in libs; services use it instead of wiring NATS by hand.
package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/config"
)

// ConnectConfig says how to reach NATS.
type ConnectConfig struct {
	URL  string // e.g. nats://127.0.0.1:4222; several may be comma-separated
	Name string // the client name shown by the server (the service name)
	// ConnectTimeout bounds the wait for the first connection; the client retries until then.
	ConnectTimeout time.Duration
}

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	NC  *nats.Conn
	JS  jetstream.JetStream
	log *slog.Logger
}

// Connect dials NATS, retrying until cfg.ConnectTimeout (default 30s) or ctx ends, and then keeps
// reconnecting for ever, logging every disconnect and reconnect. Close drains the connection.
func Connect(ctx context.Context, cfg ConnectConfig, log *slog.Logger) (*Conn, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Error("nats async error", "subject", subj, "err", err)
		}),
	}
	deadline := time.Now().Add(cfg.ConnectTimeout)
	backoff := 100 * time.Millisecond
	for {
		nc, err := nats.Connect(cfg.URL, opts...)
		if err == nil {
			// Consumers with several filter subjects and other JetStream features used here need
			// 2.10; an older server fails later with a cryptic error, so refuse it up front.
			if !versionAtLeast(nc.ConnectedServerVersion(), 2, 10) {
				v := nc.ConnectedServerVersion()
				nc.Close()
				return nil, fmt.Errorf("nats server %s is %s; version 2.10 or newer is required", redact(cfg.URL), v)
			}
			js, jerr := jetstream.New(nc)
			if jerr != nil {
				nc.Close()
				return nil, fmt.Errorf("jetstream: %w", jerr)
			}
			return &Conn{NC: nc, JS: js, log: log}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connect to nats %s: %w", redact(cfg.URL), err)
		}
		log.Warn("nats not reachable yet, retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// Close drains subscriptions and flushes pending publishes, then closes the connection.
func (c *Conn) Close() error {
	if c == nil || c.NC == nil || c.NC.IsClosed() {
		return nil
	}
	done := make(chan struct{})
	c.NC.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
		return err
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.NC.Close()
	}
	return nil
}

// Check reports an error when the connection is not currently usable, for readiness probes.
func (c *Conn) Check(ctx context.Context) error {
	if c.NC.Status() != nats.CONNECTED {
		return fmt.Errorf("nats %s", c.NC.Status())
	}
	_, err := c.JS.AccountInfo(ctx)
	return err
}

// redact hides credentials in a (comma-separated) NATS URL before it is logged or returned.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = config.RedactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// versionAtLeast reports whether a server version like "2.15.3" is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
