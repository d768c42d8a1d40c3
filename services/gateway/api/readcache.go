package api

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// readCache answers repeated reads of the same key from one backend reply for ttl, and collapses
// concurrent misses into one request. Popular pages (a campaign's detail, the health check) are
// read by every visitor; without it each read is a NATS round trip and a database query. Errors
// are never cached, and writes through the Backend drop the campaign entries at once, so this
// gateway always reads its own writes; other gateways' writes show within ttl.
type readCache[V any] struct {
	ttl    time.Duration
	group  singleflight.Group
	mu     sync.Mutex
	values map[string]cached[V]
}

type cached[V any] struct {
	v   V
	exp time.Time
}

func newReadCache[V any](ttl time.Duration) *readCache[V] {
	return &readCache[V]{ttl: ttl, values: map[string]cached[V]{}}
}

// get returns the cached value for key, or calls fetch (once for all concurrent callers) and
// caches its result when it succeeds. With a zero ttl it always calls fetch.
func (c *readCache[V]) get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	if c == nil || c.ttl <= 0 {
		return fetch(ctx)
	}
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.values[key]; ok && now.Before(e.exp) {
		c.mu.Unlock()
		return e.v, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do(key, func() (any, error) {
		// The fetch outlives any one caller: the first caller's cancellation must not fail the
		// others waiting on the same key.
		v, err := fetch(context.WithoutCancel(ctx))
		if err != nil {
			return v, err
		}
		c.mu.Lock()
		if len(c.values) > 10_000 { // bounded: drop everything rather than grow without limit
			c.values = map[string]cached[V]{}
		}
		c.values[key] = cached[V]{v: v, exp: time.Now().Add(c.ttl)}
		c.mu.Unlock()
		return v, nil
	})
	return v.(V), err
}

// clear drops every entry.
func (c *readCache[V]) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.values = map[string]cached[V]{}
	c.mu.Unlock()
}
