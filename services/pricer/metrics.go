package pricer

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/solcrowd/backend/libs/apperr"
)

// metrics are the pricer's Prometheus series. A nil *metrics records nothing (unit tests).
type metrics struct {
	solStale       prometheus.Gauge
	sourceFailures *prometheus.CounterVec
	tokenLookups   *prometheus.CounterVec
	kvWrites       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		solStale: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pricer_sol_price_stale",
			Help: "1 while the held SOL/USD price is the last good value after failed refreshes."}),
		sourceFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pricer_sol_source_failures_total",
			Help: "SOL/USD source attempts that failed, by source."}, []string{"source"}),
		tokenLookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pricer_token_requests_total",
			Help: "Token info requests, by result code (ok or an apperr code)."}, []string{"result"}),
		kvWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "pricer_kv_writes_total",
			Help: "Entries written to KV PRICES."}),
	}
	reg.MustRegister(m.solStale, m.sourceFailures, m.tokenLookups, m.kvWrites)
	return m
}

func (m *metrics) sourceFailed(source string) {
	if m != nil {
		m.sourceFailures.WithLabelValues(source).Inc()
	}
}

func (m *metrics) solPrice(stale bool) {
	if m == nil {
		return
	}
	v := 0.0
	if stale {
		v = 1
	}
	m.solStale.Set(v)
}

func (m *metrics) tokenRequest(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = string(apperr.CodeOf(err))
	}
	m.tokenLookups.WithLabelValues(result).Inc()
}

func (m *metrics) kvWrite() {
	if m != nil {
		m.kvWrites.Inc()
	}
}
