package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/money"
)

// FuzzCreateBody feeds arbitrary bodies through decoding and validation of POST /api/campaigns.
// Every outcome is either an invalid-input error naming a field (or a 413/415) or a request whose
// goal is an exact positive amount and whose end time parses: never a panic, never anything else.
func FuzzCreateBody(f *testing.F) {
	for _, s := range []string{
		`{"contract_address":"5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump","goal_amount":100.00,"expires_at":"2099-12-31T23:59:59Z"}`,
		`{"contract_address":"5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump","goal_amount":"1.5","expires_at":"2099-12-31T23:59:59+02:00","description":"é\n"}`,
		`{"goal_amount":1e400}`, `{"goal_amount":-0}`, `[]`, `{"x":1}`, `{"goal_amount":18446744073.709551616}`, ``, `{`,
	} {
		f.Add(s)
	}
	s := &Server{now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, body string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/api/campaigns", strings.NewReader(body))
		c.Request.Body = http.MaxBytesReader(nil, c.Request.Body, 4096)
		var b createCampaignBody
		err := decodeJSON(c, &b)
		if err == nil {
			var req eventsCreate
			req, err = s.validateCreate(c, b)
			if err == nil {
				if l, perr := money.ParseSOL(req.GoalAmount); perr != nil || l == 0 {
					t.Fatalf("%q: accepted goal %q", body, req.GoalAmount)
				}
				if _, terr := time.Parse(time.RFC3339Nano, req.ExpiresAt); terr != nil {
					t.Fatalf("%q: accepted expires_at %q", body, req.ExpiresAt)
				}
			}
		}
		if err != nil {
			var ae *apperr.Error
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return
			}
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Field == "" {
				t.Fatalf("%q: error %v is not an invalid-field error", body, err)
			}
			if st := statusOf(err); st != 400 && st != 413 && st != 415 {
				t.Fatalf("%q: status %d", body, st)
			}
		}
	})
}

type eventsCreate = events.CreateCampaignRequest

// FuzzParseTime checks that parseTime never panics and that what it accepts is RFC 3339.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-12-31T23:59:59Z", "2025-12-31T23:59:59+02:00", "2025-12-31T23:59:59.123456789-00:30", "2025-12-31 23:59:59", "", "9999-99-99T99:99:99Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTime("t", s)
		if err != nil {
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil || tm.Year() < 2000 {
			t.Fatalf("%q accepted as %v", s, tm)
		}
	})
}

// FuzzSOLQuery checks the query amount parser: accepted amounts are positive and round-trip.
func FuzzSOLQuery(f *testing.F) {
	for _, s := range []string{"1.5", "0", "0.0000000001", "+1", "1e9", "18446744073.709551615", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseSOLAmount("amount", s)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Field != "amount" {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		back, err := money.ParseSOL(l.SOL())
		if l == 0 || err != nil || back != l {
			t.Fatalf("%q → %d lamports does not round-trip", s, l)
		}
	})
}
