package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrPoison marks a message that can never be processed (undecodable, unknown version, breaks an
// invariant). A handler returns an error wrapping it to have the message terminated instead of
// redelivered; the runner logs and counts it.
var ErrPoison = errors.New("poison message")

// Poison wraps err so that the runner terminates the message.
func Poison(err error) error { return fmt.Errorf("%w: %w", ErrPoison, err) }

// Handler processes one message. Returning nil acks it; returning an error wrapping ErrPoison
// terminates it; any other error naks it with a delay, so it is redelivered (up to the consumer's
// MaxDeliver).
type Handler func(ctx context.Context, msg jetstream.Msg) error

// RunnerHooks lets the caller count outcomes (e.g. into Prometheus) without this package knowing
// about metrics.
type RunnerHooks struct {
	OnAck    func(subject string)
	OnNak    func(subject string, err error)
	OnPoison func(subject string, err error)
}

// Consume runs h over every message of cons until ctx ends. On shutdown it stops fetching and
// waits for the message in hand to finish (draining), so no message is half-processed; messages
// not yet acked are redelivered to another consumer. It returns nil on a clean stop.
func Consume(ctx context.Context, cons jetstream.Consumer, h Handler, log *slog.Logger, hooks RunnerHooks, opts ...jetstream.PullConsumeOpt) error {
	// Handlers get a context that outlives ctx by a grace period, so the message in hand can
	// finish its database transaction and ack during drain.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		err := h(hctx, msg)
		subject := msg.Subject()
		switch {
		case err == nil:
			if aerr := msg.Ack(); aerr != nil {
				log.Warn("ack failed; message will be redelivered", "subject", subject, "err", aerr)
			}
			if hooks.OnAck != nil {
				hooks.OnAck(subject)
			}
		case errors.Is(err, ErrPoison):
			log.Error("terminating poison message", "subject", subject, "err", err)
			_ = msg.TermWithReason(err.Error())
			if hooks.OnPoison != nil {
				hooks.OnPoison(subject, err)
			}
		default:
			log.Warn("message failed; will be redelivered", "subject", subject, "err", err)
			_ = msg.NakWithDelay(nakDelay(msg))
			if hooks.OnNak != nil {
				hooks.OnNak(subject, err)
			}
		}
	}, opts...)
	if err != nil {
		return fmt.Errorf("start consuming: %w", err)
	}
	<-ctx.Done()
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(15 * time.Second):
		cc.Stop()
		log.Warn("consumer drain timed out; unfinished messages will be redelivered")
	}
	return nil
}

func nakDelay(msg jetstream.Msg) time.Duration {
	md, err := msg.Metadata()
	if err != nil || md.NumDelivered <= 1 {
		return 100 * time.Millisecond
	}
	d := 100 * time.Millisecond << min(md.NumDelivered, 7)
	return min(d, 10*time.Second)
}

// DecodeJSON unmarshals a message body and checks its version, turning either failure into a
// poison error: a message that cannot be decoded now never will be.
func DecodeJSON(data []byte, v any, version func() int, maxVersion int) error {
	if err := json.Unmarshal(data, v); err != nil {
		return Poison(fmt.Errorf("decode: %w", err))
	}
	if version != nil {
		if got := version(); got < 1 || got > maxVersion {
			return Poison(fmt.Errorf("unsupported version %d (want 1..%d)", got, maxVersion))
		}
	}
	return nil
}
