package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solanapay"
)

// TestCampaignLifecycle runs one campaign from creation through payments to funded and completed,
// and a second one sharing the escrow to expired, entirely through the public API and the chain:
// exact ledger and balances, attribution by reference, a failed payment never counted, the QR
// code's URI, and the WebSocket's ordered events.
func TestCampaignLifecycle(t *testing.T) {
	s := newStack(t, stackOptions{SlotInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Two campaigns share the default escrow (WALLET): A for the recorded USDC mint, funded by
	// its payments, and B for a mint made on the simulator, which ends soon without its goal.
	mintB := s.sim.CreateMint(solana.NewWallet().PublicKey(), 6, false)
	a := s.createCampaign(ctx, usdcMint, "0.5", time.Now().Add(30*time.Second), "")
	b := s.createCampaign(ctx, mintB.String(), "100", time.Now().Add(12*time.Second), "")
	if a.WalletAddress != s.wallet.String() || b.WalletAddress != s.wallet.String() {
		t.Fatalf("escrows %s and %s, want WALLET %s", a.WalletAddress, b.WalletAddress, s.wallet)
	}
	if a.Status != "active" || a.GoalAmount.String() != "0.5" || a.Reference == "" || a.Reference == b.Reference {
		t.Fatalf("campaign A as created: %+v (B reference %s)", a, b.Reference)
	}
	refA := solana.MustPublicKeyFromBase58(a.Reference)
	refB := solana.MustPublicKeyFromBase58(b.Reference)

	ws := s.dialWS("campaign:"+a.ID, "escrow:"+s.wallet.String())

	// The QR code of a 0.2 SOL contribution decodes to the Solana Pay URI the API states, and
	// that URI names the escrow, the exact amount and A's reference.
	uri := decodeQR(t, s, ctx, a.ID, "0.2")
	req, err := solanapay.Parse(uri)
	if err != nil {
		t.Fatalf("QR URI %q: %v", uri, err)
	}
	tr, ok := req.(*solanapay.TransferRequest)
	if !ok || tr.Recipient != s.wallet.String() || tr.Amount != "0.2" || len(tr.References) != 1 || tr.References[0] != a.Reference {
		t.Fatalf("QR URI %q parsed as %+v", uri, req)
	}
	qrLamports, err := money.ParseSOL(tr.Amount)
	if err != nil {
		t.Fatal(err)
	}

	// Real signed payments through the simulator's JSON-RPC.
	client := rpc.New(s.sim.URL)
	payers := fundedPayers(s.sim, 3, 10*solana.LAMPORTS_PER_SOL)
	poor := fundedPayers(s.sim, 1, 10_000_000)[0] // cannot cover 1 SOL: its payment fails
	send := func(payer solana.PrivateKey, lamports uint64, ref *solana.PublicKey) string {
		t.Helper()
		tx := payment(s.sim.LatestBlockhash(), payer, s.wallet, lamports, ref)
		sig, err := client.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{SkipPreflight: true})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return sig.String()
	}
	sigs := map[string]string{
		"qr":     send(payers[0], uint64(qrLamports), &refA), // the QR's payment
		"a2":     send(payers[1], 150_000_001, &refA),
		"b1":     send(payers[2], 100_000_000, &refB),
		"noref":  send(payers[0], 50_000_000, nil), // shared escrow, no reference: unattributed
		"failed": send(poor, solana.LAMPORTS_PER_SOL, &refA),
		"a3":     send(payers[1], 150_000_000, &refA),
	}
	const wantA = 200_000_000 + 150_000_001 + 150_000_000
	const wantB = 100_000_000

	l := s.waitLedger(s.wallet, 60*time.Second)
	if _, ok := l.Entries[sigs["failed"]+":0"]; ok || len(l.Entries) != 5 {
		t.Fatalf("ledger has %d entries (failed one present: %v)", len(l.Entries), ok)
	}
	if e := l.Entries[sigs["a2"]+":0"]; e.Amount.String() != "0.150000001" || e.From != payers[1].PublicKey().String() ||
		e.CampaignID == nil || *e.CampaignID != a.ID {
		t.Errorf("entry of a2: %+v", e)
	}
	if e := l.Entries[sigs["noref"]+":0"]; e.CampaignID != nil {
		t.Errorf("payment without reference into a shared escrow attributed to %s", *e.CampaignID)
	}
	if e := l.Entries[sigs["b1"]+":0"]; e.CampaignID == nil || *e.CampaignID != b.ID {
		t.Errorf("entry of b1: %+v", e)
	}

	// Campaign figures settle: exact lamports, contributors, and A funded once finalized.
	eventually(t, 60*time.Second, "campaign A funded with exact figures", func(ctx context.Context) error {
		c, err := s.campaignDetail(ctx, usdcMint)
		if err != nil {
			return err
		}
		want := strconv.Itoa(wantA)
		if c.CurrentBalanceLamports != want || c.SettledLamports != want || c.PendingLamports != "0" ||
			c.CurrentBalance.String() != "0.500000001" || c.ContributionCount != 3 || c.ContributorCount != 2 || c.Status != "funded" {
			return fmt.Errorf("campaign A: %+v", c)
		}
		return nil
	})
	cb, err := s.campaignDetail(ctx, mintB.String())
	if err != nil {
		t.Fatal(err)
	}
	if cb.CurrentBalanceLamports != strconv.Itoa(wantB) || cb.ContributionCount != 1 {
		t.Errorf("campaign B: %+v", cb)
	}

	// escrow-balance is the chain's balance, exactly, with the ledger's count.
	var bal struct {
		Success bool `json:"success"`
		Data    struct {
			Address          string      `json:"address"`
			BalanceSOL       json.Number `json:"balanceSOL"`
			BalanceLamports  string      `json:"balance_lamports"`
			TransactionCount int64       `json:"transactionCount"`
			Recent           []txView    `json:"recentTransactions"`
		} `json:"data"`
	}
	if err := s.getJSON(ctx, "/api/escrow-balance?wallet="+s.wallet.String(), &bal); err != nil {
		t.Fatal(err)
	}
	chainBal := s.sim.Balance(s.wallet)
	if !bal.Success || bal.Data.BalanceLamports != strconv.FormatUint(chainBal, 10) || chainBal != wantA+wantB+50_000_000 ||
		bal.Data.BalanceSOL.String() != "0.650000001" || bal.Data.TransactionCount != 5 || len(bal.Data.Recent) != 5 {
		t.Errorf("escrow-balance: %+v (chain %d)", bal, chainBal)
	}

	// The WebSocket delivered every contribution into the escrow once per state, confirmed
	// before finalized, in stream order, never the failed one; and A's progress snapshots in order.
	successful := []string{sigs["qr"], sigs["a2"], sigs["b1"], sigs["noref"], sigs["a3"]}
	ws.wait(t, 30*time.Second, "every contribution finalized on the escrow channel", func(fs []wsFrame) bool {
		seen := contributionStates(fs, "escrow:"+s.wallet.String())
		for _, sig := range successful {
			if len(seen[sig]) < 2 {
				return false
			}
		}
		return true
	})
	ws.wait(t, 30*time.Second, "A's final progress and funded status", func(fs []wsFrame) bool {
		var raised, funded bool
		for _, f := range fs {
			if f.Channel != "campaign:"+a.ID || f.Stream != "CAMPAIGNS" {
				continue
			}
			var ev campaignEvent
			_ = json.Unmarshal(f.Event, &ev)
			raised = raised || ev.Campaign.RaisedLamports == strconv.Itoa(wantA)
			funded = funded || (ev.Type == "status" && ev.Campaign.Status == "funded")
		}
		return raised && funded
	})
	frames := ws.frames()
	checkStreamOrder(t, frames)
	seen := contributionStates(frames, "escrow:"+s.wallet.String())
	if len(seen) != len(successful) {
		t.Errorf("escrow channel saw contributions %v, want exactly the %d successful ones", seen, len(successful))
	}
	for _, sig := range successful {
		if st := seen[sig]; len(st) != 2 || st[0] != "confirmed" || st[1] != "finalized" {
			t.Errorf("contribution %s: states %v, want [confirmed finalized]", sig, st)
		}
	}
	onA := contributionStates(frames, "campaign:"+a.ID)
	if len(onA) != 3 || onA[sigs["b1"]] != nil || onA[sigs["noref"]] != nil {
		t.Errorf("campaign A's channel saw contributions %v, want only A's three", onA)
	}
	checkProgress(t, frames, "campaign:"+a.ID)

	// End times: B expires without its goal, A completes with it; both are announced.
	eventually(t, 30*time.Second, "campaign B expired", func(ctx context.Context) error {
		c, err := s.campaignByID(ctx, b.ID)
		if err == nil && c.Status != "expired" {
			err = fmt.Errorf("status %s", c.Status)
		}
		return err
	})
	eventually(t, 45*time.Second, "campaign A completed", func(ctx context.Context) error {
		c, err := s.campaignByID(ctx, a.ID)
		if err == nil && c.Status != "completed" {
			err = fmt.Errorf("status %s", c.Status)
		}
		return err
	})
	ws.wait(t, 15*time.Second, "A's completed status event", func(fs []wsFrame) bool {
		for _, f := range fs {
			var ev campaignEvent
			if f.Channel == "campaign:"+a.ID && json.Unmarshal(f.Event, &ev) == nil && ev.Type == "status" && ev.Campaign.Status == "completed" {
				return true
			}
		}
		return false
	})
	s.checkAlive()
}

// decodeQR fetches the campaign's QR code, decodes the PNG and checks that it carries exactly
// the URI the response states.
func decodeQR(t *testing.T, s *stack, ctx context.Context, id, amount string) string {
	t.Helper()
	var qr struct {
		QRCode string `json:"qr_code"`
		URI    string `json:"solana_pay_uri"`
		Escrow string `json:"escrow_address"`
	}
	if err := s.getJSON(ctx, "/api/campaigns/"+id+"/qr?amount="+amount, &qr); err != nil {
		t.Fatal(err)
	}
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(qr.QRCode, prefix) {
		t.Fatalf("qr_code is not a PNG data URI: %.40q", qr.QRCode)
	}
	raw, err := base64.StdEncoding.DecodeString(qr.QRCode[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if res.GetText() != qr.URI || qr.Escrow != s.wallet.String() {
		t.Fatalf("QR decodes to %q, response says %q (escrow %s)", res.GetText(), qr.URI, qr.Escrow)
	}
	return qr.URI
}

type campaignEvent struct {
	Type     string `json:"type"`
	Campaign struct {
		ID             string `json:"id"`
		Status         string `json:"status"`
		RaisedLamports string `json:"raised_lamports"`
		Revision       int64  `json:"revision"`
	} `json:"campaign"`
}

type contributionEvent struct {
	State         string `json:"state"`
	Signature     string `json:"signature"`
	TransferIndex int    `json:"transfer_index"`
	Amount        string `json:"amount"`
}

// contributionStates lists, per signature, the states the channel delivered, in arrival order.
func contributionStates(fs []wsFrame, channel string) map[string][]string {
	out := map[string][]string{}
	for _, f := range fs {
		if f.Type != "event" || f.Channel != channel || f.Stream != "CONTRIBUTIONS" {
			continue
		}
		var ev contributionEvent
		if json.Unmarshal(f.Event, &ev) == nil {
			out[ev.Signature] = append(out[ev.Signature], ev.State)
		}
	}
	return out
}

// checkStreamOrder asserts that on every channel each stream's sequence numbers only increase.
func checkStreamOrder(t *testing.T, fs []wsFrame) {
	t.Helper()
	last := map[string]uint64{}
	for _, f := range fs {
		if f.Type != "event" {
			continue
		}
		k := f.Channel + "/" + f.Stream
		if f.Seq <= last[k] {
			t.Errorf("%s: seq %d after %d", k, f.Seq, last[k])
		}
		last[k] = f.Seq
	}
}

// checkProgress asserts that a campaign's snapshots arrive in revision order with raised amounts
// that never go down (no payment is ever dropped in these tests).
func checkProgress(t *testing.T, fs []wsFrame, channel string) {
	t.Helper()
	var rev int64
	var raised uint64
	for _, f := range fs {
		if f.Type != "event" || f.Channel != channel || f.Stream != "CAMPAIGNS" {
			continue
		}
		var ev campaignEvent
		if err := json.Unmarshal(f.Event, &ev); err != nil {
			t.Errorf("campaign event: %v", err)
			continue
		}
		r, _ := strconv.ParseUint(ev.Campaign.RaisedLamports, 10, 64)
		if ev.Campaign.Revision <= rev || r < raised {
			t.Errorf("%s: snapshot revision %d raised %d after revision %d raised %d", channel, ev.Campaign.Revision, r, rev, raised)
		}
		rev, raised = ev.Campaign.Revision, r
	}
}
