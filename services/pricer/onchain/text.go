package onchain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text caps, in runes. Metaplex allows 32-byte names, 10-byte symbols and 200-byte URIs; Token-2022
// metadata is unbounded, so these caps are what the pricer is willing to pass on.
const (
	MaxNameRunes   = 64
	MaxSymbolRunes = 16
	MaxURIBytes    = 512
)

// CleanText returns s with invalid UTF-8 and every control character (NUL padding included)
// removed, surrounding space trimmed and at most maxRunes runes kept.
func CleanText(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || (unicode.Is(unicode.Cf, r) && r != '\u200d') {
			continue
		}
		if n == maxRunes {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// CleanURI cleans a URI like CleanText but drops it entirely when it is longer than MaxURIBytes or
// contains a space: a truncated or mangled URI would point somewhere else.
func CleanURI(s string) string {
	s = CleanText(s, MaxURIBytes+1)
	if len(s) > MaxURIBytes || strings.ContainsAny(s, " \t") {
		return ""
	}
	return s
}
