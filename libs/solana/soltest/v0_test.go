package soltest_test

import (
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

func TestV0TransferWithLookupTable(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 5_000_000)
	table := s.CreateLookupTable([]solana.PublicKey{solana.SystemProgramID, dest})

	logs, err := w.LogsSubscribeMentions(dest, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer,
		solana.TransactionAddressTables(map[solana.PublicKey]solana.PublicKeySlice{table: {solana.SystemProgramID, dest}}))
	if !tx.Message.IsVersioned() || len(tx.Message.AddressTableLookups) != 1 {
		t.Fatalf("not a v0 transaction with a lookup: %v", tx.Message.AddressTableLookups)
	}
	sigSub, err := w.SignatureSubscribe(tx.Signatures[0], rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 2)
	raw, _ := tx.MarshalBinary()
	sig, err := cl.SendRawTransactionWithOpts(ctx, raw, rpc.TransactionOpts{Encoding: solana.EncodingBase64})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(1)
	ln, err := logs.Recv(ctx)
	if err != nil || ln.Value.Signature != sig {
		t.Fatalf("mentions via lookup table: %+v %v", ln, err)
	}
	if sn, err := sigSub.Recv(ctx); err != nil || sn.Value.Err != nil {
		t.Fatalf("signature notification %+v %v", sn, err)
	}

	// Without maxSupportedTransactionVersion: -32015, exactly as Solana words it.
	_, err = cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed})
	var rerr *jsonrpcError
	if !asRPCError(err, &rerr) || rerr.Code != -32015 ||
		rerr.Message != `Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0` {
		t.Fatalf("want -32015, got %v", err)
	}
	v0 := uint64(0)
	tr, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v0})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != 0 || len(tr.Meta.LoadedAddresses.Writable) != 1 || tr.Meta.LoadedAddresses.Writable[0] != dest {
		t.Fatalf("loadedAddresses %+v version %v", tr.Meta.LoadedAddresses, tr.Version)
	}
	// Balances are indexed over static keys then loaded keys: dest is last.
	n := len(tr.Meta.PostBalances)
	if tr.Meta.PostBalances[n-1] != 1_000_000 || tr.Meta.PreBalances[0]-tr.Meta.PostBalances[0] != 1_005_000 {
		t.Fatalf("balances %v → %v", tr.Meta.PreBalances, tr.Meta.PostBalances)
	}
	for _, enc := range []solana.EncodingType{solana.EncodingBase64, solana.EncodingBase58} {
		tb, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Encoding: enc, Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v0})
		if err != nil {
			t.Fatal(enc, err)
		}
		d, err := tb.Transaction.GetTransaction()
		if err != nil || d.Signatures[0] != sig || !d.Message.IsVersioned() {
			t.Fatalf("%s: %v", enc, err)
		}
	}
	pt, err := cl.GetParsedTransaction(ctx, sig, &rpc.GetParsedTransactionOpts{Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v0})
	if err != nil {
		t.Fatal(err)
	}
	keys := pt.Transaction.Message.AccountKeys
	last := keys[len(keys)-1]
	if last.PublicKey != dest || !last.Writable {
		t.Fatalf("jsonParsed account keys %+v", keys)
	}
}

func TestSPLTransferCreateATAAndRelayCPI(t *testing.T) {
	for _, t22 := range []bool{false, true} {
		s := soltest.NewServer(t, soltest.Config{})
		cl := rpc.New(s.URL)
		ctx := ctxT(t)
		payer, escrow := newKey(t), newKey(t).PublicKey()
		s.Airdrop(payer.PublicKey(), 100_000_000)
		prog := solana.TokenProgramID
		if t22 {
			prog = solana.Token2022ProgramID
		}
		mint := s.CreateMint(newKey(t).PublicKey(), 6, t22)
		src := s.MintTo(mint, payer.PublicKey(), 5_000_000)
		dstATA := soltest.AssociatedTokenAddress(escrow, mint, prog)

		createATA := solana.NewInstruction(solana.SPLAssociatedTokenAccountProgramID, solana.AccountMetaSlice{
			solana.Meta(payer.PublicKey()).WRITE().SIGNER(), solana.Meta(dstATA).WRITE(), solana.Meta(escrow), solana.Meta(mint),
			solana.Meta(solana.SystemProgramID), solana.Meta(prog)}, []byte{1})
		d := make([]byte, 10)
		d[0] = 12
		binary.LittleEndian.PutUint64(d[1:], 1_234_567)
		d[9] = 6
		xfer := solana.NewInstruction(prog, solana.AccountMetaSlice{solana.Meta(src).WRITE(), solana.Meta(mint), solana.Meta(dstATA).WRITE(), solana.Meta(payer.PublicKey()).SIGNER()}, d)
		rd := make([]byte, 9)
		rd[0] = 0
		binary.LittleEndian.PutUint64(rd[1:], 3_000_000)
		relay := solana.NewInstruction(soltest.RelayProgramID, solana.AccountMetaSlice{solana.Meta(payer.PublicKey()).WRITE().SIGNER(), solana.Meta(escrow).WRITE(), solana.Meta(solana.SystemProgramID)}, rd)
		tx := signTx(t, []solana.Instruction{createATA, xfer, relay}, s.LatestBlockhash(), payer)
		sig, err := cl.SendTransaction(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		s.Advance(1)
		v0 := uint64(0)
		tr, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v0})
		if err != nil || tr.Meta.Err != nil {
			t.Fatalf("tx: %v %v %v", err, tr.Meta.Err, tr.Meta.LogMessages)
		}
		if len(tr.Meta.PostTokenBalances) != 2 || len(tr.Meta.PreTokenBalances) != 1 {
			t.Fatalf("token balances pre %+v post %+v", tr.Meta.PreTokenBalances, tr.Meta.PostTokenBalances)
		}
		var got uint64
		for _, b := range tr.Meta.PostTokenBalances {
			if *b.Owner == escrow {
				json.Unmarshal([]byte(`"`+b.UiTokenAmount.Amount+`"`), new(string))
				got = mustU64(t, b.UiTokenAmount.Amount)
			}
		}
		if got != 1_234_567 {
			t.Fatalf("escrow token balance %d", got)
		}
		// The relay's transfer exists only as an inner instruction (index 2).
		var relayGroup bool
		for _, g := range tr.Meta.InnerInstructions {
			if g.Index == 2 && len(g.Instructions) == 1 {
				relayGroup = true
			}
		}
		if !relayGroup || s.Balance(escrow) != 3_000_000 {
			t.Fatalf("relay CPI: inner %+v balance %d", tr.Meta.InnerInstructions, s.Balance(escrow))
		}
		tb, err := cl.GetTokenAccountBalance(ctx, dstATA, rpc.CommitmentConfirmed)
		if err != nil || tb.Value.Amount != "1234567" || tb.Value.UiAmountString != "1.234567" {
			t.Fatalf("getTokenAccountBalance %+v %v", tb, err)
		}
		byOwner, err := cl.GetTokenAccountsByOwner(ctx, escrow, &rpc.GetTokenAccountsConfig{Mint: &mint}, &rpc.GetTokenAccountsOpts{Commitment: rpc.CommitmentConfirmed, Encoding: solana.EncodingJSONParsed})
		if err != nil || len(byOwner.Value) != 1 || byOwner.Value[0].Pubkey != dstATA {
			t.Fatalf("getTokenAccountsByOwner %+v %v", byOwner, err)
		}
		tt := s.Transfers(escrow)
		if len(tt) != 2 {
			t.Fatalf("transfers %+v", tt)
		}
		for _, x := range tt {
			if x.Mint == mint && (x.Amount != 1_234_567 || x.From != payer.PublicKey()) {
				t.Fatalf("spl transfer %+v", x)
			}
			if x.Mint.IsZero() && (x.Amount != 3_000_000 || !x.Inner) {
				t.Fatalf("cpi transfer %+v", x)
			}
		}
		// The relay's SPL path: an inner token Transfer into the escrow's ATA.
		td := binary.LittleEndian.AppendUint64([]byte{1}, 1000)
		trelay := solana.NewInstruction(soltest.RelayProgramID, solana.AccountMetaSlice{solana.Meta(src).WRITE(), solana.Meta(dstATA).WRITE(), solana.Meta(payer.PublicKey()).SIGNER(), solana.Meta(prog)}, td)
		rsig, err := s.Submit(signTx(t, []solana.Instruction{trelay}, s.LatestBlockhash(), payer))
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := s.TxErr(rsig); e != nil || s.TokenBalance(dstATA) != 1_235_567 {
			t.Fatalf("token relay: %v balance %d", e, s.TokenBalance(dstATA))
		}
		if tt := s.Transfers(escrow); len(tt) != 3 || !tt[2].Inner || tt[2].Mint != mint || tt[2].Amount != 1000 {
			t.Fatalf("token relay transfer %+v", tt)
		}
		// Insufficient token funds fail with Custom(1) and move nothing.
		binary.LittleEndian.PutUint64(d[1:], 999_999_999)
		bad := solana.NewInstruction(prog, solana.AccountMetaSlice{solana.Meta(src).WRITE(), solana.Meta(mint), solana.Meta(dstATA).WRITE(), solana.Meta(payer.PublicKey()).SIGNER()}, d)
		btx := signTx(t, []solana.Instruction{bad}, s.LatestBlockhash(), payer)
		bsig, err := s.Submit(btx)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := s.TxErr(bsig)
		ej, _ := json.Marshal(e)
		if string(ej) != `{"InstructionError":[0,{"Custom":1}]}` || s.TokenBalance(dstATA) != 1_235_567 {
			t.Fatalf("bad token transfer err %s balance %d", ej, s.TokenBalance(dstATA))
		}
	}
}

func mustU64(t *testing.T, s string) uint64 {
	var v uint64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
