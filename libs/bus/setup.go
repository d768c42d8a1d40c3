package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/events"
)

// Topology says how the streams and buckets are stored; the shapes come from package events.
type Topology struct {
	Replicas int  // 1 for one server, 3 for a cluster
	Memory   bool // in-memory storage; tests only
}

// EnsureTopology creates or updates every stream and bucket of package events. It is idempotent:
// every service calls it at start, in any order, any number of times, also concurrently (when two
// callers race to create the same stream, the loser's "already in use" error is retried as an
// update).
func (c *Conn) EnsureTopology(ctx context.Context, t Topology) error {
	var err error
	for attempt := range 5 {
		if err = c.ensureTopology(ctx, t); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	return err
}

func (c *Conn) ensureTopology(ctx context.Context, t Topology) error {
	if t.Replicas <= 0 {
		t.Replicas = 1
	}
	storage := jetstream.FileStorage
	if t.Memory {
		storage = jetstream.MemoryStorage
	}
	for _, s := range events.Streams {
		_, err := c.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:       s.Name,
			Subjects:   s.Subjects,
			Storage:    storage,
			Replicas:   t.Replicas,
			MaxAge:     s.MaxAge,
			Duplicates: s.Duplicates,
			Retention:  jetstream.LimitsPolicy,
			Discard:    jetstream.DiscardOld,
		})
		if err != nil {
			return fmt.Errorf("ensure stream %s: %w", s.Name, err)
		}
	}
	for _, b := range events.Buckets {
		kvStorage := jetstream.FileStorage
		if t.Memory {
			kvStorage = jetstream.MemoryStorage
		}
		_, err := c.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   b.Bucket,
			History:  b.History,
			TTL:      b.TTL,
			Storage:  kvStorage,
			Replicas: t.Replicas,
		})
		if err != nil {
			return fmt.Errorf("ensure bucket %s: %w", b.Bucket, err)
		}
	}
	return nil
}

// KV opens a bucket that EnsureTopology created.
func (c *Conn) KV(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := c.JS.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// EnsureConsumer creates or updates a consumer on a stream. A durable consumer (cfg.Durable set)
// is shared by every replica of a service, so each message goes to one of them.
func (c *Conn) EnsureConsumer(ctx context.Context, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure consumer %s on %s: %w", cfg.Durable, stream, err)
	}
	return cons, nil
}
