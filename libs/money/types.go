package money

import (
	"bytes"
	"errors"
	"fmt"
)

// Lamports is an amount of SOL in lamports (10^-9 SOL). In JSON it is an
// exact integer string ("1500000000") because values can exceed 2^53, the
// largest integer JavaScript numbers hold exactly.
type Lamports uint64

// ParseSOL converts an exact decimal SOL string ("1.5") to lamports.
// At most 9 decimals are accepted. Errors are *ParseError.
func ParseSOL(s string) (Lamports, error) {
	v, err := ParseUnits(s, SOLDecimals)
	return Lamports(v), err
}

// SOL renders the amount in SOL, canonically ("0.000000001", "716844.32").
func (l Lamports) SOL() string { return FormatUnits(uint64(l), SOLDecimals) }

// String renders the integer number of lamports.
func (l Lamports) String() string { return FormatUnits(uint64(l), 0) }

// MarshalJSON encodes the exact integer as a JSON string: "123".
func (l Lamports) MarshalJSON() ([]byte, error) {
	return []byte(`"` + l.String() + `"`), nil
}

// UnmarshalJSON accepts an integer as a JSON string ("123") or a JSON
// number (123). Fractions, signs, exponents, leading zeros and null are
// rejected: a missing amount must never silently become zero.
func (l *Lamports) UnmarshalJSON(b []byte) error {
	s, err := jsonScalar(b)
	if err != nil {
		return fmt.Errorf("lamports: %w", err)
	}
	v, err := ParseUnits(s, 0)
	if err != nil {
		return fmt.Errorf("lamports: %w", err)
	}
	*l = Lamports(v)
	return nil
}

// jsonScalar returns the text of a JSON string (without quotes, no escapes
// allowed: digits never need them) or of a bare JSON token.
func jsonScalar(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", errors.New("empty JSON value")
	}
	if string(b) == "null" {
		return "", errors.New("null is not an amount")
	}
	if b[0] == '"' {
		if len(b) < 2 || b[len(b)-1] != '"' || bytes.ContainsAny(b[1:len(b)-1], `"\`) {
			return "", fmt.Errorf("invalid JSON string %s", b)
		}
		return string(b[1 : len(b)-1]), nil
	}
	return string(b), nil
}

// SOLNumber is an amount in lamports that encodes to JSON as a number of
// SOL with the exact value (716844.32), for response shapes that carry SOL
// as a number. The digits come from integer math, never from a float.
type SOLNumber Lamports

// MarshalJSON encodes the exact SOL value as a JSON number.
func (n SOLNumber) MarshalJSON() ([]byte, error) {
	return []byte(Lamports(n).SOL()), nil
}

// UnmarshalJSON accepts a JSON number (or numeric string) of SOL with at
// most 9 decimals and converts it exactly to lamports.
func (n *SOLNumber) UnmarshalJSON(b []byte) error {
	s, err := jsonScalar(b)
	if err != nil {
		return fmt.Errorf("sol: %w", err)
	}
	v, err := ParseSOL(s)
	if err != nil {
		return fmt.Errorf("sol: %w", err)
	}
	*n = SOLNumber(v)
	return nil
}

// TokenAmount is a raw SPL token amount with its mint's decimals, shaped
// like Solana's RPC token amount ({"amount":"123","decimals":6}).
type TokenAmount struct {
	Raw      uint64 `json:"amount,string"`
	Decimals uint8  `json:"decimals"`
}

// String renders the amount in whole tokens, canonically.
func (t TokenAmount) String() string { return FormatUnits(t.Raw, t.Decimals) }
