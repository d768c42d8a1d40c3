package soltest_test

import (
	"encoding/json"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

func TestLegacyTransferEndToEnd(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 10_000_000)

	logsAll, err := w.LogsSubscribe("all", rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	logsDest, err := w.LogsSubscribeMentions(dest, rpc.CommitmentFinalized)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 2)

	bh, err := cl.GetLatestBlockhash(ctx, rpc.CommitmentProcessed)
	if err != nil {
		t.Fatal(err)
	}
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 2_000_000), memoIx("order-42")}, bh.Value.Blockhash, payer)
	sigSub, err := w.SignatureSubscribe(tx.Signatures[0], rpc.CommitmentFinalized)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 3)
	sig, err := cl.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{SkipPreflight: false})
	if err != nil {
		t.Fatal(err)
	}
	if sig != tx.Signatures[0] {
		t.Fatalf("signature %s, want %s", sig, tx.Signatures[0])
	}
	s.Advance(1)
	got, err := logsAll.Recv(ctx)
	for err == nil && got.Value.Signature != sig { // the airdrop comes first
		got, err = logsAll.Recv(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.Value.Signature != sig || got.Value.Err != nil || len(got.Value.Logs) == 0 {
		t.Fatalf("logs notification %+v", got)
	}
	// Not finalized yet: a finalized read does not see the transaction.
	if tr, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentFinalized}); err == nil || tr != nil {
		t.Fatalf("finalized read saw an unfinalized tx: %v %v", tr, err)
	}
	s.Advance(32)
	fin, err := logsDest.Recv(ctx)
	if err != nil || fin.Value.Signature != sig {
		t.Fatalf("finalized mentions notification: %+v %v", fin, err)
	}
	sn, err := sigSub.Recv(ctx)
	if err != nil || sn.Value.Err != nil {
		t.Fatalf("signature notification: %+v %v", sn, err)
	}

	// Exact balances: fee 5000 for one signature.
	bal, err := cl.GetBalance(ctx, dest, rpc.CommitmentFinalized)
	if err != nil || bal.Value != 2_000_000 {
		t.Fatalf("dest balance %v %v", bal, err)
	}
	pb, _ := cl.GetBalance(ctx, payer.PublicKey(), rpc.CommitmentFinalized)
	if pb.Value != 10_000_000-2_000_000-5000 {
		t.Fatalf("payer balance %d", pb.Value)
	}

	// json (default) encoding.
	tr, err := cl.GetTransaction(ctx, sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Meta.Fee != 5000 || tr.Meta.PreBalances[1] != 0 || tr.Meta.PostBalances[1] != 2_000_000 ||
		tr.Meta.PreBalances[0]-tr.Meta.PostBalances[0] != 2_005_000 {
		t.Fatalf("meta %+v", tr.Meta)
	}
	parsedTx, err := tr.Transaction.GetTransaction()
	if err != nil || parsedTx.Signatures[0] != sig || len(parsedTx.Message.Instructions) != 2 {
		t.Fatalf("json transaction: %v %v", parsedTx, err)
	}
	// base64 encoding round-trips the exact wire bytes.
	tr64, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Encoding: solana.EncodingBase64})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := tr64.Transaction.GetTransaction()
	if err != nil || dec.Signatures[0] != sig {
		t.Fatalf("base64 transaction: %v", err)
	}
	tr58, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Encoding: solana.EncodingBase58})
	if err != nil {
		t.Fatal(err)
	}
	if dec58, err := tr58.Transaction.GetTransaction(); err != nil || dec58.Signatures[0] != sig || tr58.Meta.Fee != 5000 {
		t.Fatalf("base58 transaction: %v", err)
	}
	// A signature subscription for an already finalized transaction is answered at once.
	late, err := w.SignatureSubscribe(sig, rpc.CommitmentFinalized)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := late.Recv(ctx); err != nil || n.Value.Err != nil || n.Context.Slot != tr.Slot {
		t.Fatalf("late signature notification %+v %v", n, err)
	}
	// jsonParsed.
	ptx, err := cl.GetParsedTransaction(ctx, sig, &rpc.GetParsedTransactionOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ins := ptx.Transaction.Message.Instructions
	if len(ins) != 2 || ins[0].Program != "system" || ins[1].Program != "spl-memo" {
		t.Fatalf("parsed instructions %+v", ins)
	}
	var info struct {
		Info struct {
			Lamports    uint64 `json:"lamports"`
			Destination string `json:"destination"`
		} `json:"info"`
		Type string `json:"type"`
	}
	raw, _ := json.Marshal(ins[0].Parsed)
	if err := json.Unmarshal(raw, &info); err != nil || info.Type != "transfer" || info.Info.Lamports != 2_000_000 || info.Info.Destination != dest.String() {
		t.Fatalf("parsed transfer %s", raw)
	}
	// getSignaturesForAddress carries the RPC memo form.
	sigs, err := cl.GetSignaturesForAddress(ctx, dest)
	if err != nil || len(sigs) != 1 || sigs[0].Signature != sig || sigs[0].Memo == nil || *sigs[0].Memo != "[8] order-42" ||
		sigs[0].ConfirmationStatus != rpc.ConfirmationStatusFinalized {
		t.Fatalf("signatures %+v %v", sigs, err)
	}
	tt := s.Transfers(dest)
	if len(tt) != 1 || tt[0].Amount != 2_000_000 || tt[0].From != payer.PublicKey() || !tt[0].Finalized {
		t.Fatalf("transfers %+v", tt)
	}
}

func TestFailingTransferRecordsErrorAndMovesNoLamports(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 1_000_000)
	logs, err := w.LogsSubscribeMentions(dest, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 5_000_000)}, s.LatestBlockhash(), payer)

	// With preflight the RPC refuses it with -32002 and nothing happens.
	_, err = cl.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{})
	var rerr *jsonrpcError
	if !asRPCError(err, &rerr) || rerr.Code != -32002 {
		t.Fatalf("preflight error = %v", err)
	}
	if s.Balance(payer.PublicKey()) != 1_000_000 {
		t.Fatal("preflight failure charged a fee")
	}
	// Without preflight it lands as failed and pays only the fee.
	sig, err := cl.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{SkipPreflight: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(1)
	ln, err := logs.Recv(ctx)
	if err != nil || ln.Value.Signature != sig {
		t.Fatalf("logs notification %+v %v", ln, err)
	}
	if lj, _ := json.Marshal(ln.Value.Err); string(lj) != `{"InstructionError":[0,{"Custom":1}]}` {
		t.Fatalf("logs notification err %s", lj)
	}
	v0 := uint64(0)
	tr, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v0})
	if err != nil {
		t.Fatal(err)
	}
	errJSON, _ := json.Marshal(tr.Meta.Err)
	if string(errJSON) != `{"InstructionError":[0,{"Custom":1}]}` {
		t.Fatalf("meta.err = %s", errJSON)
	}
	if tr.Meta.PostBalances[0] != 1_000_000-5000 || tr.Meta.PostBalances[1] != 0 {
		t.Fatalf("balances %v → %v", tr.Meta.PreBalances, tr.Meta.PostBalances)
	}
	if s.Balance(dest) != 0 || s.Balance(payer.PublicKey()) != 995_000 {
		t.Fatal("failed transfer moved lamports")
	}
	if len(s.Transfers(dest)) != 0 {
		t.Fatal("failed transfer listed in Transfers")
	}
	st, err := cl.GetSignatureStatuses(ctx, true, sig)
	if err != nil || st.Value[0] == nil || st.Value[0].Err == nil {
		t.Fatalf("status %+v %v", st, err)
	}
}
