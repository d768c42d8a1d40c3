// Package money holds exact, integer-only amounts of SOL and SPL tokens and
// the decimal-string conversions used at the edges of the system.
//
// Guarantees:
//   - Amounts are uint64 base units (lamports for SOL, raw units for SPL
//     tokens). No function in this package uses floating point.
//   - ParseUnits accepts exactly the grammar `0|[1-9][0-9]*` optionally
//     followed by `.` and one or more digits, with at most `decimals`
//     fraction digits, and a value that fits uint64 base units. Everything
//     else (signs, exponents, commas, whitespace, ".5", "5.", leading zeros
//     such as "01", NaN/Inf, hex, non-ASCII digits, overflow, input over
//     320 bytes) is rejected
//     with a *ParseError that says why. Zero is accepted; callers decide
//     whether zero is allowed.
//   - FormatUnits returns the canonical form: no exponent, no sign, no
//     trailing fraction zeros, no trailing ".", "0" for zero. For every n and
//     d, ParseUnits(FormatUnits(n, d), d) == n.
//   - Lamports encodes to JSON as an exact integer string ("123"); SOLNumber
//     encodes as a JSON number holding the exact SOL value (716844.32).
package money

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// SOLDecimals is the number of decimals of SOL: 1 SOL = 10^9 lamports.
	SOLDecimals = 9
	// LamportsPerSOL is the number of lamports in one SOL.
	LamportsPerSOL uint64 = 1_000_000_000
	// MaxDecimals is the largest number of decimals d for which one whole
	// unit (10^d base units) fits in a uint64. ParseUnits and FormatUnits
	// still work for larger d (SPL mints may declare up to 255); callers that
	// need a whole unit to be representable should check against it.
	MaxDecimals = 19
	// maxInputLen bounds the input parsers look at, so hostile input fails
	// fast. 255 fraction digits plus a 20-digit integer part fit easily.
	maxInputLen = 320
)

// ParseError reports why a decimal string is not an acceptable amount.
type ParseError struct {
	Input  string // the rejected input (may be long; Error truncates it)
	Reason string // a short human reason, e.g. "has a sign"
}

// Error implements error.
func (e *ParseError) Error() string {
	in := e.Input
	if len(in) > 40 {
		in = in[:40] + "…"
	}
	return fmt.Sprintf("invalid amount %q: %s", in, e.Reason)
}

func perr(s, reason string) *ParseError { return &ParseError{Input: s, Reason: reason} }

// splitDecimal checks the shared decimal grammar and returns the integer
// and fraction digit strings. The fraction may be empty (no ".").
func splitDecimal(s string) (intPart, frac string, err error) {
	if s == "" {
		return "", "", perr(s, "empty")
	}
	if len(s) > maxInputLen {
		return "", "", perr(s, fmt.Sprintf("too long (more than %d characters)", maxInputLen))
	}
	// Classify the most helpful reason before the generic grammar check.
	for _, r := range s {
		if unicode.IsSpace(r) {
			return "", "", perr(s, "has whitespace")
		}
	}
	if !utf8.ValidString(s) {
		return "", "", perr(s, "not a number")
	}
	switch s[0] {
	case '+', '-':
		return "", "", perr(s, "has a sign")
	}
	if strings.ContainsRune(s, ',') {
		return "", "", perr(s, "has a comma")
	}
	if strings.ContainsRune(s, '_') {
		return "", "", perr(s, "has a digit separator")
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if ei := strings.IndexAny(s, "eE"); ei > 0 && isDecimalChars(s[:ei]) {
		return "", "", perr(s, "has an exponent")
	}
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return "", "", perr(s, "not a number")
	}
	if intPart == "" {
		return "", "", perr(s, "missing digits before \".\" (write 0.5, not .5)")
	}
	if hasDot && frac == "" {
		return "", "", perr(s, "missing digits after \".\" (write 5, not 5.)")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return "", "", perr(s, "has leading zeros")
	}
	return intPart, frac, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimalChars reports whether s is made only of ASCII digits and dots and
// holds at least one digit (used to recognise "1e9" or "1.5E3").
func isDecimalChars(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digit = true
		case s[i] == '.':
		default:
			return false
		}
	}
	return digit
}

// tooLarge is the reason given for values beyond uint64 base units.
const tooLarge = "too large (exceeds 18446744073709551615 base units)"

// ParseUnits converts an exact decimal string in whole units (e.g. "1.5"
// SOL) to base units (1500000000 for decimals=9). See the package doc for
// the accepted grammar. Errors are *ParseError.
func ParseUnits(s string, decimals uint8) (uint64, error) {
	intPart, frac, err := splitDecimal(s)
	if err != nil {
		return 0, err
	}
	if len(frac) > int(decimals) {
		if decimals == 0 {
			return 0, perr(s, "has a fraction (must be a whole number)")
		}
		return 0, perr(s, fmt.Sprintf("more than %d decimals", decimals))
	}
	var v uint64
	// Digits of intPart followed by frac right-padded with zeros to
	// `decimals` digits, accumulated with overflow checks.
	add := func(d byte) bool {
		if v > (^uint64(0))/10 {
			return false
		}
		v *= 10
		n := v + uint64(d-'0')
		if n < v {
			return false
		}
		v = n
		return true
	}
	for i := 0; i < len(intPart); i++ {
		if !add(intPart[i]) {
			return 0, perr(s, tooLarge)
		}
	}
	for i := 0; i < int(decimals); i++ {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if !add(d) {
			return 0, perr(s, tooLarge)
		}
	}
	return v, nil
}

// FormatUnits renders base units as a canonical decimal string in whole
// units: no exponent, no trailing fraction zeros, no trailing ".", "0" for
// zero. It is exact for every uint64 and every decimals value.
func FormatUnits(v uint64, decimals uint8) string {
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], v, 10)
	d := int(decimals)
	if d == 0 {
		return string(digits)
	}
	if v == 0 {
		return "0"
	}
	var b strings.Builder
	if len(digits) > d {
		b.Grow(len(digits) + 1)
		b.Write(digits[:len(digits)-d])
		digits = digits[len(digits)-d:]
	} else {
		b.Grow(d + 2)
		b.WriteByte('0')
		pad := d - len(digits)
		digits = trimZeros(digits)
		if len(digits) == 0 {
			return b.String()
		}
		b.WriteByte('.')
		for range pad {
			b.WriteByte('0')
		}
		b.Write(digits)
		return b.String()
	}
	digits = trimZeros(digits)
	if len(digits) > 0 {
		b.WriteByte('.')
		b.Write(digits)
	}
	return b.String()
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// CanonicalDecimal checks s against the decimal grammar (any number of
// fraction digits, arbitrary size) and returns its canonical form: trailing
// fraction zeros and a bare "." removed ("1.50" → "1.5", "2.0" → "2").
// Errors are *ParseError.
func CanonicalDecimal(s string) (string, error) {
	intPart, frac, err := splitDecimal(s)
	if err != nil {
		return "", err
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return intPart, nil
	}
	return intPart + "." + frac, nil
}

// DecimalNumber validates a decimal string (see CanonicalDecimal) and
// returns its canonical form as a json.Number, so it encodes as a JSON
// number with exactly those digits (e.g. sol_price 180.25).
func DecimalNumber(s string) (json.Number, error) {
	c, err := CanonicalDecimal(s)
	if err != nil {
		return "", err
	}
	return json.Number(c), nil
}
