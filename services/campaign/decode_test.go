package campaign

import (
	"errors"
	"testing"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
)

// FuzzDecodeContribution: no payload panics the decoder; anything it accepts is applicable
// (valid state on its own subject, addresses, a positive amount); anything else is poison.
func FuzzDecodeContribution(f *testing.F) {
	good := `{"version":1,"state":"confirmed","signature":"s","transfer_index":0,"escrow":"9o24Px7asSDJ1ZLyQhZd7vehm9kX4VuTeJh7VGryjXkm","payer":"5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump","amount":"9007199254740993","decimals":9}`
	f.Add(events.SubjectContributionConfirmed, good)
	f.Add(events.SubjectContributionFinalized, good)
	f.Add(events.SubjectContributionConfirmed, `{"version":2}`)
	f.Add(events.SubjectContributionDropped, `{`)
	f.Add(events.SubjectContributionConfirmed, `{"version":1,"state":"confirmed","amount":"-1"}`)
	f.Fuzz(func(t *testing.T, subject, body string) {
		c, err := decodeContribution(subject, []byte(body))
		if err != nil {
			if !errors.Is(err, bus.ErrPoison) {
				t.Fatalf("rejection is not poison: %v", err)
			}
			return
		}
		if !c.State.Valid() || c.State.Subject() != subject || c.Amount == 0 || c.Signature == "" ||
			!address.Valid(c.Escrow) || !address.Valid(c.Payer) || c.TransferIndex < 0 || c.Version != 1 {
			t.Fatalf("accepted an inapplicable event: %+v", c)
		}
	})
}
