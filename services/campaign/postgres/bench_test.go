package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/postgres"
)

// benchmarkApply applies b.N new confirmed contributions to one campaign, batch at a time, from
// a pool of 50 payers (so batches hit the same contributor rows), and reports events per second.
func benchmarkApply(b *testing.B, batch int) {
	s := openStore(b, postgres.Options{})
	c := mustCreate(b, s, newCampaign(1<<62, addr(), time.Now().Add(time.Hour)))
	payers := make([]string, 50)
	for i := range payers {
		payers[i] = addr()
	}
	ctx := context.Background()
	b.ResetTimer()
	n := 0
	for n < b.N {
		k := min(batch, b.N-n)
		cs := make([]events.Contribution, k)
		for i := range cs {
			cs[i] = contribution(c.ID, c.WalletAddress, payers[(n+i)%len(payers)], fmt.Sprintf("bench%09d", n+i), 0, 1000, events.StateConfirmed)
		}
		if _, err := s.ApplyContributions(ctx, cs, time.Now()); err != nil {
			b.Fatal(err)
		}
		n += k
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	got, err := s.Get(ctx, c.ID)
	if err != nil || got.RaisedLamports != uint64(b.N)*1000 {
		b.Fatalf("raised %d after %d events (%v)", got.RaisedLamports, b.N, err)
	}
}

func BenchmarkApplySingle(b *testing.B)   { benchmarkApply(b, 1) }
func BenchmarkApplyBatch64(b *testing.B)  { benchmarkApply(b, 64) }
func BenchmarkApplyBatch256(b *testing.B) { benchmarkApply(b, 256) }
