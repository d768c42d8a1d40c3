package api_test

import (
	"net/http"
	"testing"
)

// BenchmarkCampaignDetail measures GET /api/campaign-detail end to end: HTTP, validation, a NATS
// request to the campaign responder and the seed-shaped JSON.
func BenchmarkCampaignDetail(b *testing.B) {
	e := newEnv(b, envOpts{})
	r := e.do("POST", "/api/campaigns", seedCreateBody)
	if r.status != 200 {
		b.Fatalf("create: %d", r.status)
	}
	url := e.url + "/api/campaign-detail/" + seedMint
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := http.Get(url)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("%v %v", err, res)
			}
			res.Body.Close()
		}
	})
}

// BenchmarkHealth measures GET /api/health: three concurrent NATS requests and the answer.
func BenchmarkHealth(b *testing.B) {
	e := newEnv(b, envOpts{})
	url := e.url + "/api/health"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := http.Get(url)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("%v %v", err, res)
			}
			res.Body.Close()
		}
	})
}
