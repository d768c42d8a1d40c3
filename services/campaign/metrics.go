package campaign

import "github.com/prometheus/client_golang/prometheus"

// metrics are the service's own Prometheus series, registered on the service's registry.
type metrics struct {
	ledger        *prometheus.CounterVec // result: applied, duplicate, poison, retry
	ledgerBatch   prometheus.Histogram
	published     prometheus.Counter
	outboxBacklog prometheus.Gauge
	outboxLag     prometheus.Gauge
	closed        prometheus.Counter
	tokens        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		ledger: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "campaign_ledger_events_total",
			Help: "Contribution events by outcome: applied (changed the ledger), duplicate (no effect), poison (terminated, dead letter), retry (redelivery requested).",
		}, []string{"result"}),
		ledgerBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "campaign_ledger_batch_size",
			Help:    "Contribution events applied per database transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_outbox_published_total", Help: "Campaign events published from the outbox.",
		}),
		outboxBacklog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "campaign_outbox_backlog", Help: "Campaign events committed but not yet published.",
		}),
		outboxLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "campaign_outbox_lag_seconds", Help: "Age of the oldest unpublished campaign event.",
		}),
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_closed_total", Help: "Campaigns closed by the scheduler (completed or expired).",
		}),
		tokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "campaign_token_refresh_total", Help: "Token cache rows refreshed from the PRICES bucket.",
		}),
	}
	reg.MustRegister(m.ledger, m.ledgerBatch, m.published, m.outboxBacklog, m.outboxLag, m.closed, m.tokens)
	for _, r := range []string{"applied", "duplicate", "poison", "retry"} {
		m.ledger.WithLabelValues(r)
	}
	return m
}
