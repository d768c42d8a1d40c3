package campaigns

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solana/address"
)

// Length limits, in characters.
const (
	maxDescription  = 2000
	maxURL          = 512
	maxCampaignType = 64
	maxIdemKey      = 200
	maxCancelReason = 500
)

// parseAddress checks a base58 Solana address (32 bytes) in the named field.
func parseAddress(field, s string) (string, error) {
	if s == "" {
		return "", apperr.InvalidField(field, "is required")
	}
	if _, err := address.Parse(s); err != nil {
		return "", apperr.InvalidField(field, "is not a valid Solana address: %v", err)
	}
	return s, nil
}

// parseGoal parses the SOL goal exactly and checks 0 < goal ≤ max.
func parseGoal(s string, max uint64) (uint64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, apperr.InvalidField("goal_amount", "is required")
	}
	l, err := money.ParseSOL(s)
	if err != nil {
		return 0, apperr.InvalidField("goal_amount", "is not an exact SOL amount: %v", err)
	}
	if l == 0 {
		return 0, apperr.InvalidField("goal_amount", "must be greater than 0")
	}
	if uint64(l) > max {
		return 0, apperr.InvalidField("goal_amount", "must be at most %s SOL", money.Lamports(max).SOL())
	}
	return uint64(l), nil
}

// parseEnd parses an RFC 3339 end time (any offset) that lies after now and within horizon.
func parseEnd(s string, now time.Time, horizon time.Duration) (time.Time, error) {
	if s == "" {
		return time.Time{}, apperr.InvalidField("expires_at", "is required")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.InvalidField("expires_at", "is not an RFC 3339 time (e.g. 2026-12-31T23:59:59Z)")
	}
	t = t.UTC().Truncate(time.Microsecond) // Postgres keeps microseconds
	if !t.After(now) {
		return time.Time{}, apperr.InvalidField("expires_at", "must be in the future")
	}
	if t.Sub(now) > horizon {
		return time.Time{}, apperr.InvalidField("expires_at", "must be within %s from now", horizon)
	}
	return t, nil
}

// checkText rejects invalid UTF-8, over-long text and control characters (newlines and tabs are
// allowed when multiline).
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return apperr.InvalidField(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return apperr.InvalidField(field, "is longer than %d characters", max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return apperr.InvalidField(field, "contains a control character")
		}
	}
	return nil
}

// optText validates an optional text field; "" (after trimming) becomes nil.
func optText(field string, p *string, max int, multiline bool) (*string, error) {
	if p == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil, nil
	}
	if err := checkText(field, s, max, multiline); err != nil {
		return nil, err
	}
	return &s, nil
}

// optURL validates an optional absolute http(s) URL; "" becomes nil.
func optURL(field string, p *string) (*string, error) {
	v, err := optText(field, p, maxURL, false)
	if err != nil || v == nil {
		return v, err
	}
	if strings.ContainsAny(*v, " \t") {
		return nil, apperr.InvalidField(field, "must not contain spaces")
	}
	u, err := url.Parse(*v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return nil, apperr.InvalidField(field, "must be an absolute http or https URL")
	}
	return v, nil
}

// validID checks a campaign id is a canonical UUID, so a malformed id never reaches SQL.
func validID(id string) error {
	if id == "" {
		return apperr.InvalidField("id", "is required")
	}
	if len(id) != 36 {
		return apperr.InvalidField("id", "is not a campaign id")
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return apperr.InvalidField("id", "is not a campaign id")
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return apperr.InvalidField("id", "is not a campaign id")
			}
		}
	}
	return nil
}
