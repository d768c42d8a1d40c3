package indexer

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// waitLive waits until the indexer reports n subscribed escrows and none polled.
func (h *harness) waitLive(n int) {
	h.t.Helper()
	waitFor(h.t, "subscriptions live", 15*time.Second, func() bool {
		r, err := bus.Request[events.ChainHealthReply](h.ctx(2*time.Second), h.conn, events.SubjectIndexerHealth, events.ChainHealthRequest{})
		return err == nil && r.OK && !r.Degraded && r.Subscriptions == n
	})
}

func bySig(cs []events.Contribution, sig solana.Signature, state events.ContributionState) []events.Contribution {
	var out []events.Contribution
	for _, c := range cs {
		if c.Signature == sig.String() && c.State == state {
			out = append(out, c)
		}
	}
	return out
}

func TestRealPaymentsOfEveryShape(t *testing.T) {
	h := newHarness(t, soltest.Config{})
	a, refA := h.campaign("camp-a", solana.PublicKey{})
	b, _ := h.campaign("camp-b", solana.PublicKey{})
	shared, refC := h.campaign("camp-c", solana.PublicKey{})
	h.campaign("camp-d", shared) // a second campaign on the same escrow: no escrow attribution
	h.startIndexer(h.cfg)
	h.waitLive(3)

	payer := h.payer()
	pk := payer.PublicKey()

	legacy := h.send(payer, []solana.Instruction{transferIx(pk, a, 1_000_000, refA)})

	table := h.sim.CreateLookupTable([]solana.PublicKey{solana.SystemProgramID, b})
	v0 := h.send(payer, []solana.Instruction{transferIx(pk, b, 2_000_000)},
		solana.TransactionAddressTables(map[solana.PublicKey]solana.PublicKeySlice{table: {solana.SystemProgramID, b}}))

	ixs := append(computeBudgetIxs(), memoIx("thanks"), transferIx(pk, a, 3_000_000), memoIx("after"))
	memoFirst := h.send(payer, ixs)

	cpi := h.send(payer, []solana.Instruction{relayIx(pk, b, 4_000_000)})

	mint := h.sim.CreateMint(solana.NewWallet().PublicKey(), 6, false)
	src := h.sim.MintTo(mint, pk, 50_000_000)
	ata := soltest.AssociatedTokenAddress(a, mint, solana.TokenProgramID)
	createATA := solana.NewInstruction(solana.SPLAssociatedTokenAccountProgramID, solana.AccountMetaSlice{
		solana.Meta(pk).WRITE().SIGNER(), solana.Meta(ata).WRITE(), solana.Meta(a), solana.Meta(mint),
		solana.Meta(solana.SystemProgramID), solana.Meta(solana.TokenProgramID)}, []byte{1})
	d := make([]byte, 10)
	d[0] = 12
	binary.LittleEndian.PutUint64(d[1:], 1_234_567)
	d[9] = 6
	xfer := solana.NewInstruction(solana.TokenProgramID, solana.AccountMetaSlice{
		solana.Meta(src).WRITE(), solana.Meta(mint), solana.Meta(ata).WRITE(), solana.Meta(pk).SIGNER()}, d)
	spl := h.send(payer, []solana.Instruction{createATA, xfer})

	two := h.send(payer, []solana.Instruction{transferIx(pk, a, 5_000_000), transferIx(pk, b, 6_000_000)})

	poor := solana.NewWallet().PrivateKey
	h.sim.Airdrop(poor.PublicKey(), 1_000_000)
	failed := h.send(poor, []solana.Instruction{transferIx(poor.PublicKey(), a, 500_000_000)})

	noRef := h.send(payer, []solana.Instruction{transferIx(pk, shared, 7_000_000)})
	withRef := h.send(payer, []solana.Instruction{transferIx(pk, shared, 8_000_000, refC)})

	cs := h.waitTruth(true, a, b, shared)

	if len(bySig(cs, failed, events.StateConfirmed)) != 0 {
		t.Fatal("failed transaction published")
	}
	check := func(name string, sig solana.Signature, n int, f func(c events.Contribution) bool) {
		t.Helper()
		got := bySig(cs, sig, events.StateConfirmed)
		if len(got) != n {
			t.Fatalf("%s: %d contributions, want %d: %+v", name, len(got), n, got)
		}
		for _, c := range got {
			if !f(c) {
				t.Errorf("%s: unexpected %+v", name, c)
			}
		}
	}
	check("legacy", legacy, 1, func(c events.Contribution) bool {
		return c.CampaignID == "camp-a" && c.Reference == refA.String() && c.Amount == 1_000_000 && c.TransferIndex == 0 && c.Decimals == 9 && c.BlockTime > 0
	})
	check("v0", v0, 1, func(c events.Contribution) bool { return c.CampaignID == "camp-b" && c.Amount == 2_000_000 })
	check("memo first", memoFirst, 1, func(c events.Contribution) bool {
		return c.Memo == "thanks; after" && c.TransferIndex == 3 && c.CampaignID == "camp-a"
	})
	check("cpi", cpi, 1, func(c events.Contribution) bool {
		return c.TransferIndex == 1 && c.Amount == 4_000_000 && c.Payer == pk.String()
	})
	check("spl", spl, 1, func(c events.Contribution) bool {
		return c.Mint == mint.String() && c.TokenAccount == ata.String() && c.Escrow == a.String() && c.Amount == 1_234_567 && c.Decimals == 6 && c.CampaignID == "camp-a"
	})
	check("two", two, 2, func(c events.Contribution) bool {
		return (c.TransferIndex == 0 && c.Escrow == a.String()) || (c.TransferIndex == 1 && c.Escrow == b.String())
	})
	check("shared without reference", noRef, 1, func(c events.Contribution) bool { return c.CampaignID == "" && c.Reference == "" })
	check("shared with reference", withRef, 1, func(c events.Contribution) bool { return c.CampaignID == "camp-c" && c.Reference == refC.String() })

	// Request/reply: live balance and stats.
	bal, err := bus.Request[events.EscrowBalanceReply](h.ctx(5*time.Second), h.conn, events.SubjectIndexerBalance, events.EscrowBalanceRequest{Escrow: b.String()})
	if err != nil || bal.Lamports != h.sim.Balance(b) {
		t.Fatalf("balance = %+v, %v; chain %d", bal, err, h.sim.Balance(b))
	}
	_, err = bus.Request[events.EscrowBalanceReply](h.ctx(5*time.Second), h.conn, events.SubjectIndexerBalance, events.EscrowBalanceRequest{Escrow: "nope"})
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("bad escrow: %v", err)
	}
	stats, err := bus.Request[events.IndexerStatsReply](h.ctx(5*time.Second), h.conn, events.SubjectIndexerStats, events.IndexerStatsRequest{})
	if err != nil || stats.Escrows != 3 || stats.Published < 20 || stats.Parked != 0 {
		t.Fatalf("stats = %+v, %v", stats, err)
	}
}
