package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
)

func ptr(s string) *string { return &s }

func (h *harness) create(req events.CreateCampaignRequest) (events.CampaignReply, error) {
	return bus.Request[events.CampaignReply](context.Background(), h.conn, events.SubjectCampaignCreate, req)
}

func future(d time.Duration) string { return time.Now().Add(d).Format(time.RFC3339) }

// TestRequestReplyEndToEnd drives every endpoint over real NATS against a running replica and
// checks 9007199254740993 lamports survive the request, Postgres, the reply and the event.
func TestRequestReplyEndToEnd(t *testing.T) {
	h := newHarness(t)
	p := h.stubPricer()
	h.run()
	ctx := context.Background()

	mint := p.mint()
	// A +05:30 offset is accepted and stored as the same instant.
	end := time.Now().Add(48 * time.Hour).In(time.FixedZone("IST", 5*3600+1800)).Truncate(time.Second)
	rep, err := h.create(events.CreateCampaignRequest{ContractAddress: mint, GoalAmount: "9007199.254740993",
		ExpiresAt: end.Format(time.RFC3339), Description: ptr("Support the Karen meme coin!"),
		SocialTwitter: ptr("https://x.com/karen_token"), SocialWebsite: ptr("https://karen.meme"), IdempotencyKey: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Campaign
	if !rep.Created || c.GoalLamports != 9007199254740993 || !c.ExpiresAt.Equal(end) || c.WalletAddress != h.wallet ||
		c.Status != events.StatusActive || c.Name == "" || c.ImageURL == nil || c.PriceUSD != "0.0123" ||
		c.TokenLaunchpad == nil || *c.TokenLaunchpad != "pump.fun" || c.Reference == "" || c.Revision != 1 {
		t.Fatalf("created %+v", c)
	}
	// Idempotent retry.
	again, err := h.create(events.CreateCampaignRequest{ContractAddress: mint, GoalAmount: "9007199.254740993",
		ExpiresAt: end.Format(time.RFC3339), Description: ptr("Support the Karen meme coin!"),
		SocialTwitter: ptr("https://x.com/karen_token"), SocialWebsite: ptr("https://karen.meme"), IdempotencyKey: "req-1"})
	if err != nil || again.Created || again.Campaign.ID != c.ID {
		t.Fatalf("idempotent retry: %v %+v", err, again)
	}
	// Even with the pricer down, the retry answers from the first result; the same key with a
	// different request is a conflict.
	p.mu.Lock()
	p.down[mint] = true
	p.mu.Unlock()
	again, err = h.create(events.CreateCampaignRequest{ContractAddress: mint, GoalAmount: "9007199.254740993",
		ExpiresAt: end.Format(time.RFC3339), Description: ptr("Support the Karen meme coin!"),
		SocialTwitter: ptr("https://x.com/karen_token"), SocialWebsite: ptr("https://karen.meme"), IdempotencyKey: "req-1"})
	if err != nil || again.Campaign.ID != c.ID {
		t.Fatalf("idempotent retry with the pricer down: %v", err)
	}
	p.mu.Lock()
	delete(p.down, mint)
	p.mu.Unlock()
	_, err = h.create(events.CreateCampaignRequest{ContractAddress: mint, GoalAmount: "2", ExpiresAt: future(time.Hour), IdempotencyKey: "req-1"})
	if e := apperr.Public(err); e == nil || e.Code != apperr.Conflict || e.Field != "idempotency_key" {
		t.Fatalf("key reused for another request: %v", err)
	}
	// A second open campaign for the mint is a conflict.
	_, err = h.create(events.CreateCampaignRequest{ContractAddress: mint, GoalAmount: "1", ExpiresAt: future(time.Hour)})
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second open campaign: %v", err)
	}
	// The created event reaches JetStream with the exact goal.
	waitFor(t, 5*time.Second, func() (bool, string) {
		for _, ev := range h.campaignEvents() {
			if ev.Type == events.CampaignCreated && ev.Campaign.ID == c.ID && ev.Campaign.GoalLamports == 9007199254740993 {
				return true, ""
			}
		}
		return false, "no campaign.created event"
	})

	// Get by id and by mint.
	for _, req := range []events.GetCampaignRequest{{ID: c.ID}, {Mint: mint}} {
		got, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignGet, req)
		if err != nil || got.Campaign.ID != c.ID || got.Campaign.GoalLamports != 9007199254740993 {
			t.Fatalf("get %+v: %v %+v", req, err, got)
		}
	}
	if _, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignGet, events.GetCampaignRequest{ID: newUUID()}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("get missing: %v", err)
	}

	// A contribution of 2^53+1 lamports: progress reaches JetStream promptly, exact.
	payer := addr()
	h.publishContribution(events.Contribution{Version: 1, State: events.StateConfirmed, Signature: "big", Escrow: h.wallet,
		Payer: payer, Amount: 9007199254740993, Decimals: 9, Reference: c.Reference, CampaignID: c.ID,
		BlockTime: time.Now().Unix(), Observed: time.Now()}, "")
	waitFor(t, 5*time.Second, func() (bool, string) {
		for _, ev := range h.campaignEvents() {
			if ev.Type == events.CampaignProgress && ev.Campaign.ID == c.ID && ev.Campaign.RaisedLamports == 9007199254740993 &&
				ev.Campaign.PendingLamports == 9007199254740993 && ev.Campaign.ContributorCount == 1 {
				return true, ""
			}
		}
		return false, "no campaign.progress with the exact amount"
	})
	tx, err := bus.Request[events.EscrowTransactionsReply](ctx, h.conn, events.SubjectCampaignEscrowTx, events.EscrowTransactionsRequest{Escrow: h.wallet})
	if err != nil || tx.TransactionCount != 1 || tx.TotalLamports != 9007199254740993 || len(tx.Contributors) != 1 ||
		tx.Transactions[0].Amount != 9007199254740993 || tx.Transactions[0].Payer != payer {
		t.Fatalf("escrow transactions: %v %+v", err, tx)
	}
	if _, err := bus.Request[events.EscrowTransactionsReply](ctx, h.conn, events.SubjectCampaignEscrowTx, events.EscrowTransactionsRequest{Escrow: addr()}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("escrow of no campaign: %v", err)
	}

	// Update: description cleared, end time extended; shortening is refused.
	later := c.ExpiresAt.Add(24 * time.Hour).Format(time.RFC3339)
	up, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignUpdate,
		events.UpdateCampaignRequest{ID: c.ID, Description: ptr(""), ExpiresAt: &later})
	if err != nil || up.Campaign.Description != nil || !up.Campaign.ExpiresAt.After(c.ExpiresAt) || up.Campaign.Revision <= c.Revision {
		t.Fatalf("update: %v %+v", err, up.Campaign)
	}
	earlier := c.ExpiresAt.Add(-time.Hour).Format(time.RFC3339)
	_, err = bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignUpdate, events.UpdateCampaignRequest{ID: c.ID, ExpiresAt: &earlier})
	if e := apperr.Public(err); e.Code != apperr.Invalid || e.Field != "expires_at" {
		t.Fatalf("shortening: %v", err)
	}

	// More campaigns, then list with paging and filters.
	for range 3 {
		if _, err := h.create(events.CreateCampaignRequest{ContractAddress: p.mint(), GoalAmount: "1.5", ExpiresAt: future(time.Hour),
			WalletAddress: ptr(addr())}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cursor := ""
	for {
		page, err := bus.Request[events.ListCampaignsReply](ctx, h.conn, events.SubjectCampaignList, events.ListCampaignsRequest{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, pc := range page.Campaigns {
			ids = append(ids, pc.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 4 || ids[3] != c.ID {
		t.Fatalf("paged list %v", ids)
	}
	byEscrow, err := bus.Request[events.ListCampaignsReply](ctx, h.conn, events.SubjectCampaignList, events.ListCampaignsRequest{Escrow: h.wallet})
	if err != nil || len(byEscrow.Campaigns) != 1 {
		t.Fatalf("list by escrow: %v %d", err, len(byEscrow.Campaigns))
	}
	byStatus, err := bus.Request[events.ListCampaignsReply](ctx, h.conn, events.SubjectCampaignList, events.ListCampaignsRequest{Status: "cancelled"})
	if err != nil || len(byStatus.Campaigns) != 0 {
		t.Fatalf("list cancelled before any cancel: %v %d", err, len(byStatus.Campaigns))
	}
	if _, err := bus.Request[events.ListCampaignsReply](ctx, h.conn, events.SubjectCampaignList, events.ListCampaignsRequest{Status: "open"}); apperr.Public(err).Field != "status" {
		t.Fatalf("bad status filter: %v", err)
	}
	if _, err := bus.Request[events.ListCampaignsReply](ctx, h.conn, events.SubjectCampaignList, events.ListCampaignsRequest{Cursor: "garbage"}); apperr.Public(err).Field != "cursor" {
		t.Fatalf("bad cursor: %v", err)
	}

	// Watch list and stats.
	wl, err := bus.Request[events.WatchListReply](ctx, h.conn, events.SubjectCampaignWatch, events.WatchListRequest{})
	if err != nil || len(wl.Entries) != 4 {
		t.Fatalf("watch list: %v %d", err, len(wl.Entries))
	}
	st, err := bus.Request[events.StatsReply](ctx, h.conn, events.SubjectCampaignStats, events.StatsRequest{})
	if err != nil || st.MonitoredCampaigns != 4 || st.TotalCampaigns != 4 || !st.DatabaseOK {
		t.Fatalf("stats: %v %+v", err, st)
	}

	// Cancel, then the event stream holds the status change.
	cn, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignCancel, events.CancelCampaignRequest{ID: c.ID, Reason: "test"})
	if err != nil || cn.Campaign.Status != events.StatusCancelled {
		t.Fatalf("cancel: %v %+v", err, cn)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		for _, ev := range h.campaignEvents() {
			if ev.Type == events.CampaignStatusChanged && ev.Campaign.ID == c.ID && ev.PreviousStatus == events.StatusActive &&
				ev.Campaign.Status == events.StatusCancelled {
				return true, ""
			}
		}
		return false, "no campaign.status cancelled event"
	})

	// The token cache follows the PRICES bucket for mints with open campaigns.
	other := ids[0]
	oc, _ := h.store.Get(ctx, other)
	kv, err := h.conn.KV(ctx, events.BucketPrices)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(events.TokenInfo{Version: 1, Mint: oc.ContractAddress, PriceUSD: "1.25", LiquidityUSD: "9",
		MarketCapUSD: "99", Volume24hUSD: "5", Launchpad: "pump.fun", Source: "raydium", UpdatedAt: time.Now()})
	if _, err := kv.Put(ctx, events.KeyToken(oc.ContractAddress), b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		got, err := h.store.Get(ctx, other)
		return err == nil && got.PriceUSD == "1.25" && got.MarketCap == "99", "token cache not refreshed"
	})
}

// TestCreateValidation: every rejected input gets a typed error naming the field, and nothing is
// stored or published.
func TestCreateValidation(t *testing.T) {
	h := newHarness(t)
	p := h.stubPricer()
	h.run()
	known := p.mint()
	down := addr()
	p.mu.Lock()
	p.down[down] = true
	p.mu.Unlock()
	ok := func() events.CreateCampaignRequest {
		return events.CreateCampaignRequest{ContractAddress: known, GoalAmount: "100", ExpiresAt: future(24 * time.Hour)}
	}
	cases := []struct {
		name  string
		edit  func(r *events.CreateCampaignRequest)
		code  apperr.Code
		field string
	}{
		{"missing mint", func(r *events.CreateCampaignRequest) { r.ContractAddress = "" }, apperr.Invalid, "contract_address"},
		{"mint not base58", func(r *events.CreateCampaignRequest) { r.ContractAddress = "0OIl" + known[4:] }, apperr.Invalid, "contract_address"},
		{"mint too short", func(r *events.CreateCampaignRequest) { r.ContractAddress = known[:20] }, apperr.Invalid, "contract_address"},
		{"mint unknown to pricer", func(r *events.CreateCampaignRequest) { r.ContractAddress = addr() }, apperr.Invalid, "contract_address"},
		{"pricer unavailable", func(r *events.CreateCampaignRequest) { r.ContractAddress = down }, apperr.Unavailable, ""},
		{"goal missing", func(r *events.CreateCampaignRequest) { r.GoalAmount = "" }, apperr.Invalid, "goal_amount"},
		{"goal zero", func(r *events.CreateCampaignRequest) { r.GoalAmount = "0" }, apperr.Invalid, "goal_amount"},
		{"goal negative", func(r *events.CreateCampaignRequest) { r.GoalAmount = "-1" }, apperr.Invalid, "goal_amount"},
		{"goal exponent", func(r *events.CreateCampaignRequest) { r.GoalAmount = "1e3" }, apperr.Invalid, "goal_amount"},
		{"goal ten decimals", func(r *events.CreateCampaignRequest) { r.GoalAmount = "0.0000000001" }, apperr.Invalid, "goal_amount"},
		{"goal NaN", func(r *events.CreateCampaignRequest) { r.GoalAmount = "NaN" }, apperr.Invalid, "goal_amount"},
		{"goal over max", func(r *events.CreateCampaignRequest) { r.GoalAmount = "20000000.000000001" }, apperr.Invalid, "goal_amount"},
		{"goal overflow", func(r *events.CreateCampaignRequest) { r.GoalAmount = "18446744073.709551616" }, apperr.Invalid, "goal_amount"},
		{"end missing", func(r *events.CreateCampaignRequest) { r.ExpiresAt = "" }, apperr.Invalid, "expires_at"},
		{"end not RFC 3339", func(r *events.CreateCampaignRequest) { r.ExpiresAt = "31/12/2030" }, apperr.Invalid, "expires_at"},
		{"end without offset", func(r *events.CreateCampaignRequest) { r.ExpiresAt = "2030-12-31T23:59:59" }, apperr.Invalid, "expires_at"},
		{"end in the past", func(r *events.CreateCampaignRequest) { r.ExpiresAt = future(-time.Minute) }, apperr.Invalid, "expires_at"},
		{"end beyond horizon", func(r *events.CreateCampaignRequest) { r.ExpiresAt = future(9000 * time.Hour) }, apperr.Invalid, "expires_at"},
		{"description too long", func(r *events.CreateCampaignRequest) { r.Description = ptr(strings.Repeat("é", 2001)) }, apperr.Invalid, "description"},
		{"description control char", func(r *events.CreateCampaignRequest) { r.Description = ptr("hi\x00there") }, apperr.Invalid, "description"},
		{"twitter javascript", func(r *events.CreateCampaignRequest) { r.SocialTwitter = ptr("javascript:alert(1)") }, apperr.Invalid, "social_twitter"},
		{"twitter relative", func(r *events.CreateCampaignRequest) { r.SocialTwitter = ptr("x.com/karen") }, apperr.Invalid, "social_twitter"},
		{"website ftp", func(r *events.CreateCampaignRequest) { r.SocialWebsite = ptr("ftp://karen.meme") }, apperr.Invalid, "social_website"},
		{"website newline", func(r *events.CreateCampaignRequest) { r.SocialWebsite = ptr("https://karen.meme/\nx") }, apperr.Invalid, "social_website"},
		{"website too long", func(r *events.CreateCampaignRequest) {
			r.SocialWebsite = ptr("https://k.me/" + strings.Repeat("a", 600))
		}, apperr.Invalid, "social_website"},
		{"campaign type control", func(r *events.CreateCampaignRequest) { r.CampaignType = ptr("a\tb") }, apperr.Invalid, "campaign_type"},
		{"wallet invalid", func(r *events.CreateCampaignRequest) { r.WalletAddress = ptr("not-an-address") }, apperr.Invalid, "wallet_address"},
		{"wallet is the system program", func(r *events.CreateCampaignRequest) { r.WalletAddress = ptr("11111111111111111111111111111111") }, apperr.Invalid, "wallet_address"},
		{"wallet is the incinerator", func(r *events.CreateCampaignRequest) {
			r.WalletAddress = ptr("1nc1nerator11111111111111111111111111111111")
		}, apperr.Invalid, "wallet_address"},
		{"idempotency key control", func(r *events.CreateCampaignRequest) { r.IdempotencyKey = "k\x7f" }, apperr.Invalid, "idempotency_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := ok()
			tc.edit(&req)
			_, err := h.create(req)
			if err == nil {
				t.Fatal("accepted")
			}
			e := apperr.Public(err)
			if e.Code != tc.code || e.Field != tc.field || e.Message == "" {
				t.Fatalf("got %v (code %q field %q), want code %q field %q", err, e.Code, e.Field, tc.code, tc.field)
			}
		})
	}
	// A body that is not JSON is invalid too.
	msg, err := h.conn.NC.Request(events.SubjectCampaignCreate, []byte("{"), 5*time.Second)
	if err != nil || msg.Header.Get("Nats-Service-Error-Code") != string(apperr.Invalid) {
		t.Fatalf("non-JSON body: %v %v", err, msg)
	}
	// Nothing was stored, nothing was published.
	_, total, err := h.store.Stats(context.Background())
	if err != nil || total != 0 {
		t.Fatalf("%d campaigns stored after rejected creates (%v)", total, err)
	}
	if evs := h.campaignEvents(); len(evs) != 0 {
		t.Fatalf("%d events published after rejected creates", len(evs))
	}
	// The untouched request is accepted, so the table above tested one field at a time.
	if _, err := h.create(ok()); err != nil {
		t.Fatalf("baseline request: %v", err)
	}
}

// TestOutboxSurvivesCrashAroundPublish: events committed while nothing relays are published
// later; a relay that published but crashed before recording it republishes under the same
// dedup id, which JetStream stores once; a rolled-back change leaves no event.
func TestOutboxSurvivesCrashAroundPublish(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cs := createCampaigns(t, h.store, 3) // committed; no relay runs yet ("crash before publish")
	// A rolled-back create (second open campaign for the same mint) writes no event.
	dup := campaigns.NewCampaign{ID: newUUID(), Reference: addr(), Mint: cs[0].ContractAddress, Escrow: addr(), Goal: 1,
		CreatedAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Hour).UTC()}
	if _, _, err := h.store.Create(ctx, dup); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("duplicate create: %v", err)
	}
	m := newMetrics(newTestRegistry())
	crashing := newRelay(h.store, h.conn, quiet(), m, time.Hour)
	// Publishes every event, then fails on the third as if the process died before the delete.
	n := 0
	crashing.publish = func(ctx context.Context, msg campaigns.OutboxMessage) error {
		if err := crashing.publishJSON(ctx, msg); err != nil {
			return err
		}
		n++
		if n == 3 {
			return errors.New("crash after publish")
		}
		return nil
	}
	crashing.flush(ctx)
	if backlog, _, _ := h.store.OutboxBacklog(ctx, time.Now()); backlog != 1 {
		t.Fatalf("backlog %d after the crash, want 1", backlog)
	}
	relay := newRelay(h.store, h.conn, quiet(), m, time.Hour)
	relay.flush(ctx)
	if backlog, _, _ := h.store.OutboxBacklog(ctx, time.Now()); backlog != 0 {
		t.Fatalf("backlog %d after relaying", backlog)
	}
	evs := h.campaignEvents()
	if len(evs) != 3 {
		t.Fatalf("%d events in the stream, want exactly 3", len(evs))
	}
	got := map[string]bool{}
	for _, ev := range evs {
		got[ev.Campaign.ID] = ev.Type == events.CampaignCreated
	}
	for _, c := range cs {
		if !got[c.ID] {
			t.Fatalf("no campaign.created for %s", c.ID)
		}
	}
	if testCount := fmt.Sprint(len(got)); testCount != "3" {
		t.Fatalf("events for %s campaigns", testCount)
	}
}
