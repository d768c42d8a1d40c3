package market

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/solcrowd/backend/libs/money"
)

// maxFracDigits bounds how many decimals a price from an upstream may carry.
const maxFracDigits = 36

// Decimal turns an upstream JSON number or numeric string into a canonical decimal string,
// exactly: "147.48" → "147.48", 1.396e1 → "13.96". Signs are allowed here (so callers can tell
// negative from garbage); see Positive.
func Decimal(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case nil:
		return "", fmt.Errorf("missing")
	default:
		return "", fmt.Errorf("not a number: %T", v)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	if c, err := money.CanonicalDecimal(body); err == nil {
		if neg && c != "0" {
			return "-" + c, nil
		}
		return c, nil
	}
	if !strings.ContainsAny(body, "eE") || len(s) > 64 {
		return "", fmt.Errorf("not a decimal: %q", s)
	}
	// Exponent form: big.Rat parses it exactly. The exponent is bounded first, because big.Rat
	// would otherwise build 10^999999999 for a hostile "1e999999999".
	if i := strings.IndexAny(body, "eE"); i >= 0 {
		e, err := strconv.Atoi(body[i+1:])
		if err != nil || e < -maxFracDigits || e > maxFracDigits {
			return "", fmt.Errorf("exponent out of range: %q", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("not a decimal: %q", s)
	}
	out := r.FloatString(maxFracDigits)
	back, _ := new(big.Rat).SetString(out)
	if back.Cmp(r) != 0 {
		return "", fmt.Errorf("too many decimals: %q", s)
	}
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	if out == "-0" {
		out = "0"
	}
	return out, nil
}

// Positive is Decimal restricted to values greater than zero: the only acceptable prices.
func Positive(v any) (string, error) {
	s, err := Decimal(v)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, "-") || s == "0" {
		return "", fmt.Errorf("not positive: %s", s)
	}
	return s, nil
}

// NonNegative is Decimal restricted to values of zero or more (liquidity, volume, market cap).
func NonNegative(v any) (string, error) {
	s, err := Decimal(v)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, "-") {
		return "", fmt.Errorf("negative: %s", s)
	}
	return s, nil
}

// compareDecimal compares two canonical non-negative decimal strings.
func compareDecimal(a, b string) int {
	ra, _ := new(big.Rat).SetString(a)
	rb, _ := new(big.Rat).SetString(b)
	if ra == nil || rb == nil {
		return strings.Compare(a, b)
	}
	return ra.Cmp(rb)
}
