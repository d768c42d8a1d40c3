package indexer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/nats-io/nats.go"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// BenchmarkPaymentPipeline measures one payment from submission to its contribution.confirmed
// event acknowledged by JetStream: notification, getTransaction, parse, publish.
func BenchmarkPaymentPipeline(b *testing.B) {
	h := newHarness(b, soltest.Config{SlotInterval: 5 * time.Millisecond})
	a, _ := h.campaign("a", solana.PublicKey{})
	h.startIndexer(h.cfg)
	h.waitLive(1)
	ch := make(chan *nats.Msg, 1024)
	sub, err := h.conn.NC.ChanSubscribe(events.SubjectContributionConfirmed, ch)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	payer := h.payer()
	awaitEvent := func(sig string) {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case m := <-ch:
				var c events.Contribution
				if json.Unmarshal(m.Data, &c) == nil && c.Signature == sig {
					return
				}
			case <-timeout:
				b.Fatalf("payment %s not published", sig)
			}
		}
	}
	i := 0
	for b.Loop() {
		i++
		sig := h.send(payer, []solana.Instruction{transferIx(payer.PublicKey(), a, uint64(1_000_000+i))})
		awaitEvent(sig.String())
	}
}
