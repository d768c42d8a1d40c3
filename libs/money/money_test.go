package money

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestFormatUnits(t *testing.T) {
	tests := []struct {
		v    uint64
		d    uint8
		want string
	}{
		{0, 9, "0"},
		{0, 0, "0"},
		{1, 9, "0.000000001"},
		{100000000, 9, "0.1"},
		{1000000000, 9, "1"},
		{1500000000, 9, "1.5"},
		{1002540000, 9, "1.00254"},
		{716844320000000, 9, "716844.32"},
		{math.MaxUint64, 9, "18446744073.709551615"},
		{math.MaxUint64, 0, "18446744073709551615"},
		{math.MaxUint64, 19, "1.8446744073709551615"},
		{math.MaxUint64, 20, "0.18446744073709551615"},
		{1, 25, "0.0000000000000000000000001"},
		{10, 1, "1"},
		{1000, 6, "0.001"},
		{9830001302037, 6, "9830001.302037"},
		{8721043118453221, 6, "8721043118.453221"},
		{114638463277, 9, "114.638463277"},
		{100, 255, "0." + strings.Repeat("0", 252) + "1"},
	}
	for _, tt := range tests {
		if got := FormatUnits(tt.v, tt.d); got != tt.want {
			t.Errorf("FormatUnits(%d, %d) = %q, want %q", tt.v, tt.d, got, tt.want)
		}
	}
}

func TestParseUnits(t *testing.T) {
	tests := []struct {
		in   string
		d    uint8
		want uint64
	}{
		{"0", 9, 0},
		{"0.0", 9, 0},
		{"0.000000001", 9, 1},
		{"0.1", 9, 100000000},
		{"1", 9, 1000000000},
		{"1.5", 9, 1500000000},
		{"1.50", 9, 1500000000},
		{"1.00254", 9, 1002540000},
		{"716844.32", 9, 716844320000000},
		{"18446744073.709551615", 9, math.MaxUint64},
		{"18446744073709551615", 0, math.MaxUint64},
		{"1.8446744073709551615", 19, math.MaxUint64},
		{"0.18446744073709551615", 20, math.MaxUint64},
		{"9830001.302037", 6, 9830001302037},
		{"0.001", 6, 1000},
		{"0.0000000000000000000000001", 25, 1},
		{"0." + strings.Repeat("0", 252) + "1", 255, 100},
	}
	for _, tt := range tests {
		got, err := ParseUnits(tt.in, tt.d)
		if err != nil || got != tt.want {
			t.Errorf("ParseUnits(%q, %d) = %d, %v; want %d", tt.in, tt.d, got, err, tt.want)
		}
	}
}

func TestParseUnitsRejects(t *testing.T) {
	tests := []struct {
		in     string
		d      uint8
		reason string // substring of ParseError.Reason
	}{
		{"", 9, "empty"},
		{"0.1000000001", 9, "more than 9 decimals"},
		{"1.0000000000", 9, "more than 9 decimals"},
		{"1.5", 0, "has a fraction"},
		{".5", 9, "missing digits before"},
		{"5.", 9, "missing digits after"},
		{".", 9, "missing digits before"},
		{"+1", 9, "has a sign"},
		{"-1", 9, "has a sign"},
		{"-0", 9, "has a sign"},
		{"1e9", 9, "has an exponent"},
		{"1.5E3", 9, "has an exponent"},
		{"1e-9", 9, "has an exponent"},
		{"1,000", 9, "has a comma"},
		{"1_000", 9, "digit separator"},
		{" 1", 9, "has whitespace"},
		{"1 ", 9, "has whitespace"},
		{"1\n", 9, "has whitespace"},
		{"1\u00a0", 9, "has whitespace"},
		{"NaN", 9, "not a number"},
		{"Inf", 9, "not a number"},
		{"Infinity", 9, "not a number"},
		{"0x10", 9, "not a number"},
		{"١٢", 9, "not a number"}, // Arabic-Indic digits
		{"１", 9, "not a number"},  // fullwidth digit
		{"1.2.3", 9, "not a number"},
		{"abc", 9, "not a number"},
		{"\xff", 9, "not a number"},
		{"01", 9, "has leading zeros"},
		{"00.5", 9, "has leading zeros"},
		{"18446744073.709551616", 9, "too large (exceeds 18446744073709551615 base units)"},
		{"18446744074", 9, "too large"},
		{"18446744073709551616", 0, "too large"},
		{"99999999999999999999999", 0, "too large"},
		{"1", 20, "too large"},
		{strings.Repeat("1", 400), 9, "too long"},
	}
	for _, tt := range tests {
		v, err := ParseUnits(tt.in, tt.d)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseUnits(%q, %d) = %d, %v; want *ParseError", tt.in, tt.d, v, err)
			continue
		}
		if !strings.Contains(pe.Reason, tt.reason) {
			t.Errorf("ParseUnits(%q, %d) reason %q, want it to contain %q", tt.in, tt.d, pe.Reason, tt.reason)
		}
		if pe.Input != tt.in {
			t.Errorf("ParseError.Input = %q, want %q", pe.Input, tt.in)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := ParseSOL("0.1000000001")
	if got, want := err.Error(), `invalid amount "0.1000000001": more than 9 decimals`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	_, err = ParseSOL(strings.Repeat("9", 100))
	if len(err.Error()) > 120 {
		t.Fatalf("error message not truncated: %d bytes", len(err.Error()))
	}
}

func TestParseSOLAndLamports(t *testing.T) {
	l, err := ParseSOL("1.00254")
	if err != nil || l != 1002540000 {
		t.Fatalf("ParseSOL(1.00254) = %d, %v", l, err)
	}
	if got := Lamports(716844320000000).SOL(); got != "716844.32" {
		t.Fatalf("SOL() = %q", got)
	}
	if got := Lamports(42).String(); got != "42" {
		t.Fatalf("String() = %q", got)
	}
	if LamportsPerSOL != 1_000_000_000 || SOLDecimals != 9 {
		t.Fatal("constants changed")
	}
}

func TestLamportsJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A Lamports  `json:"a"`
		B *Lamports `json:"b"`
	}{A: math.MaxUint64})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":"18446744073709551615","b":null}`; got != want {
		t.Fatalf("Marshal = %s, want %s", got, want)
	}

	good := map[string]Lamports{
		`"123"`:                  123,
		`123`:                    123,
		`"0"`:                    0,
		` 7 `:                    7,
		`"18446744073709551615"`: math.MaxUint64,
		`18446744073709551615`:   math.MaxUint64,
	}
	for in, want := range good {
		var l Lamports
		if err := json.Unmarshal([]byte(in), &l); err != nil || l != want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", in, l, err, want)
		}
	}
	for _, in := range []string{`"1.5"`, `1.5`, `-1`, `"-1"`, `1e9`, `"+1"`, `null`, `""`, `"01"`,
		`"18446744073709551616"`, `true`, `"1\u0030"`, `{}`, `[]`, `"12`} {
		var l Lamports = 99
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("Unmarshal(%s) = %d, want error", in, l)
		}
		if l != 99 {
			t.Errorf("Unmarshal(%s) changed the value on error to %d", in, l)
		}
	}
	// A null into a pointer field leaves it nil (encoding/json never calls
	// UnmarshalJSON for that case).
	var s struct{ P *Lamports }
	if err := json.Unmarshal([]byte(`{"P":null}`), &s); err != nil || s.P != nil {
		t.Fatalf("pointer null: %v %v", s.P, err)
	}
}

func TestSOLNumberJSON(t *testing.T) {
	tests := map[SOLNumber]string{
		0:                `0`,
		1:                `0.000000001`,
		100000000:        `0.1`,
		2750000000:       `2.75`,
		716844320000000:  `716844.32`,
		math.MaxUint64:   `18446744073.709551615`,
		1000000000 * 180: `180`,
	}
	for n, want := range tests {
		b, err := json.Marshal(n)
		if err != nil || string(b) != want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", uint64(n), b, err, want)
		}
		var back SOLNumber
		if err := json.Unmarshal(b, &back); err != nil || back != n {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, uint64(back), err, uint64(n))
		}
		// The output must be a valid JSON number that a generic decoder reads.
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			t.Errorf("%s is not a JSON number: %v", b, err)
		}
	}
	var n SOLNumber
	for _, in := range []string{`1e-9`, `-1`, `0.0000000001`, `null`, `"x"`} {
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("Unmarshal(%s) = %d, want error", in, uint64(n))
		}
	}
}

func TestTokenAmount(t *testing.T) {
	ta := TokenAmount{Raw: 9830001302037, Decimals: 6}
	if got := ta.String(); got != "9830001.302037" {
		t.Fatalf("String() = %q", got)
	}
	b, err := json.Marshal(ta)
	if err != nil || string(b) != `{"amount":"9830001302037","decimals":6}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back TokenAmount
	if err := json.Unmarshal([]byte(`{"amount":"18446744073709551615","decimals":6,"uiAmount":1.8e13}`), &back); err != nil ||
		back != (TokenAmount{Raw: math.MaxUint64, Decimals: 6}) {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
}

func TestMulDecimal(t *testing.T) {
	tests := []struct {
		units  uint64
		d      uint8
		price  string
		places int
		want   string
	}{
		{2750000000, 9, "181.91", 2, "500.25"}, // 500.2525
		{2750000000, 9, "181.93", 2, "500.31"}, // 500.3075 rounds up
		{1000000000, 9, "180", 2, "180"},
		{1000000000, 9, "180.0", 2, "180"},
		{0, 9, "180.5", 2, "0"},
		{1, 9, "100", 2, "0"},        // 0.0000001 USD
		{5000000, 9, "1", 2, "0.01"}, // exactly half a cent rounds up
		{4999999, 9, "1", 2, "0"},    // just under half
		{1500000000, 9, "93.85943752", 8, "140.78915628"},
		{math.MaxUint64, 9, "93.85943752", 2, "1731401022833.77"}, // = 1731401022833.7719... (checked with Python decimal)
		{1000, 6, "0.9998", 7, "0.0009998"},
		{1000, 6, "0.9998", 6, "0.001"},
		{123, 0, "2", 0, "246"},
		{1, 0, "0.5", 0, "1"},
		{1, 0, "0.49", 0, "0"},
	}
	for _, tt := range tests {
		got, err := MulDecimal(tt.units, tt.d, tt.price, tt.places)
		if err != nil || got != tt.want {
			t.Errorf("MulDecimal(%d, %d, %q, %d) = %q, %v; want %q", tt.units, tt.d, tt.price, tt.places, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		price  string
		places int
	}{{"-1", 2}, {"1e3", 2}, {"", 2}, {"NaN", 2}, {".5", 2}, {"1", -1}, {"1", MaxPlaces + 1}} {
		if got, err := MulDecimal(1, 9, bad.price, bad.places); err == nil {
			t.Errorf("MulDecimal(price %q, places %d) = %q, want error", bad.price, bad.places, got)
		}
	}
}

func TestDecimalNumber(t *testing.T) {
	good := map[string]string{"180": "180", "180.0": "180", "93.85943752": "93.85943752", "0.050": "0.05", "0": "0"}
	for in, want := range good {
		n, err := DecimalNumber(in)
		if err != nil || string(n) != want {
			t.Errorf("DecimalNumber(%q) = %q, %v; want %q", in, n, err, want)
		}
		b, _ := json.Marshal(map[string]json.Number{"sol_price": n})
		if string(b) != `{"sol_price":`+want+`}` {
			t.Errorf("encoded %s", b)
		}
	}
	for _, in := range []string{"", "-1", "1e3", "NaN", "1.", ".1", "1,0", " 1"} {
		if n, err := DecimalNumber(in); err == nil {
			t.Errorf("DecimalNumber(%q) = %q, want error", in, n)
		}
	}
}

func BenchmarkParseUnits(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseUnits("716844.320000001", 9); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatUnits(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = FormatUnits(716844320000001, 9)
	}
}

func BenchmarkMulDecimal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MulDecimal(716844320000001, 9, "93.85943752", 2); err != nil {
			b.Fatal(err)
		}
	}
}
