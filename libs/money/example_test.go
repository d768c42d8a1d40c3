package money_test

import (
	"encoding/json"
	"fmt"

	"github.com/solcrowd/backend/libs/money"
)

// A balance response: the exact integer as a string, SOL and USD as JSON
// numbers derived without floating point.
func Example() {
	balance := money.Lamports(2_750_000_000)
	usd, _ := money.MulDecimal(uint64(balance), money.SOLDecimals, "181.91", 2)
	b, _ := json.Marshal(struct {
		Lamports money.Lamports  `json:"balance_lamports"`
		SOL      money.SOLNumber `json:"balanceSOL"`
		USD      json.Number     `json:"balanceUSD"`
	}{balance, money.SOLNumber(balance), json.Number(usd)})
	fmt.Println(string(b))

	_, err := money.ParseSOL("0.1000000001")
	fmt.Println(err)
	// Output:
	// {"balance_lamports":"2750000000","balanceSOL":2.75,"balanceUSD":500.25}
	// invalid amount "0.1000000001": more than 9 decimals
}
