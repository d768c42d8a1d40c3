package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishResult reports where JetStream stored a message and whether it was a duplicate of one
// already stored under the same dedup id.
type PublishResult struct {
	Stream    string
	Sequence  uint64
	Duplicate bool
}

// PublishJSON marshals v and publishes it on subject with Nats-Msg-Id = msgID, retrying with
// backoff until JetStream acknowledges it or ctx ends. Because the id names an immutable fact, a
// retry after a lost acknowledgement cannot store the message twice (within the stream's dedup
// window). It returns only after the message is stored.
func (c *Conn) PublishJSON(ctx context.Context, subject, msgID string, v any) (PublishResult, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return PublishResult{}, fmt.Errorf("marshal %s: %w", subject, err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ack, err := c.JS.PublishMsg(pctx, msg)
		cancel()
		if err == nil {
			return PublishResult{Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
		}
		// Every publish error is retried: the message must not be lost, and the dedup id makes
		// retries safe. Only the caller's context ends the loop.
		if attempt == 1 || attempt%20 == 0 {
			c.log.Warn("publish not acknowledged, retrying", "subject", subject, "msg_id", msgID, "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return PublishResult{}, fmt.Errorf("publish %s %s: %w (last error: %v)", subject, msgID, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
