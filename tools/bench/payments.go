package main

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// payment is one pre-signed Solana Pay transfer into the escrow: a System transfer with the
// campaign's reference as an extra read-only key, as a wallet builds it from the campaign's
// transfer-request link. Amounts differ (base + i) so every transaction is unique.
type payment struct {
	tx     *solana.Transaction
	sig    solana.Signature
	amount uint64
}

// payers are funded wallets; spreading payments over many keeps any one payer's account from
// being a hot spot.
func fundPayers(sim *soltest.Server, n int) []solana.PrivateKey {
	keys := make([]solana.PrivateKey, n)
	for i := range keys {
		keys[i] = solana.NewWallet().PrivateKey
		sim.Airdrop(keys[i].PublicKey(), 1_000*solana.LAMPORTS_PER_SOL)
	}
	return keys
}

// signPayments builds and signs n payments against the chain's latest blockhash (valid for 150
// slots), on every core.
func signPayments(sim *soltest.Server, payers []solana.PrivateKey, escrow, reference solana.PublicKey, n int, base uint64) ([]payment, error) {
	bh := sim.LatestBlockhash()
	out := make([]payment, n)
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				payer := payers[i%len(payers)]
				amount := base + uint64(i)
				ix := system.NewTransferInstruction(amount, payer.PublicKey(), escrow).Build()
				data, err := ix.Data()
				if err != nil {
					errs <- err
					return
				}
				accounts := append(ix.Accounts(), solana.Meta(reference))
				tx, err := solana.NewTransaction([]solana.Instruction{solana.NewInstruction(ix.ProgramID(), accounts, data)}, bh, solana.TransactionPayer(payer.PublicKey()))
				if err != nil {
					errs <- err
					return
				}
				sigs, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
					if k.Equals(payer.PublicKey()) {
						return &payer
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				out[i] = payment{tx: tx, sig: sigs[0], amount: amount}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("sign payments: %w", err)
	default:
	}
	return out, nil
}

func total(ps []payment) uint64 {
	var t uint64
	for _, p := range ps {
		t += p.amount
	}
	return t
}

// submit lands one payment in the current slot through the simulator's in-process Submit (the
// same path as sendTransaction with skipPreflight). Whether it succeeded is checked once at the
// end against the chain's own record (verifyChain), to keep the hot path the chain's.
func submit(sim *soltest.Server, p payment) error {
	if _, err := sim.Submit(p.tx); err != nil {
		return fmt.Errorf("submit %s: %w", p.sig, err)
	}
	return nil
}

// verifyChain checks that the chain holds exactly the payments as successful transfers.
func verifyChain(sim *soltest.Server, escrow solana.PublicKey, ps []payment) error {
	tr := sim.Transfers(escrow)
	var sum uint64
	for _, t := range tr {
		sum += t.Amount
	}
	if len(tr) != len(ps) || sum != total(ps) {
		return fmt.Errorf("chain holds %d transfers (%d lamports) into the escrow, want %d (%d)", len(tr), sum, len(ps), total(ps))
	}
	return nil
}
