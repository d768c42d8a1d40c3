// Package address validates Solana account addresses: base58 text (Bitcoin
// alphabet, case-sensitive) that decodes to exactly 32 bytes.
//
// Guarantees: Parse never panics; it rejects empty input, input longer than
// 44 characters (the longest base58 form of 32 bytes) without decoding it,
// any character outside the base58 alphabet (including whitespace and
// 0, O, I, l), and text decoding to any length other than 32 bytes. On
// success the returned key re-encodes to exactly the input, so a parsed
// address is also canonical. Errors are *Error with a human reason.
package address

import (
	"fmt"
	"unicode/utf8"

	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

// MaxLen is the longest base58 text of a 32-byte value.
const MaxLen = 44

// Error reports why a string is not a valid address.
type Error struct {
	Input  string // the rejected input (Error truncates long values)
	Reason string // e.g. "empty", "invalid base58 character '0' at position 3"
}

// Error implements error.
func (e *Error) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "…"
	}
	return fmt.Sprintf("invalid address %q: %s", in, e.Reason)
}

// Parse decodes a base58 address into a 32-byte public key. Positions in
// error reasons are 0-based character (rune) offsets.
func Parse(s string) (solana.PublicKey, error) {
	if s == "" {
		return solana.PublicKey{}, &Error{Input: s, Reason: "empty"}
	}
	// Check characters before length, so "too long" is reserved for text
	// made of valid characters; stop scanning early on huge input.
	pos := 0
	for i, r := range s {
		if i > 4*MaxLen {
			break
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return solana.PublicKey{}, &Error{Input: s, Reason: fmt.Sprintf("invalid base58 character '\\x%02x' at position %d", s[i], pos)}
			}
		}
		if r >= 0x80 || !isBase58(byte(r)) {
			return solana.PublicKey{}, &Error{Input: s, Reason: fmt.Sprintf("invalid base58 character %q at position %d", r, pos)}
		}
		pos++
	}
	if len(s) > MaxLen {
		return solana.PublicKey{}, &Error{Input: s, Reason: fmt.Sprintf("too long (%d characters, at most %d)", len(s), MaxLen)}
	}
	b, err := base58.Decode(s)
	if err != nil { // unreachable after the alphabet check; kept for safety
		return solana.PublicKey{}, &Error{Input: s, Reason: "invalid base58"}
	}
	if len(b) != solana.PublicKeyLength {
		return solana.PublicKey{}, &Error{Input: s, Reason: fmt.Sprintf("decodes to %d bytes, want 32", len(b))}
	}
	k := solana.PublicKeyFromBytes(b)
	if k.String() != s { // base58 is bijective here; this guards the guarantee
		return solana.PublicKey{}, &Error{Input: s, Reason: "not canonical base58"}
	}
	return k, nil
}

// Valid reports whether s is a valid address (see Parse).
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

func isBase58(c byte) bool {
	switch {
	case c >= '1' && c <= '9':
		return true
	case c >= 'A' && c <= 'Z':
		return c != 'I' && c != 'O'
	case c >= 'a' && c <= 'z':
		return c != 'l'
	}
	return false
}
