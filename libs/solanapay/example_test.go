package solanapay_test

import (
	"fmt"

	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solanapay"
)

// A campaign QR code: the amount comes from integer lamports, text is
// percent-encoded UTF-8.
func ExampleTransferRequest_URI() {
	r := solanapay.TransferRequest{
		Recipient:  "AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8",
		Amount:     money.Lamports(1_500_000_000).SOL(),
		References: []string{"web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2"},
		Label:      "Café ☕ fund",
	}
	uri, err := r.URI()
	fmt.Println(uri, err)
	// Output: solana:AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8?amount=1.5&reference=web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2&label=Caf%C3%A9%20%E2%98%95%20fund <nil>
}

func ExampleParse() {
	req, err := solanapay.Parse("solana:AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8?amount=0.25&memo=CFP%20%2342")
	if err != nil {
		fmt.Println(err)
		return
	}
	switch r := req.(type) {
	case *solanapay.TransferRequest:
		lamports, _ := money.ParseSOL(r.Amount)
		fmt.Println("transfer", r.Recipient, uint64(lamports), r.Memo)
	case *solanapay.TransactionRequest:
		fmt.Println("transaction", r.Link)
	}
	// Output: transfer AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8 250000000 CFP #42
}
