package soltest_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/ws"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

func newKey(t testing.TB) solana.PrivateKey {
	t.Helper()
	k, err := solana.NewRandomPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func transferIx(from, to solana.PublicKey, lamports uint64) solana.Instruction {
	d := make([]byte, 12)
	d[0] = 2
	binary.LittleEndian.PutUint64(d[4:], lamports)
	return solana.NewInstruction(solana.SystemProgramID, solana.AccountMetaSlice{solana.Meta(from).WRITE().SIGNER(), solana.Meta(to).WRITE()}, d)
}

func memoIx(text string) solana.Instruction {
	return solana.NewInstruction(solana.MemoProgramID, solana.AccountMetaSlice{}, []byte(text))
}

func signTx(t testing.TB, ixs []solana.Instruction, bh solana.Hash, payer solana.PrivateKey, opts ...solana.TransactionOption) *solana.Transaction {
	t.Helper()
	opts = append(opts, solana.TransactionPayer(payer.PublicKey()))
	tx, err := solana.NewTransaction(ixs, bh, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Sign(func(pk solana.PublicKey) *solana.PrivateKey {
		if pk == payer.PublicKey() {
			return &payer
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return tx
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func clients(t testing.TB, s *soltest.Server) (*rpc.Client, *ws.Client) {
	t.Helper()
	cl := rpc.New(s.URL)
	w, err := ws.Connect(ctxT(t), s.WSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return cl, w
}

// waitSubs polls (with a deadline) until the server holds n live subscriptions; solana-go's
// subscribe methods return before the server has registered the subscription.
func waitSubs(t testing.TB, s *soltest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Subscriptions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d subscriptions, want %d", s.Subscriptions(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func ctxWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
