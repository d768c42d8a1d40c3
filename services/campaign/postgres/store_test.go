package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/google/uuid"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/pgtest"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"github.com/solcrowd/backend/services/campaign/postgres"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t testing.TB, o postgres.Options) *postgres.Store {
	t.Helper()
	dsn := pgtest.NewDatabase(t, os.Getenv("TEST_DATABASE_URL"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, quiet(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func addr() string { return solana.NewWallet().PublicKey().String() }

func newCampaign(goal uint64, escrow string, end time.Time) campaigns.NewCampaign {
	now := time.Now().UTC().Truncate(time.Microsecond)
	mint := addr()
	return campaigns.NewCampaign{
		ID: uuid.NewString(), Reference: addr(), Mint: mint, Escrow: escrow, Name: "Karen", Symbol: "KAREN",
		Goal: goal, CreatedAt: now, ExpiresAt: end.UTC().Truncate(time.Microsecond),
		Token: events.TokenInfo{Version: 1, Mint: mint, Name: "Karen", Symbol: "KAREN", PriceUSD: "0.01", Launchpad: "pump.fun"},
	}
}

func mustCreate(t testing.TB, s *postgres.Store, nc campaigns.NewCampaign) events.Campaign {
	t.Helper()
	c, created, err := s.Create(context.Background(), nc)
	if err != nil || !created {
		t.Fatalf("create: %v (created=%v)", err, created)
	}
	return c
}

func contribution(campaignID, escrow, payer string, sig string, idx int, amount uint64, state events.ContributionState) events.Contribution {
	return events.Contribution{Version: 1, State: state, Signature: sig, TransferIndex: idx, Escrow: escrow,
		Payer: payer, Amount: amount, Decimals: 9, CampaignID: campaignID, Slot: 100, BlockTime: time.Now().Unix(),
		Observed: time.Now().UTC()}
}

func outbox(t *testing.T, s *postgres.Store) []events.CampaignEvent {
	t.Helper()
	var out []events.CampaignEvent
	_, err := s.RelayOutbox(context.Background(), 1000, func(_ context.Context, m campaigns.OutboxMessage) error {
		var ev events.CampaignEvent
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return err
		}
		if ev.MsgID() != m.MsgID || ev.Subject() != m.Subject {
			t.Errorf("outbox row %s/%s does not match its payload %s/%s", m.Subject, m.MsgID, ev.Subject(), ev.MsgID())
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Money columns hold every uint64 exactly: above 2^53 (where a float64 would round) and the maximum.
func TestMoneyRoundTripsExactly(t *testing.T) {
	s := openStore(t, postgres.Options{})
	ctx := context.Background()
	for _, goal := range []uint64{9007199254740993, 18446744073709551615} {
		c := mustCreate(t, s, newCampaign(goal, addr(), time.Now().Add(time.Hour)))
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.GoalLamports != goal {
			t.Fatalf("goal %d came back as %d", goal, got.GoalLamports)
		}
	}
	// A ledger amount of 2^53+1 reaches the totals exactly and a second one overflows nothing.
	c := mustCreate(t, s, newCampaign(18446744073709551615, addr(), time.Now().Add(time.Hour)))
	payer := addr()
	if _, err := s.ApplyContributions(ctx, []events.Contribution{
		contribution(c.ID, c.WalletAddress, payer, "sig1", 0, 9007199254740993, events.StateFinalized),
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, c.ID)
	if got.RaisedLamports != 9007199254740993 || got.SettledLamports != 9007199254740993 || got.PendingLamports != 0 {
		t.Fatalf("totals %d/%d/%d", got.RaisedLamports, got.SettledLamports, got.PendingLamports)
	}
	payers, _ := s.Contributors(ctx, c.ID)
	if payers[payer].Lamports != 9007199254740993 {
		t.Fatalf("per-payer total %d", payers[payer].Lamports)
	}
	// Pushing the total past 2^64-1 is refused as invalid and changes nothing.
	_, err := s.ApplyContributions(ctx, []events.Contribution{
		contribution(c.ID, c.WalletAddress, payer, "sig2", 0, 18446744073709551615, events.StateConfirmed),
	}, time.Now())
	if apperr.CodeOf(err) != apperr.Invalid || !postgres.IsPermanent(err) {
		t.Fatalf("overflow: got %v, want a permanent invalid error", err)
	}
	after, _ := s.Get(ctx, c.ID)
	if after.RaisedLamports != got.RaisedLamports || after.Revision != got.Revision {
		t.Fatalf("overflowing apply changed the campaign: %+v", after)
	}
	// The event snapshot carries the exact figure as a JSON string.
	evs := outbox(t, s)
	last := evs[len(evs)-1]
	b, _ := json.Marshal(last)
	var raw map[string]map[string]any
	_ = json.Unmarshal(b, &raw)
	if raw["campaign"]["raised_lamports"] != "9007199254740993" {
		t.Fatalf("event carries raised_lamports %v", raw["campaign"]["raised_lamports"])
	}
}

func TestMigrationsUpFromPreviousAndDown(t *testing.T) {
	s := openStore(t, postgres.Options{SkipMigrate: true})
	ctx := context.Background()
	latest, err := postgres.LatestVersion()
	if err != nil || latest < 2 {
		t.Fatalf("latest version %d, %v", latest, err)
	}
	// Previous version, with data in it.
	if err := s.MigrateTo(ctx, latest-1); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != latest-1 {
		t.Fatalf("version %d, want %d", v, latest-1)
	}
	if err := s.MigrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Then up to the latest: existing rows survive and get zero totals.
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, s, newCampaign(5, addr(), time.Now().Add(time.Hour)))
	if err := s.MigrateTo(ctx, 1); err != nil {
		t.Fatalf("down to 1 with data: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil || got.GoalLamports != 5 || got.RaisedLamports != 0 {
		t.Fatalf("campaign after down/up: %+v %v", got, err)
	}
	// Fully down leaves no tables; up again on the now-empty database works.
	if err := s.MigrateTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, c.ID); err == nil {
		t.Fatal("campaign readable after migrating down to 0")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != latest {
		t.Fatalf("version %d, want %d", v, latest)
	}
}

func TestCreateDatabaseWhenMissing(t *testing.T) {
	admin := pgtest.DefaultAdminURL
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		admin = u
	}
	name := "t_missing_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dsn := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
	t.Cleanup(func() { _ = pgtest.Drop(context.Background(), admin, name) })
	s, err := postgres.Open(context.Background(), dsn, quiet(), postgres.Options{CreateDatabase: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOneOpenCampaignPerMintAndIdempotency(t *testing.T) {
	s := openStore(t, postgres.Options{})
	ctx := context.Background()
	nc := newCampaign(10, addr(), time.Now().Add(time.Hour))
	nc.IdempotencyKey, nc.RequestHash = "k1", "h1"
	first := mustCreate(t, s, nc)

	again := nc
	again.ID, again.Reference = uuid.NewString(), addr()
	c, created, err := s.Create(ctx, again)
	if err != nil || created || c.ID != first.ID {
		t.Fatalf("retry with the same key: %v created=%v id=%s", err, created, c.ID)
	}
	again.RequestHash = "other"
	if _, _, err := s.Create(ctx, again); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("key reused for another request: %v", err)
	}
	again.IdempotencyKey = ""
	if _, _, err := s.Create(ctx, again); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second open campaign for the mint: %v", err)
	}
	// A rolled-back create leaves no event: only the first create's event is in the outbox.
	evs := outbox(t, s)
	if len(evs) != 1 || evs[0].Type != events.CampaignCreated || evs[0].Campaign.ID != first.ID {
		t.Fatalf("outbox: %+v", evs)
	}
	// After cancelling, the mint may get a new campaign.
	if _, err := s.Cancel(ctx, first.ID, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, first.ID, "again", time.Now()); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second cancel: %v", err)
	}
	desc := "after cancel"
	if _, err := s.Update(ctx, first.ID, campaigns.Patch{Description: &desc}, time.Now()); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("update of a cancelled campaign: %v", err)
	}
	if _, created, err := s.Create(ctx, again); err != nil || !created {
		t.Fatalf("create after cancel: %v", err)
	}
	if got, err := s.GetByMint(ctx, nc.Mint); err != nil || got.ID != again.ID {
		t.Fatalf("by mint returns the open one: %v %v", got.ID, err)
	}
}

func TestLedgerStateMachine(t *testing.T) {
	s := openStore(t, postgres.Options{})
	ctx := context.Background()
	c := mustCreate(t, s, newCampaign(1000, addr(), time.Now().Add(time.Hour)))
	p1, p2 := addr(), addr()
	apply := func(cs ...events.Contribution) []bool {
		t.Helper()
		ch, err := s.ApplyContributions(ctx, cs, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	check := func(raised, settled, pending uint64, contributors, count int64) {
		t.Helper()
		got, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RaisedLamports != raised || got.SettledLamports != settled || got.PendingLamports != pending ||
			got.ContributorCount != contributors || got.ContributionCount != count {
			t.Fatalf("got raised=%d settled=%d pending=%d contributors=%d count=%d; want %d %d %d %d %d",
				got.RaisedLamports, got.SettledLamports, got.PendingLamports, got.ContributorCount, got.ContributionCount,
				raised, settled, pending, contributors, count)
		}
	}
	w := c.WalletAddress
	// finalized before confirmed: counted once, as settled.
	apply(contribution(c.ID, w, p1, "A", 0, 100, events.StateFinalized))
	if ch := apply(contribution(c.ID, w, p1, "A", 0, 100, events.StateConfirmed)); ch[0] {
		t.Fatal("confirmed after finalized changed something")
	}
	check(100, 100, 0, 1, 1)
	// confirmed then duplicate confirmed, in one batch with the same payer twice.
	ch := apply(contribution(c.ID, w, p1, "B", 0, 50, events.StateConfirmed),
		contribution(c.ID, w, p1, "B", 0, 50, events.StateConfirmed),
		contribution(c.ID, w, p1, "B", 1, 7, events.StateConfirmed))
	if !ch[0] || ch[1] || !ch[2] {
		t.Fatalf("changed flags %v", ch)
	}
	check(157, 100, 57, 1, 3)
	// dropped removes from totals; a late confirmed does not resurrect it.
	apply(contribution(c.ID, w, p2, "C", 0, 30, events.StateConfirmed))
	check(187, 100, 87, 2, 4)
	apply(contribution(c.ID, w, p2, "C", 0, 30, events.StateDropped))
	check(157, 100, 57, 1, 3)
	apply(contribution(c.ID, w, p2, "C", 0, 30, events.StateConfirmed))
	check(157, 100, 57, 1, 3)
	// dropped before anything: a tombstone; then finalized (re-included) counts it.
	apply(contribution(c.ID, w, p2, "D", 0, 5, events.StateDropped))
	check(157, 100, 57, 1, 3)
	apply(contribution(c.ID, w, p2, "D", 0, 5, events.StateFinalized))
	check(162, 105, 57, 2, 4)
	// finalized cannot be dropped.
	apply(contribution(c.ID, w, p2, "D", 0, 5, events.StateDropped))
	check(162, 105, 57, 2, 4)
	payers, _ := s.Contributors(ctx, c.ID)
	if payers[p1] != (campaigns.PayerTotal{Lamports: 157, Transfers: 3}) || payers[p2] != (campaigns.PayerTotal{Lamports: 5, Transfers: 1}) {
		t.Fatalf("per payer %+v", payers)
	}
	// SPL transfers are in the ledger but not in SOL totals.
	spl := contribution(c.ID, w, p1, "E", 0, 1_000_000, events.StateFinalized)
	spl.Mint, spl.Decimals = addr(), 6
	apply(spl)
	check(162, 105, 57, 2, 5)
	// Unattributed money into the escrow bumps the campaign's unattributed counter.
	apply(contribution("", w, addr(), "F", 0, 9, events.StateConfirmed))
	got, _ := s.Get(ctx, c.ID)
	if got.UnattributedCount != 1 || got.RaisedLamports != 162 {
		t.Fatalf("unattributed %d raised %d", got.UnattributedCount, got.RaisedLamports)
	}
	txs, err := s.EscrowTransactions(ctx, w, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if txs.TransactionCount != 6 || txs.TotalLamports != 171 || len(txs.Transactions) != 3 || txs.NextCursor == "" || len(txs.Contributors) != 3 {
		t.Fatalf("escrow transactions %+v", txs)
	}
	seen := len(txs.Transactions)
	for cur := txs.NextCursor; cur != ""; {
		page, err := s.EscrowTransactions(ctx, w, cur, 3)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page.Transactions)
		cur = page.NextCursor
	}
	if seen != 6 {
		t.Fatalf("paged %d rows, want 6", seen)
	}
	if _, err := s.EscrowTransactions(ctx, addr(), "", 10); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown escrow: %v", err)
	}
	if _, err := s.EscrowTransactions(ctx, w, "!!", 10); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestStatusTransitions(t *testing.T) {
	s := openStore(t, postgres.Options{})
	ctx := context.Background()
	now := time.Now()
	funded := mustCreate(t, s, newCampaign(100, addr(), now.Add(time.Hour)))
	short := mustCreate(t, s, newCampaign(100, addr(), now.Add(time.Hour)))
	late := mustCreate(t, s, newCampaign(100, addr(), now.Add(time.Hour)))
	_ = outbox(t, s)

	// Confirmed money does not fund; finalized money reaching the goal does.
	p := addr()
	if _, err := s.ApplyContributions(ctx, []events.Contribution{contribution(funded.ID, funded.WalletAddress, p, "s1", 0, 100, events.StateConfirmed)}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, funded.ID); got.Status != events.StatusActive {
		t.Fatalf("confirmed-only status %s", got.Status)
	}
	if _, err := s.ApplyContributions(ctx, []events.Contribution{contribution(funded.ID, funded.WalletAddress, p, "s1", 0, 100, events.StateFinalized)}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, funded.ID); got.Status != events.StatusFunded {
		t.Fatalf("status %s, want funded", got.Status)
	}
	evs := outbox(t, s)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Type+":"+string(e.PreviousStatus)+">"+string(e.Campaign.Status))
	}
	want := []string{"progress:>active", "progress:>active", "status:active>funded"}
	if len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	if evs[1].Campaign.Revision <= evs[0].Campaign.Revision || evs[2].Campaign.Revision <= evs[1].Campaign.Revision {
		t.Fatal("revisions do not increase")
	}

	// Nothing is due yet.
	if n, err := s.CloseDue(ctx, now, 100); err != nil || n != 0 {
		t.Fatalf("close due now: %d %v", n, err)
	}
	// Two schedulers at once after the end: each campaign closed exactly once.
	after := now.Add(2 * time.Hour)
	res := make(chan int, 2)
	for range 2 {
		go func() {
			n, err := s.CloseDue(ctx, after, 100)
			if err != nil {
				t.Error(err)
			}
			res <- n
		}()
	}
	if total := <-res + <-res; total != 3 {
		t.Fatalf("closed %d campaigns, want 3", total)
	}
	for id, want := range map[string]events.CampaignStatus{funded.ID: events.StatusCompleted, short.ID: events.StatusExpired, late.ID: events.StatusExpired} {
		if got, _ := s.Get(ctx, id); got.Status != want {
			t.Fatalf("%s: %s, want %s", id, got.Status, want)
		}
	}
	evs = outbox(t, s)
	if len(evs) != 3 {
		t.Fatalf("%d status events, want 3", len(evs))
	}
	// A payment after the end is recorded and flagged late.
	lp := contribution(late.ID, late.WalletAddress, p, "late", 0, 40, events.StateConfirmed)
	lp.BlockTime = after.Unix()
	if _, err := s.ApplyContributions(ctx, []events.Contribution{lp}, after); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, late.ID)
	if got.LateCount != 1 || got.LateLamports != 40 || got.Status != events.StatusExpired {
		t.Fatalf("late payment: %+v", got)
	}
	// The watch list keeps recently closed campaigns and drops them after the grace period.
	wl, _ := s.WatchList(ctx, now)
	if len(wl) != 3 {
		t.Fatalf("watch list %d entries, want 3", len(wl))
	}
	wl, _ = s.WatchList(ctx, after.Add(time.Hour))
	if len(wl) != 0 {
		t.Fatalf("watch list after grace %d entries", len(wl))
	}
	// Closed campaigns cannot be cancelled or extended.
	if _, err := s.Cancel(ctx, short.ID, "", after); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("cancel expired: %v", err)
	}
	ext := after.Add(time.Hour)
	if _, err := s.Update(ctx, short.ID, campaigns.Patch{ExpiresAt: &ext}, after); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("extend expired: %v", err)
	}
	if _, err := s.Get(ctx, uuid.NewString()); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("missing campaign: %v", err)
	}
}
