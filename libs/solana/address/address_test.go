package address

import (
	"errors"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
)

// Real mainnet addresses from libs/fixtures/testdata/solana/PROVENANCE.md.
var mainnet = []string{
	"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", // USDC mint
	"11111111111111111111111111111111",             // System program (32 zero bytes)
	"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  // SPL Token program
	"web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2",
	"buffaAJKmNLao65TDTUGq8oB9HgxkfPLGqPMFQapotJ",
	"F5YtngCQs6QCUdy2vqT6hMtFyNkLpkJSTQF2WZKV1y8e",
	"H51DXRt3ubThhdhNeDMScfkbC5X4AWzYfHaZS3JKEfPh",
	"7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE",
	"metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s",
}

func TestParseValid(t *testing.T) {
	for _, s := range mainnet {
		k, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if k.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, k.String())
		}
		if want := solana.MustPublicKeyFromBase58(s); k != want {
			t.Errorf("Parse(%q) = %v, solana-go says %v", s, k, want)
		}
		if !Valid(s) {
			t.Errorf("Valid(%q) = false", s)
		}
	}
	if k, _ := Parse("11111111111111111111111111111111"); k != (solana.PublicKey{}) {
		t.Errorf("system program is not 32 zero bytes: %v", k[:])
	}
	max := solana.PublicKey{}
	for i := range max {
		max[i] = 0xff
	}
	if s := max.String(); len(s) != MaxLen || !Valid(s) {
		t.Errorf("all-0xff key %q (len %d) should be valid and %d long", s, len(s), MaxLen)
	}
}

func TestParseInvalid(t *testing.T) {
	usdc := "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
	tests := []struct {
		in, reason string
	}{
		{"", "empty"},
		{"0PjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "invalid base58 character '0' at position 0"},
		{"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1O", "invalid base58 character 'O' at position 43"},
		{"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDtIv", "invalid base58 character 'I' at position 42"},
		{"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDtlv", "invalid base58 character 'l' at position 42"},
		{" " + usdc, "invalid base58 character ' ' at position 0"},
		{usdc + "\n", "invalid base58 character '\\n' at position 44"},
		{"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1é", "invalid base58 character 'é' at position 43"},
		{"EPjF\xffWdd5", "invalid base58 character '\\xff' at position 4"},
		{usdc + "1", "too long (45 characters, at most 44)"},
		{strings.Repeat("z", 10000), "too long"},
		{"1111111111111111111111111111111", "decodes to 31 bytes, want 32"},
		{"111111111111111111111111111111111", "decodes to 33 bytes, want 32"},
		{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "decodes to 33 bytes, want 32"},
		{"2", "decodes to 1 bytes, want 32"},
		// Base58 is case-sensitive: changing one letter's case yields a
		// different 32-byte value (still valid) or an invalid one.
		{"epjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "decodes to 33 bytes, want 32"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) err = %v, want *Error", tt.in, err)
			continue
		}
		if !strings.HasPrefix(e.Reason, tt.reason) {
			t.Errorf("Parse(%q) reason %q, want prefix %q", tt.in, e.Reason, tt.reason)
		}
		if Valid(tt.in) {
			t.Errorf("Valid(%q) = true", tt.in)
		}
	}
}

func TestCaseSensitive(t *testing.T) {
	// Lowercasing a letter of a real address gives a different key or an
	// error, never the same key.
	usdc := "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
	want := solana.MustPublicKeyFromBase58(usdc)
	changed := strings.Replace(usdc, "W", "w", 1)
	if k, err := Parse(changed); err == nil && k == want {
		t.Fatalf("Parse(%q) equals the original key", changed)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse("0x12")
	if got, want := err.Error(), `invalid address "0x12": invalid base58 character '0' at position 0`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range mainnet {
		f.Add(s)
	}
	f.Add("")
	f.Add("0OIl")
	f.Add("111111111111111111111111111111111")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			if Valid(s) {
				t.Fatal("Valid disagrees with Parse")
			}
			return
		}
		if k.String() != s {
			t.Fatalf("Parse(%q) re-encodes to %q", s, k.String())
		}
		if len(s) > MaxLen {
			t.Fatalf("accepted %d characters", len(s))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"); err != nil {
			b.Fatal(err)
		}
	}
}
