package money

import (
	"math/big"
	"strings"
	"testing"
)

// isCanonical reports whether s is in FormatUnits' canonical form.
func isCanonical(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0' && s[1] != '.') {
		return false
	}
	ip, fp, dot := strings.Cut(s, ".")
	if !allDigits(ip) || ip == "" {
		return false
	}
	if dot && (fp == "" || !allDigits(fp) || strings.HasSuffix(fp, "0")) {
		return false
	}
	return true
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"0", "1.5", "0.000000001", "18446744073.709551615", "18446744073.709551616",
		".5", "5.", "1e9", "-1", "01", "0.1000000001", "1,000", "NaN"} {
		f.Add(s, uint8(9), uint64(0))
	}
	f.Add("1", uint8(0), uint64(18446744073709551615))
	f.Add("0.1", uint8(255), uint64(1))
	f.Fuzz(func(t *testing.T, s string, d uint8, n uint64) {
		// Any string: success implies a canonical, re-parseable, equal value
		// that agrees with an independent big.Int computation.
		if v, err := ParseUnits(s, d); err == nil {
			out := FormatUnits(v, d)
			if !isCanonical(out) {
				t.Fatalf("FormatUnits(%d, %d) = %q is not canonical", v, d, out)
			}
			back, err := ParseUnits(out, d)
			if err != nil || back != v {
				t.Fatalf("ParseUnits(%q) = %d; FormatUnits→%q re-parses to %d, %v", s, v, out, back, err)
			}
			ip, fp, _ := strings.Cut(s, ".")
			want, _ := new(big.Int).SetString(ip+fp+strings.Repeat("0", int(d)-len(fp)), 10)
			if want == nil || !want.IsUint64() || want.Uint64() != v {
				t.Fatalf("ParseUnits(%q, %d) = %d, big.Int says %v", s, d, v, want)
			}
		} else if _, ok := err.(*ParseError); !ok {
			t.Fatalf("error %T is not *ParseError", err)
		}
		// Any uint64: format then parse is the identity.
		out := FormatUnits(n, d)
		if !isCanonical(out) {
			t.Fatalf("FormatUnits(%d, %d) = %q is not canonical", n, d, out)
		}
		if back, err := ParseUnits(out, d); err != nil || back != n {
			t.Fatalf("ParseUnits(FormatUnits(%d, %d)=%q) = %d, %v", n, d, out, back, err)
		}
		// CanonicalDecimal of a formatted value is that value.
		if c, err := CanonicalDecimal(out); err != nil || c != out {
			t.Fatalf("CanonicalDecimal(%q) = %q, %v", out, c, err)
		}
	})
}

func FuzzMulDecimal(f *testing.F) {
	f.Add(uint64(2750000000), uint8(9), "181.91", 2)
	f.Add(uint64(18446744073709551615), uint8(0), "99999.999999", 6)
	f.Fuzz(func(t *testing.T, units uint64, d uint8, price string, places int) {
		got, err := MulDecimal(units, d, price, places%40)
		if err != nil {
			return
		}
		if !isCanonical(got) {
			t.Fatalf("MulDecimal = %q not canonical", got)
		}
		// Cross-check with big.Rat: |got - exact| <= half a unit of the last place.
		p, ok := new(big.Rat).SetString(price)
		if !ok {
			t.Fatalf("accepted price %q that big.Rat rejects", price)
		}
		exact := new(big.Rat).Mul(new(big.Rat).SetFrac(new(big.Int).SetUint64(units), pow10(int(d))), p)
		g, _ := new(big.Rat).SetString(got)
		diff := new(big.Rat).Sub(g, exact)
		half := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Mul(big.NewInt(2), pow10(places%40)))
		if diff.Cmp(half) > 0 || new(big.Rat).Neg(diff).Cmp(half) >= 0 {
			t.Fatalf("MulDecimal(%d,%d,%q,%d) = %s, exact %s", units, d, price, places%40, got, exact.FloatString(50))
		}
	})
}
