package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solana/address"
)

// decodeJSON reads exactly one JSON object from the request body into dst. Unknown fields,
// trailing data, a wrong media type and an empty body are invalid input; numbers keep their
// exact text (dst fields that hold amounts use json.RawMessage or json.Number).
func decodeJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return withStatus(http.StatusUnsupportedMediaType, apperr.InvalidField("Content-Type", "the body must be application/json"))
		}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return apperr.InvalidField("body", "the body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var mb *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mb):
		return err
	case errors.Is(err, io.EOF):
		return apperr.InvalidField("body", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.InvalidField("body", "the request body is truncated JSON")
	case errors.As(err, &syn):
		return apperr.InvalidField("body", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apperr.InvalidField("body", "the body must be a JSON object")
		}
		return apperr.InvalidField(typ.Field, "must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, err := strconv.Unquote(f)
		if err != nil || name == "" || len(name) > 64 {
			return apperr.InvalidField("body", "unknown field %.64s", f)
		}
		return apperr.InvalidField(name, "unknown field %s", f)
	}
	return apperr.InvalidField("body", "invalid JSON body")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "ptr", "pointer":
		return "string or null"
	case "struct", "map":
		return "object"
	case "slice":
		return "array or number"
	}
	return k
}

// parseAddress validates a base58 Solana address named field.
func parseAddress(field, s string) (string, error) {
	if s == "" {
		return "", apperr.InvalidField(field, "is required")
	}
	if _, err := address.Parse(s); err != nil {
		var ae *address.Error
		if errors.As(err, &ae) {
			return "", apperr.InvalidField(field, "not a Solana address: %s", ae.Reason)
		}
		return "", apperr.InvalidField(field, "not a Solana address")
	}
	return s, nil
}

// MaxSOLAmount is the largest SOL amount the API accepts (goal_amount, ?amount=):
// 1,000,000,000 SOL, above the total SOL supply, so a bigger figure can only be a mistake.
const MaxSOLAmount = 1_000_000_000

// parseSOLAmount parses a positive SOL amount exactly ("1.5", at most 9 decimals, at most
// MaxSOLAmount).
func parseSOLAmount(field, s string) (money.Lamports, error) {
	if s == "" {
		return 0, apperr.InvalidField(field, "is required")
	}
	l, err := money.ParseSOL(s)
	if err != nil {
		var pe *money.ParseError
		if errors.As(err, &pe) {
			return 0, apperr.InvalidField(field, "invalid SOL amount: %s", pe.Reason)
		}
		return 0, apperr.InvalidField(field, "invalid SOL amount")
	}
	if l == 0 {
		return 0, apperr.InvalidField(field, "must be greater than zero")
	}
	if uint64(l) > MaxSOLAmount*money.LamportsPerSOL {
		return 0, apperr.InvalidField(field, "must be at most %d SOL", MaxSOLAmount)
	}
	return l, nil
}

// parseTime reads an RFC 3339 timestamp with a Z or ±hh:mm offset (no endpoint takes a time in
// a query string today; one that does must be sent with '+' encoded as %2B).
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, apperr.InvalidField(field, "is required")
	}
	if len(s) > 40 {
		return time.Time{}, apperr.InvalidField(field, "not an RFC 3339 timestamp")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, apperr.InvalidField(field, "not an RFC 3339 timestamp such as 2025-12-31T23:59:59Z")
	}
	return t, nil
}

// checkID validates a campaign id: 1 to 64 letters, digits, '-' or '_'.
func checkID(field, s string) error {
	if s == "" {
		return apperr.InvalidField(field, "is required")
	}
	if len(s) > 64 {
		return apperr.InvalidField(field, "is longer than 64 characters")
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return apperr.InvalidField(field, "may only hold letters, digits, '-' and '_'")
		}
	}
	return nil
}

// checkText validates free text: valid UTF-8, at most max characters, no control characters
// other than newline and tab (a NUL would also be refused by Postgres).
func checkText(field string, s *string, max int) error {
	if s == nil {
		return nil
	}
	if !utf8.ValidString(*s) {
		return apperr.InvalidField(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(*s); n > max {
		return apperr.InvalidField(field, "is longer than %d characters", max)
	}
	for _, r := range *s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return apperr.InvalidField(field, "contains a control character")
		}
	}
	return nil
}

// checkURL validates an optional social link: empty, or an absolute http(s) URL.
func checkURL(field string, s *string) error {
	if s == nil || *s == "" {
		return nil
	}
	if err := checkText(field, s, 512); err != nil {
		return err
	}
	u, err := url.Parse(*s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(*s, " \n\t") {
		return apperr.InvalidField(field, "must be an absolute http(s) URL")
	}
	return nil
}

// queryLimit reads an optional page size between 1 and max.
func queryLimit(c *gin.Context, def, max int) (int, error) {
	s, ok := c.GetQuery("limit")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, apperr.InvalidField("limit", "must be a whole number between 1 and %d", max)
	}
	return n, nil
}

// queryCursor reads an optional opaque cursor.
func queryCursor(c *gin.Context) (string, error) {
	s := c.Query("cursor")
	if len(s) > 512 {
		return "", apperr.InvalidField("cursor", "is longer than 512 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return "", apperr.InvalidField("cursor", "is not a cursor this API returned")
		}
	}
	return s, nil
}
