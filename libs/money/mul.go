package money

import (
	"errors"
	"math/big"
	"strings"
)

// MaxPlaces bounds the places argument of MulDecimal.
const MaxPlaces = 36

// MulDecimal returns the exact product of an amount (units base units with
// the given decimals) and a decimal price string (e.g. a USD price per whole
// unit), rounded half-up to `places` decimals and rendered canonically (no
// trailing zeros, no exponent). It is how balanceUSD is derived from
// lamports and a price without floating point. Price errors are *ParseError.
func MulDecimal(units uint64, decimals uint8, price string, places int) (string, error) {
	if places < 0 || places > MaxPlaces {
		return "", errors.New("money: places out of range 0..36")
	}
	intPart, frac, err := splitDecimal(price)
	if err != nil {
		return "", err
	}
	p, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok { // unreachable: splitDecimal guarantees digits
		return "", perr(price, "not a number")
	}
	// value = units * p / 10^(decimals+len(frac)); scaled = value * 10^places.
	num := new(big.Int).Mul(new(big.Int).SetUint64(units), p)
	num.Mul(num, pow10(places))
	den := pow10(int(decimals) + len(frac))
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Half-up: round away from zero when the remainder is at least half.
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	digits := q.String()
	if places == 0 {
		return digits, nil
	}
	if len(digits) <= places {
		digits = strings.Repeat("0", places-len(digits)+1) + digits
	}
	ip, fp := digits[:len(digits)-places], strings.TrimRight(digits[len(digits)-places:], "0")
	if fp == "" {
		return ip, nil
	}
	return ip + "." + fp, nil
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
