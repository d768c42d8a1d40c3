package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"github.com/solcrowd/backend/services/campaign/postgres"
)

// Ledger consumes CONTRIBUTIONS with a durable pull consumer shared by every replica and applies
// the events to the store in batches: one database transaction per batch, acked only after it
// commits. A batch that fails is retried one event at a time, so one bad event cannot hold back
// the others: an event that can never apply is terminated and counted (dead letter); one that
// failed for a passing reason is nak'ed and redelivered, at most MaxDeliver times.
//
// Exactly-once money comes from the store, not from delivery: applying an event twice, or its
// states out of order, ends in the same ledger (see campaigns.Store.ApplyContributions).
type Ledger struct {
	store   campaigns.Store
	conn    *bus.Conn
	log     *slog.Logger
	m       *metrics
	batch   int
	cfg     jetstream.ConsumerConfig
	changed func()
	now     func() time.Time

	// afterCommit, when set (tests only), runs after a batch commits and before it is acked;
	// returning false stops the consumer without acking, as a crash at that point would.
	afterCommit func() bool
}

// LedgerConfig says how the ledger consumer is set up.
type LedgerConfig struct {
	Durable    string
	Batch      int
	AckWait    time.Duration
	MaxDeliver int
}

func newLedger(store campaigns.Store, conn *bus.Conn, log *slog.Logger, m *metrics, lc LedgerConfig, changed func()) *Ledger {
	return &Ledger{
		store: store, conn: conn, log: log, m: m, batch: lc.Batch, changed: changed, now: time.Now,
		cfg: jetstream.ConsumerConfig{
			Durable:        lc.Durable,
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        lc.AckWait,
			MaxDeliver:     lc.MaxDeliver,
			MaxAckPending:  max(lc.Batch*4, 1000),
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			FilterSubjects: []string{events.SubjectContributionConfirmed, events.SubjectContributionFinalized, events.SubjectContributionDropped},
		},
	}
}

// Run consumes until ctx ends. The batch in hand is finished and acked first; messages fetched
// but not started are nak'ed so another replica takes them at once.
func (l *Ledger) Run(ctx context.Context) error {
	cons, err := l.conn.EnsureConsumer(ctx, events.StreamContributions, l.cfg)
	if err != nil {
		return err
	}
	msgs := make(chan jetstream.Msg, l.batch)
	stop := make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-stop:
			_ = m.Nak()
		}
	}, jetstream.PullMaxMessages(l.batch), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			l.log.Debug("ledger consume", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("ledger: start consuming: %w", err)
	}
	defer func() {
		close(stop)
		cc.Stop()
		for {
			select {
			case m := <-msgs:
				_ = m.Nak()
			default:
				return
			}
		}
	}()
	// Work gets a context that survives shutdown briefly so a batch in hand commits and acks.
	wctx := context.WithoutCancel(ctx)
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case first = <-msgs:
		}
		batch := []jetstream.Msg{first}
	fill:
		for len(batch) < l.batch {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		pctx, cancel := context.WithTimeout(wctx, 30*time.Second)
		ok := l.process(pctx, batch)
		cancel()
		if !ok {
			return nil
		}
	}
}

// decode turns a message into a contribution, or a poison error when it can never be one.
func decode(m jetstream.Msg) (events.Contribution, error) {
	return decodeContribution(m.Subject(), m.Data())
}

func decodeContribution(subject string, data []byte) (events.Contribution, error) {
	var c events.Contribution
	if err := bus.DecodeJSON(data, &c, func() int { return c.Version }, events.Version); err != nil {
		return c, err
	}
	switch {
	case !c.State.Valid():
		return c, bus.Poison(fmt.Errorf("unknown state %q", c.State))
	case c.State.Subject() != subject:
		return c, bus.Poison(fmt.Errorf("state %q on subject %s", c.State, subject))
	case c.Signature == "" || len(c.Signature) > 128:
		return c, bus.Poison(errors.New("bad signature"))
	case c.TransferIndex < 0 || c.TransferIndex > 1<<20:
		return c, bus.Poison(errors.New("bad transfer index"))
	case c.Amount == 0:
		return c, bus.Poison(errors.New("zero amount"))
	case !address.Valid(c.Escrow):
		return c, bus.Poison(errors.New("bad escrow address"))
	case !address.Valid(c.Payer):
		return c, bus.Poison(errors.New("bad payer address"))
	case c.Mint != "" && !address.Valid(c.Mint):
		return c, bus.Poison(errors.New("bad mint address"))
	case len(c.Memo) > 4096 || len(c.Reference) > 64 || len(c.CampaignID) > 64:
		return c, bus.Poison(errors.New("oversized field"))
	}
	return c, nil
}

// process applies one batch and acks, terminates or naks each message. It returns false when
// the test hook asked to stop as if crashed.
func (l *Ledger) process(ctx context.Context, batch []jetstream.Msg) bool {
	var good []jetstream.Msg
	var cs []events.Contribution
	for _, m := range batch {
		c, err := decode(m)
		if err != nil {
			l.poison(m, err)
			continue
		}
		good = append(good, m)
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		return true
	}
	changed, err := l.store.ApplyContributions(ctx, cs, l.now())
	if err == nil {
		l.m.ledgerBatch.Observe(float64(len(cs)))
		if l.afterCommit != nil && !l.afterCommit() {
			return false
		}
		for i, m := range good {
			l.ack(m, changed[i])
		}
		l.changed()
		return true
	}
	l.log.Warn("ledger batch failed; applying one by one", "size", len(cs), "err", err)
	any := false
	for i, m := range good {
		ch, err := l.store.ApplyContributions(ctx, cs[i:i+1], l.now())
		switch {
		case err == nil:
			l.m.ledgerBatch.Observe(1)
			l.ack(m, ch[0])
			any = any || ch[0]
		case postgres.IsPermanent(err):
			l.poison(m, err)
		default:
			l.m.ledger.WithLabelValues("retry").Inc()
			l.log.Warn("contribution not applied; will be redelivered", "msg_id", cs[i].MsgID(), "err", err)
			_ = m.NakWithDelay(500 * time.Millisecond)
		}
	}
	if any {
		l.changed()
	}
	return true
}

func (l *Ledger) ack(m jetstream.Msg, changed bool) {
	if err := m.Ack(); err != nil {
		l.log.Warn("ack failed; the message will be redelivered and found applied", "err", err)
	}
	if changed {
		l.m.ledger.WithLabelValues("applied").Inc()
	} else {
		l.m.ledger.WithLabelValues("duplicate").Inc()
	}
}

func (l *Ledger) poison(m jetstream.Msg, err error) {
	l.m.ledger.WithLabelValues("poison").Inc()
	l.log.Error("terminating contribution event that can never apply (dead letter)", "subject", m.Subject(), "err", err)
	_ = m.TermWithReason(err.Error())
}
