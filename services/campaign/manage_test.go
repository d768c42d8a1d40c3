package campaign

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
)

// TestUpdateCancelValidation: rejected updates and cancels name the field and change nothing
// (same revision, no event).
func TestUpdateCancelValidation(t *testing.T) {
	h := newHarness(t)
	p := h.stubPricer()
	h.run()
	ctx := context.Background()
	rep, err := h.create(events.CreateCampaignRequest{ContractAddress: p.mint(), GoalAmount: "1", ExpiresAt: future(time.Hour),
		Description: ptr("before")})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Campaign
	waitFor(t, 5*time.Second, func() (bool, string) { return len(h.campaignEvents()) == 1, "created event not published" })
	past, far, earlier := future(-time.Hour), future(10000*time.Hour), c.ExpiresAt.Add(-time.Minute).Format(time.RFC3339)
	updates := []struct {
		name  string
		req   events.UpdateCampaignRequest
		code  apperr.Code
		field string
	}{
		{"no id", events.UpdateCampaignRequest{Description: ptr("x")}, apperr.Invalid, "id"},
		{"bad id", events.UpdateCampaignRequest{ID: "42", Description: ptr("x")}, apperr.Invalid, "id"},
		{"unknown id", events.UpdateCampaignRequest{ID: newUUID(), Description: ptr("x")}, apperr.NotFound, ""},
		{"nothing to update", events.UpdateCampaignRequest{ID: c.ID}, apperr.Invalid, "id"},
		{"description control", events.UpdateCampaignRequest{ID: c.ID, Description: ptr("a\x1bb")}, apperr.Invalid, "description"},
		{"description long", events.UpdateCampaignRequest{ID: c.ID, Description: ptr(strings.Repeat("a", 2001))}, apperr.Invalid, "description"},
		{"twitter scheme", events.UpdateCampaignRequest{ID: c.ID, SocialTwitter: ptr("data:text/html,hi")}, apperr.Invalid, "social_twitter"},
		{"website relative", events.UpdateCampaignRequest{ID: c.ID, SocialWebsite: ptr("/about")}, apperr.Invalid, "social_website"},
		{"end in the past", events.UpdateCampaignRequest{ID: c.ID, ExpiresAt: &past}, apperr.Invalid, "expires_at"},
		{"end beyond horizon", events.UpdateCampaignRequest{ID: c.ID, ExpiresAt: &far}, apperr.Invalid, "expires_at"},
		{"end earlier", events.UpdateCampaignRequest{ID: c.ID, ExpiresAt: &earlier}, apperr.Invalid, "expires_at"},
	}
	for _, tc := range updates {
		_, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignUpdate, tc.req)
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		if e := apperr.Public(err); e.Code != tc.code || e.Field != tc.field {
			t.Fatalf("%s: %v, want %s %q", tc.name, err, tc.code, tc.field)
		}
	}
	for _, req := range []events.CancelCampaignRequest{{ID: ""}, {ID: "x"}, {ID: c.ID, Reason: "bad\x00"}} {
		if _, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignCancel, req); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("cancel %+v: %v", req, err)
		}
	}
	if _, err := bus.Request[events.CampaignReply](ctx, h.conn, events.SubjectCampaignCancel, events.CancelCampaignRequest{ID: newUUID()}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("cancel unknown: %v", err)
	}
	got, err := h.store.Get(ctx, c.ID)
	if err != nil || got.Revision != c.Revision || got.Description == nil || *got.Description != "before" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("rejected requests changed the campaign: %+v", got)
	}
	if n, _, _ := h.store.OutboxBacklog(ctx, time.Now()); n != 0 || len(h.campaignEvents()) != 1 {
		t.Fatalf("rejected requests produced events")
	}
}

// TestSchedulerClosesDueCampaigns: a running replica expires a campaign at its end time and
// publishes campaign.status.
func TestSchedulerClosesDueCampaigns(t *testing.T) {
	h := newHarness(t)
	p := h.stubPricer()
	h.run()
	end := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	rep, err := h.create(events.CreateCampaignRequest{ContractAddress: p.mint(), GoalAmount: "1", ExpiresAt: end})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		for _, ev := range h.campaignEvents() {
			if ev.Type == events.CampaignStatusChanged && ev.Campaign.ID == rep.Campaign.ID &&
				ev.PreviousStatus == events.StatusActive && ev.Campaign.Status == events.StatusExpired {
				return true, ""
			}
		}
		return false, "no campaign.status expired"
	})
	st, err := bus.Request[events.StatsReply](context.Background(), h.conn, events.SubjectCampaignStats, events.StatsRequest{})
	if err != nil || st.MonitoredCampaigns != 0 || st.TotalCampaigns != 1 {
		t.Fatalf("stats after expiry: %v %+v", err, st)
	}
}

// TestOpsEndpoints: a running replica is ready only with Postgres and NATS, and exposes its
// ledger and outbox metrics.
func TestOpsEndpoints(t *testing.T) {
	h := newHarness(t)
	addrc := make(chan net.Addr, 1)
	h.cfg.opsReady = func(a net.Addr) { addrc <- a }
	h.run()
	base := "http://" + (<-addrc).String()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"postgres":"ok"`) || !strings.Contains(string(body), `"nats":"ok"`) {
		t.Fatalf("readyz %d %s", res.StatusCode, body)
	}
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{`campaign_ledger_events_total{result="poison"}`, "campaign_outbox_lag_seconds", "campaign_outbox_backlog"} {
		if !strings.Contains(string(body), name) {
			t.Fatalf("metrics lack %s", name)
		}
	}
}
