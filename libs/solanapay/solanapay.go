// Package solanapay builds and parses Solana Pay URIs
// (https://docs.solanapay.com/spec).
//
// A transfer request is
//
//	solana:<recipient>?amount=<amount>&spl-token=<mint>&reference=<ref>...&label=<l>&message=<m>&memo=<memo>
//
// and a transaction request is solana:<link> with an absolute https link.
//
// Guarantees:
//   - URI validates before it builds: recipient, spl-token and every
//     reference are 32-byte base58 addresses; amount is "" or a canonical
//     decimal (digits, optional fraction, no sign/exponent/leading "."/
//     trailing zeros; at most 9 decimals and within uint64 lamports for
//     SOL); the result is at most MaxURILength characters.
//   - Text fields are percent-encoded UTF-8: only A–Z a–z 0–9 - . _ ~ are
//     left as is, space becomes %20 (never '+'), '+' becomes %2B.
//   - Parameters are emitted in spec order (amount, spl-token, reference...,
//     label, message, memo); references keep their order.
//   - Parse(r.URI()) returns r exactly for every valid r (References nil
//     when empty).
//
// TransactionRequest.URI writes solana:<link>, percent-encoding the whole
// link when it holds '?', '#' or '%' (the spec requires an encoded query);
// only absolute https links that net/url renders unchanged are accepted.
//
// Parse policy: it accepts what the spec allows and what wallets read.
// Unknown parameters are ignored (the spec adds parameters over time and
// @solana/pay ignores them); a repeated single-valued parameter (amount,
// spl-token, label, message, memo) is an error because its meaning would be
// ambiguous; a raw '+' in a text value is read as a space, as wallets using
// URLSearchParams do; invalid percent escapes or non-UTF-8 text are errors.
// A non-canonical amount ("1.50") is accepted and returned canonical ("1.5").
// Parse tells the two kinds apart as @solana/pay does: a path containing
// ':' or '%' is a transaction request link.
package solanapay

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solana/address"
)

// MaxURILength is the longest URI this package builds or parses, in bytes.
const MaxURILength = 2048

const scheme = "solana:"

// Request is a parsed Solana Pay URI: either *TransferRequest or
// *TransactionRequest. Use a type switch.
type Request interface {
	URI() (string, error)
	isRequest()
}

// TransferRequest is a non-interactive SOL or SPL token transfer request.
type TransferRequest struct {
	Recipient  string   // base58 address of the receiving wallet (required)
	Amount     string   // canonical decimal in whole units ("1.5" SOL), or "" to let the wallet ask
	SPLToken   string   // base58 mint address, or "" for native SOL
	References []string // base58 32-byte values, in order
	Label      string
	Message    string
	Memo       string
}

// TransactionRequest is an interactive request: the wallet fetches the
// transaction from Link (an absolute https URL).
type TransactionRequest struct {
	Link string
}

func (*TransferRequest) isRequest()    {}
func (*TransactionRequest) isRequest() {}

// Error reports what is wrong with a Solana Pay URI or request, naming the
// field (recipient, amount, spl-token, reference, label, message, memo,
// link, uri).
type Error struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("solana pay %s: %s", e.Field, e.Reason)
}

func ferr(field string, err error) *Error {
	switch e := err.(type) {
	case *address.Error:
		return &Error{Field: field, Reason: e.Error()}
	case *money.ParseError:
		return &Error{Field: field, Reason: e.Error()}
	}
	return &Error{Field: field, Reason: err.Error()}
}

// URI validates r and renders it. Errors are *Error.
func (r TransferRequest) URI() (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(r.Recipient)
	sep := byte('?')
	param := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	if r.Amount != "" {
		param("amount", r.Amount)
	}
	if r.SPLToken != "" {
		param("spl-token", r.SPLToken)
	}
	for _, ref := range r.References {
		param("reference", ref)
	}
	if r.Label != "" {
		param("label", escape(r.Label))
	}
	if r.Message != "" {
		param("message", escape(r.Message))
	}
	if r.Memo != "" {
		param("memo", escape(r.Memo))
	}
	if b.Len() > MaxURILength {
		return "", &Error{Field: "uri", Reason: fmt.Sprintf("%d characters, at most %d", b.Len(), MaxURILength)}
	}
	return b.String(), nil
}

func (r TransferRequest) validate() error {
	if r.Recipient == "" {
		return &Error{Field: "recipient", Reason: "required"}
	}
	if _, err := address.Parse(r.Recipient); err != nil {
		return ferr("recipient", err)
	}
	if r.SPLToken != "" {
		if _, err := address.Parse(r.SPLToken); err != nil {
			return ferr("spl-token", err)
		}
	}
	for i, ref := range r.References {
		if _, err := address.Parse(ref); err != nil {
			return &Error{Field: "reference", Reason: fmt.Sprintf("#%d: %s", i+1, err)}
		}
	}
	if r.Amount != "" {
		c, err := checkAmount(r.Amount, r.SPLToken == "")
		if err != nil {
			return err
		}
		if c != r.Amount {
			return &Error{Field: "amount", Reason: fmt.Sprintf("%q is not canonical (write %q)", r.Amount, c)}
		}
	}
	for _, f := range []struct{ name, v string }{{"label", r.Label}, {"message", r.Message}, {"memo", r.Memo}} {
		if !utf8.ValidString(f.v) {
			return &Error{Field: f.name, Reason: "not valid UTF-8"}
		}
	}
	return nil
}

// checkAmount validates the amount grammar and returns the canonical form.
// For SOL it also enforces at most 9 decimals and uint64 lamports.
func checkAmount(s string, sol bool) (string, error) {
	c, err := money.CanonicalDecimal(s)
	if err != nil {
		return "", ferr("amount", err)
	}
	if sol {
		if _, err := money.ParseUnits(c, money.SOLDecimals); err != nil {
			return "", ferr("amount", err)
		}
	}
	return c, nil
}

// URI validates the link (absolute https URL) and renders solana:<link>,
// percent-encoding the link when it has a query, as the spec requires.
func (r TransactionRequest) URI() (string, error) {
	if err := checkLink(r.Link); err != nil {
		return "", err
	}
	link := r.Link
	if strings.ContainsAny(link, "?#%") {
		link = url.QueryEscape(link) // encodes ':' and '/', never leaves '+' for space
		link = strings.ReplaceAll(link, "+", "%20")
	}
	u := scheme + link
	if len(u) > MaxURILength {
		return "", &Error{Field: "uri", Reason: fmt.Sprintf("%d characters, at most %d", len(u), MaxURILength)}
	}
	return u, nil
}

func checkLink(link string) error {
	if link == "" {
		return &Error{Field: "link", Reason: "required"}
	}
	if !utf8.ValidString(link) {
		return &Error{Field: "link", Reason: "not valid UTF-8"}
	}
	u, err := url.Parse(link)
	if err != nil {
		return &Error{Field: "link", Reason: "not a URL"}
	}
	if u.Scheme != "https" || u.Host == "" {
		return &Error{Field: "link", Reason: "must be an absolute https URL"}
	}
	if u.String() != link {
		// Only links that survive a parse/render cycle unchanged are
		// accepted, so what the wallet fetches is what we validated.
		return &Error{Field: "link", Reason: "not in normalised URL form"}
	}
	return nil
}

// escape percent-encodes UTF-8 text leaving only RFC 3986 unreserved
// characters, so space is %20 and '+' is %2B.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
