package soltest_test

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// Example sends a signed transfer through solana-go's client and reads it back at confirmed
// commitment.
func Example() {
	s, err := soltest.Start(soltest.Config{}, "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	cl := rpc.New(s.URL)

	payer := solana.NewWallet().PrivateKey
	dest := solana.NewWallet().PublicKey()
	s.Airdrop(payer.PublicKey(), 10_000_000)

	data := binary.LittleEndian.AppendUint64([]byte{2, 0, 0, 0}, 2_000_000) // System Transfer
	ix := solana.NewInstruction(solana.SystemProgramID, solana.AccountMetaSlice{
		solana.Meta(payer.PublicKey()).WRITE().SIGNER(), solana.Meta(dest).WRITE()}, data)
	tx, _ := solana.NewTransaction([]solana.Instruction{ix}, s.LatestBlockhash(), solana.TransactionPayer(payer.PublicKey()))
	tx.Sign(func(solana.PublicKey) *solana.PrivateKey { return &payer })
	sig, err := cl.SendTransaction(ctx, tx)
	if err != nil {
		panic(err)
	}
	s.Advance(1) // confirmed; Advance(32) more would finalize it

	bal, _ := cl.GetBalance(ctx, dest, rpc.CommitmentConfirmed)
	tr, _ := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed})
	fmt.Println(bal.Value, tr.Meta.Fee, len(s.Transfers(dest)))
	// Output: 2000000 5000 1
}
