package soltest_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/mr-tron/base58"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

func TestCommitmentLevelsOnReads(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 50_000_000, Owner: solana.SystemProgramID})
	acctSub, err := w.AccountSubscribe(dest, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	slotSub, err := w.SlotSubscribe()
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 2)
	if _, err := s.Submit(signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 7_000_000)}, s.LatestBlockhash(), payer)); err != nil {
		t.Fatal(err)
	}
	bal := func(c rpc.CommitmentType) uint64 {
		b, err := cl.GetBalance(ctx, dest, c)
		if err != nil {
			t.Fatal(err)
		}
		return b.Value
	}
	if bal(rpc.CommitmentProcessed) != 7_000_000 || bal(rpc.CommitmentConfirmed) != 0 || bal(rpc.CommitmentFinalized) != 0 {
		t.Fatal("processed change visible at a higher commitment")
	}
	s.Advance(1)
	if bal(rpc.CommitmentConfirmed) != 7_000_000 || bal(rpc.CommitmentFinalized) != 0 {
		t.Fatal("confirmed state wrong")
	}
	an, err := acctSub.Recv(ctx)
	if err != nil || an.Value.Lamports != 7_000_000 || an.Value.Owner != solana.SystemProgramID {
		t.Fatalf("account notification %+v %v", an, err)
	}
	sn, err := slotSub.Recv(ctx)
	if err != nil || sn.Slot != 2 || sn.Parent != 1 {
		t.Fatalf("slot notification %+v %v", sn, err)
	}
	s.Advance(30) // slot 32: 31 slots after the transaction's slot 1
	if bal(rpc.CommitmentFinalized) != 0 {
		t.Fatal("finalized after 31 slots")
	}
	s.Advance(1)
	if bal(rpc.CommitmentFinalized) != 7_000_000 {
		t.Fatal("not finalized after 32 slots")
	}
	for c, want := range map[rpc.CommitmentType]uint64{rpc.CommitmentProcessed: 33, rpc.CommitmentConfirmed: 32, rpc.CommitmentFinalized: 1} {
		if got, err := cl.GetSlot(ctx, c); err != nil || got != want {
			t.Fatalf("getSlot(%s) = %d %v, want %d", c, got, err, want)
		}
	}
	if h, err := cl.GetBlockHeight(ctx, rpc.CommitmentProcessed); err != nil || h != 33 {
		t.Fatalf("block height %d %v", h, err)
	}
	if _, err := cl.GetTransaction(ctx, solana.Signature{1}, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentProcessed}); err == nil {
		t.Fatal("getTransaction at processed accepted")
	}
}

func TestBlockhashFeesAndRejections(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 50_000_000, Owner: solana.SystemProgramID})
	old := s.LatestBlockhash()
	if ok, err := cl.IsBlockhashValid(ctx, old, rpc.CommitmentProcessed); err != nil || !ok.Value {
		t.Fatalf("fresh blockhash invalid: %v", err)
	}
	s.Advance(151)
	if ok, _ := cl.IsBlockhashValid(ctx, old, rpc.CommitmentProcessed); ok.Value {
		t.Fatal("blockhash valid after 151 slots")
	}
	var re *jsonrpcError
	_, err := cl.SendTransaction(ctx, signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, old, payer))
	if !errors.As(err, &re) || re.Code != -32002 || re.Message != "Transaction simulation failed: Blockhash not found" {
		t.Fatalf("expired blockhash: %v", err)
	}
	// A tampered signature fails verification.
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer)
	tx.Signatures[0][3] ^= 1
	if _, err := cl.SendTransaction(ctx, tx); !errors.As(err, &re) || re.Code != -32003 {
		t.Fatalf("bad signature: %v", err)
	}
	// Priority fee: 5000 + ceil(300 * 3_000_000 / 1e6) = 5900 with a 300-CU limit... limit counts.
	limit := solana.NewInstruction(solana.ComputeBudget, nil, binary.LittleEndian.AppendUint32([]byte{2}, 300))
	price := solana.NewInstruction(solana.ComputeBudget, nil, binary.LittleEndian.AppendUint64([]byte{3}, 3_000_000))
	before := s.Balance(payer.PublicKey())
	sig, err := s.Submit(signTx(t, []solana.Instruction{limit, price, transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := s.TxErr(sig); e != nil {
		t.Fatal(e)
	}
	if got := before - s.Balance(payer.PublicKey()); got != 1_000_000+5900 {
		t.Fatalf("paid %d", got)
	}
	// Below the rent-exempt minimum to a new account fails as on Solana.
	tiny, err := s.Submit(signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), newKey(t).PublicKey(), 1000)}, s.LatestBlockhash(), payer))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := s.TxErr(tiny); e == nil {
		t.Fatal("rent-paying new account accepted")
	}
	if n, err := cl.GetMinimumBalanceForRentExemption(ctx, 165, ""); err != nil || n != 2039280 {
		t.Fatalf("rent for 165 bytes = %d %v", n, err)
	}
}

func TestTransferWithSeedAndHistoryPaging(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	base, dest := newKey(t), newKey(t).PublicKey()
	s.SetAccount(base.PublicKey(), soltest.Account{Lamports: 50_000_000, Owner: solana.SystemProgramID})
	derived, err := solana.CreateWithSeed(base.PublicKey(), "vault", solana.SystemProgramID)
	if err != nil {
		t.Fatal(err)
	}
	s.SetAccount(derived, soltest.Account{Lamports: 20_000_000, Owner: solana.SystemProgramID})
	data := binary.LittleEndian.AppendUint32(nil, 11)
	data = binary.LittleEndian.AppendUint64(data, 3_000_000)
	data = binary.LittleEndian.AppendUint64(data, 5)
	data = append(append(data, "vault"...), solana.SystemProgramID[:]...)
	ix := solana.NewInstruction(solana.SystemProgramID, solana.AccountMetaSlice{solana.Meta(derived).WRITE(), solana.Meta(base.PublicKey()).SIGNER(), solana.Meta(dest).WRITE()}, data)
	var sigs []solana.Signature
	for i := 0; i < 5; i++ {
		sig, err := s.Submit(signTx(t, []solana.Instruction{ix, memoIx(string(rune('a' + i)))}, s.LatestBlockhash(), base))
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := s.TxErr(sig); e != nil {
			t.Fatalf("transferWithSeed failed: %v", e)
		}
		sigs = append(sigs, sig)
		s.Advance(1)
	}
	if s.Balance(dest) != 15_000_000 || s.Balance(derived) != 5_000_000 {
		t.Fatalf("balances dest %d derived %d", s.Balance(dest), s.Balance(derived))
	}
	limit := 2
	page, err := cl.GetSignaturesForAddressWithOpts(ctx, dest, &rpc.GetSignaturesForAddressOpts{Limit: &limit, Commitment: rpc.CommitmentConfirmed})
	if err != nil || len(page) != 2 || page[0].Signature != sigs[4] || page[1].Signature != sigs[3] {
		t.Fatalf("first page %+v %v", page, err)
	}
	page, err = cl.GetSignaturesForAddressWithOpts(ctx, dest, &rpc.GetSignaturesForAddressOpts{Before: sigs[3], Until: sigs[0], Commitment: rpc.CommitmentConfirmed})
	if err != nil || len(page) != 2 || page[0].Signature != sigs[2] || page[1].Signature != sigs[1] || *page[0].Memo != "[1] c" {
		t.Fatalf("before/until page %+v %v", page, err)
	}
	tt := s.Transfers(dest)
	if len(tt) != 5 || tt[0].From != derived || tt[0].Amount != 3_000_000 {
		t.Fatalf("transfers %+v", tt)
	}
}

func TestTokenReadsAndProgramAccounts(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	mint := s.CreateMint(newKey(t).PublicKey(), 2, false)
	a, b := newKey(t).PublicKey(), newKey(t).PublicKey()
	ataA := s.MintTo(mint, a, 12_345)
	ataB := s.MintTo(mint, b, 99)
	sup, err := cl.GetTokenSupply(ctx, mint, rpc.CommitmentFinalized)
	if err != nil || sup.Value.Amount != "12444" || sup.Value.UiAmountString != "124.44" || sup.Value.Decimals != 2 {
		t.Fatalf("supply %+v %v", sup, err)
	}
	largest, err := cl.GetTokenLargestAccounts(ctx, mint, rpc.CommitmentFinalized)
	if err != nil || len(largest.Value) != 2 || largest.Value[0].Address != ataA || largest.Value[1].Address != ataB {
		t.Fatalf("largest %+v %v", largest, err)
	}
	pas, err := cl.GetProgramAccountsWithOpts(ctx, solana.TokenProgramID, &rpc.GetProgramAccountsOpts{Filters: []rpc.RPCFilter{
		{DataSize: 165}, {Memcmp: &rpc.RPCFilterMemcmp{Offset: 32, Bytes: solana.Base58(b[:])}}}})
	if err != nil || len(pas) != 1 || pas[0].Pubkey != ataB {
		t.Fatalf("program accounts %+v %v", pas, err)
	}
	multi, err := cl.GetMultipleAccounts(ctx, ataA, newKey(t).PublicKey(), mint)
	if err != nil || len(multi.Value) != 3 || multi.Value[0] == nil || multi.Value[1] != nil || multi.Value[2] == nil {
		t.Fatalf("multiple accounts %+v %v", multi, err)
	}
	info, err := cl.GetAccountInfoWithOpts(ctx, ataA, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingJSONParsed})
	if err != nil {
		t.Fatal(err)
	}
	if raw := info.Value.Data.GetRawJSON(); len(raw) == 0 || !contains(string(raw), `"amount":"12345"`) || !contains(string(raw), `"type":"account"`) {
		t.Fatalf("jsonParsed token account %s", raw)
	}
	if bin := info.Value.Data.GetBinary(); bin != nil {
		t.Fatal("jsonParsed token account returned binary data")
	}
	raw, err := cl.GetAccountInfo(ctx, ataA)
	if err != nil || len(raw.Value.Data.GetBinary()) != 165 || binary.LittleEndian.Uint64(raw.Value.Data.GetBinary()[64:]) != 12_345 {
		t.Fatalf("base64 token account %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSendTransactionBase58(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 50_000_000, Owner: solana.SystemProgramID})
	raw, _ := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer).MarshalBinary()
	res, e := rawCall(t, s.URL, "sendTransaction", base58.Encode(raw)) // base58 is the default encoding
	if e != nil {
		t.Fatalf("error %s", e)
	}
	var sig string
	if err := json.Unmarshal(res, &sig); err != nil || s.Balance(dest) != 1_000_000 {
		t.Fatalf("result %s balance %d", res, s.Balance(dest))
	}
	if _, e := rawCall(t, s.URL, "sendTransaction", "0OIl", map[string]any{"encoding": "base58"}); e == nil {
		t.Fatal("invalid base58 accepted")
	}
}

func TestSimulateTransactionChangesNothing(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 50_000_000, Owner: solana.SystemProgramID})
	ok, err := cl.SimulateTransaction(ctx, signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer))
	if err != nil || ok.Value.Err != nil || len(ok.Value.Logs) != 2 {
		t.Fatalf("simulate ok: %+v %v", ok, err)
	}
	bad, err := cl.SimulateTransaction(ctx, signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 90_000_000)}, s.LatestBlockhash(), payer))
	if err != nil {
		t.Fatal(err)
	}
	ej, _ := json.Marshal(bad.Value.Err)
	if string(ej) != `{"InstructionError":[0,{"Custom":1}]}` {
		t.Fatalf("simulate failure err %s", ej)
	}
	if s.Balance(payer.PublicKey()) != 50_000_000 || s.Balance(dest) != 0 {
		t.Fatal("simulation changed state")
	}
	limit := solana.NewInstruction(solana.ComputeBudget, nil, binary.LittleEndian.AppendUint32([]byte{2}, 10_000))
	price := solana.NewInstruction(solana.ComputeBudget, nil, binary.LittleEndian.AppendUint64([]byte{3}, 250))
	msgTx := signTx(t, []solana.Instruction{limit, price, transferIx(payer.PublicKey(), dest, 1)}, s.LatestBlockhash(), payer)
	fee, err := cl.GetFeeForMessage(ctx, msgTx.Message.ToBase64(), rpc.CommitmentProcessed)
	if err != nil || fee.Value == nil || *fee.Value != 5003 { // 5000 + ceil(10000*250/1e6)
		t.Fatalf("getFeeForMessage %+v %v", fee, err)
	}
}
