package indexer

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solcrowd/backend/libs/solana/solrpc"
)

// metrics are the indexer's Prometheus series plus the plain counters the stats reply reports.
type metrics struct {
	rpcCalls      *prometheus.CounterVec
	notifications prometheus.Counter
	backfilled    prometheus.Counter
	published     *prometheus.CounterVec
	publishSec    prometheus.Histogram
	parked        prometheus.Counter
	mismatch      prometheus.Counter
	reconnects    prometheus.Counter
	polling       prometheus.Gauge

	nNotifications, nBackfilled, nPublished, nParked, nRPC atomic.Int64
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rpcCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "indexer_rpc_calls_total", Help: "Solana JSON-RPC attempts by method and outcome.",
		}, []string{"method", "outcome"}),
		notifications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_notifications_total", Help: "logsSubscribe notifications received.",
		}),
		backfilled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_backfilled_signatures_total", Help: "New signatures found by getSignaturesForAddress.",
		}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "indexer_published_total", Help: "Contribution events acknowledged by JetStream, by state.",
		}, []string{"state"}),
		publishSec: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "indexer_publish_seconds", Help: "Time from publish to JetStream acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_parked_total", Help: "Transactions that could not be decoded and were parked.",
		}),
		mismatch: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_balance_mismatch_total", Help: "Transactions whose parsed SOL transfers do not explain the escrow's balance delta.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_ws_reconnects_total", Help: "WebSocket (re)connection attempts.",
		}),
		polling: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "indexer_escrows_polling", Help: "Escrows without a working subscription, polled instead.",
		}),
	}
	reg.MustRegister(m.rpcCalls, m.notifications, m.backfilled, m.published, m.publishSec, m.parked, m.mismatch, m.reconnects, m.polling)
	return m
}

// onAttempt is the solrpc hook.
func (m *metrics) onAttempt(a solrpc.Attempt) {
	m.rpcCalls.WithLabelValues(a.Method, string(a.Outcome)).Inc()
	m.nRPC.Add(1)
}
