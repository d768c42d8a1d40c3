package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/pgtest"
	"github.com/solcrowd/backend/services/campaign/postgres"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func addr() string { return solana.NewWallet().PublicKey().String() }

// harness is a real embedded JetStream server, a fresh Postgres database, a client connection
// and a store on that database, all torn down with the test.
type harness struct {
	t      testing.TB
	nats   *natstest.Server
	conn   *bus.Conn
	store  *postgres.Store
	cfg    Config
	wallet string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ns := natstest.Run(t)
	dsn := pgtest.NewDatabase(t, os.Getenv("TEST_DATABASE_URL"))
	wallet := addr()
	cfg, err := LoadConfig(map[string]string{
		"NATS_URL":                    ns.URL(),
		"DATABASE_URL":                dsn,
		"WALLET":                      wallet,
		"CAMPAIGN_OPS_ADDR":           "127.0.0.1:0",
		"CAMPAIGN_LEDGER_ACK_WAIT":    "1s",
		"CAMPAIGN_OUTBOX_POLL":        "100ms",
		"CAMPAIGN_SCHEDULER_INTERVAL": "100ms",
		"CAMPAIGN_LEDGER_BATCH":       "64",
		"CAMPAIGN_MAX_GOAL_SOL":       "20000000",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: ns.URL(), Name: "test"}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.Open(ctx, dsn, quiet(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &harness{t: t, nats: ns, conn: conn, store: store, cfg: cfg, wallet: wallet}
}

// run starts one replica of the service with Run, exactly as production does, and waits until it
// answers requests. It is stopped when the test ends.
func (h *harness) run() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, h.cfg, quiet()) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				h.t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			h.t.Error("Run did not return after cancel")
		}
	})
	waitFor(h.t, 20*time.Second, func() (bool, string) {
		select {
		case err := <-errc:
			h.t.Fatalf("Run ended early: %v", err)
		default:
		}
		r, err := bus.Request[events.StatsReply](context.Background(), h.conn, events.SubjectCampaignStats, events.StatsRequest{})
		return err == nil && r.DatabaseOK, "service not answering stats"
	})
}

// pricer answers token lookups like the pricer service: known mints get info, "down" mints an
// unavailable error, anything else not_found.
type stubPricer struct {
	mu    sync.Mutex
	known map[string]events.TokenInfo
	down  map[string]bool
}

func (h *harness) stubPricer() *stubPricer {
	h.t.Helper()
	p := &stubPricer{known: map[string]events.TokenInfo{}, down: map[string]bool{}}
	svc, err := h.conn.NewService(events.ServicePricer, "0.0.0-test", quiet())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = svc.Stop() })
	err = bus.Handle(svc, "token", events.SubjectPricerToken, func(_ context.Context, req events.TokenInfoRequest) (events.TokenInfo, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.down[req.Mint] {
			return events.TokenInfo{}, apperr.Unavailablef("upstream down")
		}
		if info, ok := p.known[req.Mint]; ok {
			return info, nil
		}
		return events.TokenInfo{}, apperr.NotFoundf("token not found")
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// mint registers a new token with the stub and returns its mint.
func (p *stubPricer) mint() string {
	m := addr()
	p.mu.Lock()
	defer p.mu.Unlock()
	img := "https://img.example/" + m[:6] + ".png"
	p.known[m] = events.TokenInfo{Version: 1, Mint: m, Name: "Token " + m[:4], Symbol: m[:4], Decimals: 6,
		ImageURL: img, PriceUSD: "0.0123", LiquidityUSD: "1000", MarketCapUSD: "50000", Volume24hUSD: "777",
		Launchpad: "pump.fun", Source: "raydium", UpdatedAt: time.Now().Add(-time.Minute)}
	return m
}

func waitFor(t testing.TB, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", d, why)
		}
		time.Sleep(20 * time.Millisecond) // polling interval of a deadline-bounded wait
	}
}

// publishContribution publishes a contribution event with msgID (the event's own id when "").
func (h *harness) publishContribution(c events.Contribution, msgID string) {
	h.t.Helper()
	if msgID == "" {
		msgID = c.MsgID()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.conn.PublishJSON(ctx, c.State.Subject(), msgID, c); err != nil {
		h.t.Fatal(err)
	}
}

// campaignEvents reads every message stored in CAMPAIGNS, in order.
func (h *harness) campaignEvents() []events.CampaignEvent {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := h.conn.JS.Stream(ctx, events.StreamCampaigns)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []events.CampaignEvent
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		var ev events.CampaignEvent
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			h.t.Fatal(err)
		}
		if m.Header.Get(jetstream.MsgIDHeader) != ev.MsgID() {
			h.t.Fatalf("message id %q does not match event %q", m.Header.Get(jetstream.MsgIDHeader), ev.MsgID())
		}
		out = append(out, ev)
	}
	return out
}

// consumerDrained reports whether the ledger's durable consumer has nothing pending or in flight.
func (h *harness) consumerDrained(durable string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := h.conn.JS.Consumer(ctx, events.StreamContributions, durable)
	if err != nil {
		return false, err.Error()
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return false, err.Error()
	}
	return info.NumPending == 0 && info.NumAckPending == 0, "consumer not drained"
}
