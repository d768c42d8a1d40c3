package campaign

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/solcrowd/backend/libs/events"
)

// BenchmarkContributionToProgress measures one contribution's trip through a running replica:
// published on contribution.confirmed, applied to Postgres, and seen as campaign.progress on
// NATS. ns/op is that end-to-end latency (the design wants it well under a second).
func BenchmarkContributionToProgress(b *testing.B) {
	h := newHarness(b)
	cs := createCampaignsTB(b, h, 1)
	h.run()
	c := cs[0]
	progress := make(chan events.CampaignEvent, 64)
	sub, err := h.conn.NC.Subscribe(events.SubjectCampaignProgress, func(m *nats.Msg) {
		var ev events.CampaignEvent
		if json.Unmarshal(m.Data, &ev) == nil {
			progress <- ev
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	payer := addr()
	b.ResetTimer()
	for i := range b.N {
		want := uint64(i+1) * 1000
		h.publishContribution(events.Contribution{Version: 1, State: events.StateConfirmed, Signature: fmt.Sprintf("lat%08d", i),
			Escrow: c.WalletAddress, Payer: payer, Amount: 1000, Decimals: 9, CampaignID: c.ID, Observed: time.Now()}, "")
		for done := false; !done; {
			select {
			case ev := <-progress:
				done = ev.Campaign.RaisedLamports == want
			case <-time.After(10 * time.Second):
				b.Fatalf("no progress event for contribution %d", i)
			}
		}
	}
}
