package campaign

import (
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

func newUUID() string { return uuid.NewString() }

func counter(t *testing.T, m *metrics, result string) float64 {
	t.Helper()
	return testutil.ToFloat64(m.ledger.WithLabelValues(result))
}
