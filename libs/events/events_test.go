package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// roundTrip marshals v, unmarshals into a new value of the same type and requires equality.
func roundTrip[T any](t *testing.T, v T) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var got T
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("unmarshal %T: %v", v, err)
	}
	if !reflect.DeepEqual(v, got) {
		t.Fatalf("%T did not round-trip:\nwant %+v\ngot  %+v\njson %s", v, v, got, data)
	}
	return data
}

func TestEventsRoundTripLosslessly(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 30, 0, 123456000, time.UTC)
	c := Contribution{
		Version: Version, State: StateConfirmed, Signature: "3Vfp5qPhF14bNb1dKDCdhrNBVyr5FZ7bnrHaAEZn4bsSBhCm6smt1BGdtiHBNzaEr1oBhcX2a6SwBFzeXn3CHnnjxaC",
		TransferIndex: 7, Escrow: "buffaAJKmNLao65TDTUGq8oB9HgxkfPLGqPMFQapotJ", Payer: "web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2",
		Amount: 18446744073709551615, Decimals: 9, Memo: "CFP #4115716", Reference: "11111111111111111111111111111112",
		CampaignID: "c1", Slot: 300547625, BlockTime: 1731232782, Observed: now,
	}
	data := roundTrip(t, c)
	if !strings.Contains(string(data), `"amount":"18446744073709551615"`) {
		t.Fatalf("amount must be an exact integer string: %s", data)
	}
	camp := Campaign{
		ID: "c1", Name: "Karen", Symbol: "KAREN", ContractAddress: "5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump",
		ImageURL: ptr("https://x/y.png"), WalletAddress: "9o24Px7asSDJ1ZLyQhZd7vehm9kX4VuTeJh7VGryjXkm", Status: StatusFunded,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), Description: ptr("d"),
		GoalLamports: 9007199254740993, RaisedLamports: 9007199254740993, SettledLamports: 1, PendingLamports: 9007199254740992,
		ContributorCount: 3, Revision: 42, PriceUSD: "0.000123",
	}
	data = roundTrip(t, CampaignEvent{Version: Version, Type: CampaignProgress, Campaign: camp, At: now})
	if !strings.Contains(string(data), `"goal_lamports":"9007199254740993"`) {
		t.Fatalf("goal must be exact: %s", data)
	}
	roundTrip(t, SOLPrice{Version: Version, USD: "93.85943752", Source: "pyth", UpdatedAt: now, Stale: true})
	roundTrip(t, TokenInfo{Version: Version, Mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", Decimals: 6, Supply: 8721043118453221,
		PumpFun: &PumpFunState{BondingCurve: "x", Complete: true}, HoldersCount: ptr(int64(12345)), UpdatedAt: now})
	roundTrip(t, Checkpoint{Version: Version, Escrow: "e", Signature: "s", Slot: 1})
	roundTrip(t, EscrowTransactionsReply{Escrow: "e", TransactionCount: 2, TotalLamports: 1500000000, Contributors: []string{"a", "b"},
		Transactions: []LedgerEntry{{Signature: "s", Amount: 500000000, State: StateFinalized, BlockTime: 1678886400}}})
	roundTrip(t, CreateCampaignRequest{ContractAddress: "m", GoalAmount: "100.00", ExpiresAt: "2025-12-31T23:59:59Z", SocialTwitter: ptr("https://x.com/k")})
	roundTrip(t, EscrowBalanceReply{Escrow: "e", Lamports: 2750000000, Slot: 5, At: now})
}

func TestDedupIDsUseOnlyImmutableFacts(t *testing.T) {
	a := Contribution{Signature: "sig", TransferIndex: 2, State: StateFinalized, Slot: 10, Observed: time.Now()}
	b := a
	b.Observed = a.Observed.Add(time.Hour) // observing again must not change the id
	b.CampaignID = "other"
	if a.MsgID() != b.MsgID() || a.MsgID() != "sig:2:finalized" {
		t.Fatalf("ids differ or wrong: %q %q", a.MsgID(), b.MsgID())
	}
	c := a
	c.State = StateConfirmed
	if c.MsgID() == a.MsgID() {
		t.Fatal("different states must have different ids")
	}
	e1 := CampaignEvent{Type: CampaignProgress, Campaign: Campaign{ID: "c", Revision: 3}, At: time.Now()}
	e2 := e1
	e2.At = e1.At.Add(time.Minute)
	if e1.MsgID() != e2.MsgID() || e1.MsgID() != "c:progress:3" {
		t.Fatalf("campaign ids: %q %q", e1.MsgID(), e2.MsgID())
	}
	if e1.Subject() != SubjectCampaignProgress {
		t.Fatalf("subject %q", e1.Subject())
	}
}

func TestSubjectsAreLowercaseDottedAndCoveredByStreams(t *testing.T) {
	covered := map[string]string{}
	for _, s := range Streams {
		for _, subj := range s.Subjects {
			covered[subj] = s.Name
		}
	}
	for _, st := range []ContributionState{StateConfirmed, StateFinalized, StateDropped} {
		if covered[st.Subject()] != StreamContributions {
			t.Errorf("%s not in CONTRIBUTIONS", st.Subject())
		}
	}
	for _, typ := range []string{CampaignCreated, CampaignUpdated, CampaignProgress, CampaignStatusChanged} {
		if covered[CampaignEvent{Type: typ}.Subject()] != StreamCampaigns {
			t.Errorf("campaign.%s not in CAMPAIGNS", typ)
		}
	}
	for subj := range covered {
		if subj != strings.ToLower(subj) || strings.HasPrefix(subj, "$") || !strings.Contains(subj, ".") {
			t.Errorf("bad subject %q", subj)
		}
	}
}
