package solrpc

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfterBothForms(t *testing.T) {
	if d := parseRetryAfter("3"); d != 3*time.Second {
		t.Fatalf("seconds form: %v", d)
	}
	at := time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
	if d := parseRetryAfter(at); d < 3*time.Second || d > 5*time.Second {
		t.Fatalf("date form: %v", d)
	}
	for _, v := range []string{"", "-1", "soon", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)} {
		if d := parseRetryAfter(v); d != 0 {
			t.Fatalf("%q: %v", v, d)
		}
	}
}

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	o := Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	o.defaults()
	tr := &transport{opts: o}
	distinct := map[time.Duration]bool{}
	for attempt := 1; attempt <= 30; attempt++ {
		d := tr.backoff(attempt)
		if d < 50*time.Millisecond || d > time.Second {
			t.Fatalf("attempt %d: backoff %v outside [50ms, 1s]", attempt, d)
		}
		distinct[d] = true
	}
	if len(distinct) < 10 {
		t.Fatalf("backoff not jittered: %d distinct values", len(distinct))
	}
}

func TestRetryableCodes(t *testing.T) {
	for _, c := range []int{429, -32005, -32603} {
		if !retryableCode(c) {
			t.Errorf("%d should be retried", c)
		}
	}
	for _, c := range []int{-32602, -32601, -32600, -32700, -32015, -32007, -32009, -32002} {
		if retryableCode(c) {
			t.Errorf("%d must not be retried", c)
		}
	}
}
