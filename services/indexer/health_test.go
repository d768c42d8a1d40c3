package indexer

import (
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// A busy health endpoint must not spend the indexer's rate-limited RPC budget: concurrent and
// repeated health requests share one getSlot per second.
func TestHealthSharesOneSlotCallPerSecond(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	h.campaign("c1", solana.PublicKey{})
	h.startIndexer(h.cfg)
	waitFor(t, "indexer healthy", 10*time.Second, func() bool { return h.health().OK })

	h.sim.ResetCalls()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if r := h.health(); !r.OK || r.Slot == 0 {
					t.Errorf("health: %+v", r)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// No payments are pending, so finality reads no slot; every getSlot here is a health check.
	got := h.sim.Calls()["getSlot"]
	if limit := int64(elapsed/chainSlotTTL) + 1; got > limit {
		t.Fatalf("80 health requests in %s made %d getSlot calls, want at most %d", elapsed, got, limit)
	}
}
