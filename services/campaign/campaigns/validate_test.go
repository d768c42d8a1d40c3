package campaigns

import (
	"errors"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/apperr"
)

func TestParseGoal(t *testing.T) {
	const max = 1_000_000_000_000_000 // 1,000,000 SOL
	for in, want := range map[string]uint64{"100": 100_000_000_000, "1.5": 1_500_000_000, "0.000000001": 1, "1000000": max} {
		got, err := parseGoal(in, max)
		if err != nil || got != want {
			t.Errorf("parseGoal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "0", "0.0", "-1", "+1", "1e9", "1,5", "NaN", "Inf", "0x10", "1.0000000001", "1000000.000000001", "99999999999999999999"} {
		if _, err := parseGoal(in, max); !isField(err, "goal_amount") {
			t.Errorf("parseGoal(%q): %v, want invalid goal_amount", in, err)
		}
	}
}

func TestParseEnd(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-01-02T05:30:00+05:30", "2026-01-01T00:00:01Z", "2026-06-01T00:00:00.123456789-08:00"} {
		got, err := parseEnd(in, now, 365*24*time.Hour)
		if err != nil || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
			t.Errorf("parseEnd(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", "2026-01-02", "2026-01-02T00:00:00", "2028-01-01T00:00:00Z", "tomorrow"} {
		if _, err := parseEnd(in, now, 365*24*time.Hour); !isField(err, "expires_at") {
			t.Errorf("parseEnd(%q): %v, want invalid expires_at", in, err)
		}
	}
}

func TestTextAndURLs(t *testing.T) {
	for _, in := range []string{"https://x.com/karen", "http://karen.meme/a?b=c#d", " https://trimmed.example "} {
		if v, err := optURL("social_website", &in); err != nil || v == nil {
			t.Errorf("optURL(%q): %v", in, err)
		}
	}
	for _, in := range []string{"javascript:alert(1)", "x.com", "https://", "https://user:pw@host/", "https://a b.com", "ftp://a.com", "https://a.com/\u2028x"} {
		if _, err := optURL("social_website", &in); !isField(err, "social_website") {
			t.Errorf("optURL(%q): %v", in, err)
		}
	}
	if v, err := optText("description", ptr("  "), 10, true); err != nil || v != nil {
		t.Errorf("blank description should clear: %v %v", v, err)
	}
	if _, err := optText("description", ptr("line\nline\ttab"), 100, true); err != nil {
		t.Errorf("multiline description: %v", err)
	}
	if err := checkText("description", "\xff", 10, true); !isField(err, "description") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if err := validID("0b5b1ca0-7a43-4b8e-9e57-3f0a0f6b1c2d"); err != nil {
		t.Error(err)
	}
	for _, id := range []string{"", "1", "0b5b1ca0-7a43-4b8e-9e57-3f0a0f6b1c2", "0b5b1ca0x7a43-4b8e-9e57-3f0a0f6b1c2d", "zb5b1ca0-7a43-4b8e-9e57-3f0a0f6b1c2d"} {
		if err := validID(id); !isField(err, "id") {
			t.Errorf("validID(%q): %v", id, err)
		}
	}
}

func ptr(s string) *string { return &s }

func isField(err error, field string) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == apperr.Invalid && e.Field == field && e.Message != ""
}

// FuzzCreateFields: no input panics a validator; every rejection is an invalid error naming its
// field; every accepted goal is within (0, max].
func FuzzCreateFields(f *testing.F) {
	for _, s := range []string{"100", "1.5", "0", "-1", "1e3", "2030-01-01T00:00:00+05:30", "https://x.com/a", "\x00", "é"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		const max = 1_000_000_000_000_000
		if g, err := parseGoal(s, max); err == nil && (g == 0 || g > max) {
			t.Fatalf("goal %q accepted as %d", s, g)
		} else if err != nil && !isField(err, "goal_amount") {
			t.Fatalf("goal %q: %v", s, err)
		}
		if e, err := parseEnd(s, now, time.Hour*24*365); err == nil && !e.After(now) {
			t.Fatalf("end %q accepted as %v", s, e)
		} else if err != nil && !isField(err, "expires_at") {
			t.Fatalf("end %q: %v", s, err)
		}
		if _, err := optURL("social_twitter", &s); err != nil && !isField(err, "social_twitter") {
			t.Fatalf("url %q: %v", s, err)
		}
		if _, err := optText("description", &s, maxDescription, true); err != nil && !isField(err, "description") {
			t.Fatalf("text %q: %v", s, err)
		}
		if _, err := parseAddress("contract_address", s); err != nil && !isField(err, "contract_address") {
			t.Fatalf("address %q: %v", s, err)
		}
	})
}
