package txparse_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/solana/txparse"
)

// result returns the getTransaction result of a fixture, unwrapping a JSON-RPC envelope.
func result(t testing.TB, name string) []byte {
	t.Helper()
	b := fixtures.Solana(name)
	var env struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if env.JSONRPC != "" {
		return env.Result
	}
	return b
}

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

const (
	web3x = "web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2"
	buffa = "buffaAJKmNLao65TDTUGq8oB9HgxkfPLGqPMFQapotJ"
	usdc  = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
	g2341 = "G2341KGbNxuSAfCfqNuPhfLQtPB94hPfgyVPC89Faor4"
)

type golden struct {
	watch     txparse.Watch
	sig       string
	slot      uint64
	blockTime int64
	version   string
	failed    bool
	memo      string
	transfers []txparse.Transfer
	refs      []string
	// consistent lists watched escrows whose balance delta must match the parsed SOL flows.
	consistent []string
}

// The expected values come from PROVENANCE.md, which computed them from the bytes.
var goldens = map[string]golden{
	"gettransaction-sol-transfer-legacy-jsonparsed-2024.json": {
		watch: txparse.Watch{Escrows: set(buffa)},
		sig:   "3Vfp5qPhF14bNb2jLtTccabCDbHUmxqtXerUvPEjKb6RpJ8jU3H9M9JgcUbDPtgesB3WFP9M8VZTzECgBavnjxaC",
		slot:  300547625, blockTime: 1731232782, version: "legacy",
		transfers: []txparse.Transfer{
			{Index: 0, Escrow: buffa, Payer: web3x, Source: web3x, Amount: 1000, Decimals: 9, StackHeight: 1},
		},
		consistent: []string{buffa},
	},
	"gettransaction-v0-sol-transfer-via-lookuptable-jsonparsed.json": {
		// The recipient is only in the lookup table; as a reference it must still be found.
		watch: txparse.Watch{Escrows: set(buffa), References: set(buffa)},
		sig:   "4LwygRtiF9ZCrbGKoh8MEzmxowaRHPaDc1nsinkv72uXU2cUCuZ8YskBBgsvbBEMZ5Pqpf6C6WcXtCkqAuLZand1",
		slot:  301701368, blockTime: 1731742689, version: "0",
		transfers: []txparse.Transfer{
			{Index: 0, Escrow: buffa, Payer: web3x, Source: web3x, Amount: 1000, Decimals: 9, StackHeight: 1},
		},
		refs:       []string{buffa},
		consistent: []string{buffa},
	},
	"gettransaction-v0-sol-transfer-memo-computebudget-json.json": {
		watch: txparse.Watch{Escrows: set("AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8")},
		sig:   "2E9Ddokz6HZkn457gAhd7uaUYnWtgUuRQaGGKFb2xDtYY3Mxn81DaXPMKfLLmcWMUAEQwZG1WF6mfcXMKr2yBqZU",
		slot:  376410054, blockTime: 1761675828, version: "0", memo: "CFP #4115716",
		transfers: []txparse.Transfer{{
			Index: 0, Escrow: "AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8",
			Payer: "F5YtngCQs6QCUdy2vqT6hMtFyNkLpkJSTQF2WZKV1y8e", Source: "F5YtngCQs6QCUdy2vqT6hMtFyNkLpkJSTQF2WZKV1y8e",
			Amount: 42_000_000, Decimals: 9, StackHeight: 1,
		}},
		consistent: []string{"AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8"},
	},
	"gettransaction-usdc-transferchecked-create-ata-memo-jsonparsed.json": {
		watch: txparse.Watch{Escrows: set("3i476kTBBTy7pBGx4CXwJpJ6phuwLQgcwLTdHhU3c7ui")},
		sig:   "2S2rTZjaqzxYRw9mnqzwtyqitKtSsnE8GVqLn1KrD5R2YpXZnU4GdjppsgfSAbrzJfaqadfi8CtrqEBy588WVQ3E",
		slot:  184930610, blockTime: 1679899845, version: "legacy",
		memo: "transfer", // the parsed Memo instruction, not the RPC's "[8] transfer"
		transfers: []txparse.Transfer{{
			// Flattened: create-ATA (0) + its 4 inner instructions (1–4), then transferChecked (5).
			Index: 5, Escrow: "3i476kTBBTy7pBGx4CXwJpJ6phuwLQgcwLTdHhU3c7ui",
			Payer: "8fusVwhgo4oS1fGpZKeRaXrJXQk9auKnAgcj9A97wR3t", Source: "9rB2Poc468mPpY9WMUmaqEPsvJah8SpPB8bKqAjjXp5H",
			Amount: 1000, Mint: usdc, Decimals: 6, TokenAccount: "H51DXRt3ubThhdhNeDMScfkbC5X4AWzYfHaZS3JKEfPh", StackHeight: 1,
		}},
	},
	"gettransaction-failed-swap-slippage-jsonparsed.json": {
		// Watch every account it touches: a failed transaction credits nothing.
		watch: txparse.Watch{Escrows: set("G8PrkEwmVx3kt3rXBin5o1bdDC1cvz7oBnXbHksNg7R4", "5tDsFnGDNvosPizMhtmGkhhjFheiCmUBM7rLZdcNkz2b",
			"2xKofw1wK2CVMVUssGTv3G5pVrUALAR9r8J9zZnwtrUG", "CzcUkjjimSCHSCnCapqsbrkpvKzVbgWfDHchBYmzG8sB", "GbjDdmd9vXByvWgpQVz1T797KR97vh4ve5SnfM7QmrZ",
			"xhFVzB2pXQGUtR5JEiyrXWQ7xBCjUS4wjt5huRkFYkG", "BK88xwbcYRTxpez67p7R6uDRk4ecHtZLHvBnNXNYwBLs")},
		sig:  "376DxeSPgG1ynjpGFLLx5xFTTkVmQ54MmUcTuopKyEQXWQCu9PRzUZ2EijYi4YZq4eAPpRDdoQHzy59bfuNndLX4",
		slot: 83929593, blockTime: 1624358424, version: "legacy",
		failed: true,
		// Only the fee moved: the fee payer's delta is exactly −fee.
		consistent: []string{"G8PrkEwmVx3kt3rXBin5o1bdDC1cvz7oBnXbHksNg7R4", "5tDsFnGDNvosPizMhtmGkhhjFheiCmUBM7rLZdcNkz2b"},
	},
	"gettransaction-v0-swap-with-cpi-sol-transfer-json.json": {
		watch: txparse.Watch{
			Escrows:    set("8ckLnP69xhSeoNbZCUrbJZ8aYSR86QNjRVZdpHmFfigk", "AEUZ5EPwSAXrWKi2w2xQ79hhThAbTWFEdx5gq851ACxi", "CyL8mfycXYbWHVoTTsfvnAfF2MvfcqeQAmmsqNQLxF7g"),
			References: set("pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"), // a loaded readonly key
		},
		sig:  "2zNeSn8cJpTAW51NR8ZUHEXc5wVwerumVEk4iJFyAYdTHMjy49wumkZvWLkaeB8CD5YmjuJ3AjcbrBYBzAVKdEdD",
		slot: 376396640, blockTime: 1761670504, version: "0",
		transfers: []txparse.Transfer{
			{Index: 4, Escrow: "AEUZ5EPwSAXrWKi2w2xQ79hhThAbTWFEdx5gq851ACxi", Payer: g2341, Source: g2341, Amount: 3_651_694, Decimals: 9, StackHeight: 1},
			// The CPI transfer: top-level 0–6, inner of 6 at 7–10, top-level 7 at 11, its inner at 12, 13.
			{Index: 13, Escrow: "8ckLnP69xhSeoNbZCUrbJZ8aYSR86QNjRVZdpHmFfigk", Payer: g2341, Source: g2341, Amount: 31_305, Decimals: 9, StackHeight: 2},
			{Index: 23, Escrow: "CyL8mfycXYbWHVoTTsfvnAfF2MvfcqeQAmmsqNQLxF7g", Payer: g2341, Source: g2341, Amount: 200_000, Decimals: 9, StackHeight: 1},
		},
		refs:       []string{"pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"},
		consistent: []string{"8ckLnP69xhSeoNbZCUrbJZ8aYSR86QNjRVZdpHmFfigk", "CyL8mfycXYbWHVoTTsfvnAfF2MvfcqeQAmmsqNQLxF7g"},
	},
}

func TestGoldenEveryTransactionFixture(t *testing.T) {
	seen := 0
	for _, name := range fixtures.SolanaNames() {
		if !strings.HasPrefix(name, "gettransaction-") {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			g, ok := goldens[name]
			if !ok {
				t.Fatalf("fixture %s has no golden entry; add its expected transfers", name)
			}
			tx, err := txparse.Parse(result(t, name), g.watch)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Signature != g.sig || tx.Slot != g.slot || tx.BlockTime != g.blockTime || tx.Version != g.version {
				t.Errorf("header = %s %d %d %s, want %s %d %d %s", tx.Signature, tx.Slot, tx.BlockTime, tx.Version, g.sig, g.slot, g.blockTime, g.version)
			}
			if tx.Failed != g.failed {
				t.Errorf("failed = %v, want %v", tx.Failed, g.failed)
			}
			if tx.Memo != g.memo {
				t.Errorf("memo = %q, want %q", tx.Memo, g.memo)
			}
			if !reflect.DeepEqual(tx.Transfers, g.transfers) {
				t.Errorf("transfers:\n got %+v\nwant %+v", tx.Transfers, g.transfers)
			}
			if !reflect.DeepEqual(tx.References, g.refs) {
				t.Errorf("references = %v, want %v", tx.References, g.refs)
			}
			for _, e := range g.consistent {
				found := false
				for _, b := range tx.Balances {
					if b.Escrow == e {
						found = true
						if !b.Consistent(tx.Fee) {
							t.Errorf("balance of %s not consistent: %+v fee %d", e, b, tx.Fee)
						}
					}
				}
				if !found {
					t.Errorf("no balance for %s", e)
				}
			}
		})
	}
	if seen != len(goldens) {
		t.Errorf("golden table has %d entries, fixtures %d", len(goldens), seen)
	}
}

func TestBalanceCrossCheckCatchesMismatch(t *testing.T) {
	// The legacy transfer with the recipient's post balance raised by one lamport.
	raw := strings.Replace(string(result(t, "gettransaction-sol-transfer-legacy-jsonparsed-2024.json")), "1993200", "1993201", 1)
	tx, err := txparse.Parse([]byte(raw), txparse.Watch{Escrows: set(buffa)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Balances) != 1 || tx.Balances[0].Consistent(tx.Fee) {
		t.Fatalf("mismatch not detected: %+v", tx.Balances)
	}
}

func TestTypedErrors(t *testing.T) {
	legacy := string(result(t, "gettransaction-sol-transfer-legacy-jsonparsed-2024.json"))
	cases := []struct {
		name  string
		input string
		want  error
	}{
		{"null result", "null", txparse.ErrNotFound},
		{"empty", "", txparse.ErrNotFound},
		{"version 1", strings.Replace(legacy, `"version":"legacy"`, `"version":1`, 1), txparse.ErrUnsupportedVersion},
		{"base64 encoding", `{"slot":1,"meta":{"err":null},"transaction":["AQID","base64"]}`, txparse.ErrUndecodable},
		{"no meta", strings.Replace(legacy, `"meta":`, `"nometa":`, 1), txparse.ErrUndecodable},
		{"not json", `{"slot":`, txparse.ErrUndecodable},
		{"lamports not a number", strings.Replace(legacy, `"lamports":1000`, `"lamports":"x"`, 1), txparse.ErrUndecodable},
		{"lamports float", strings.Replace(legacy, `"lamports":1000`, `"lamports":1e3`, 1), txparse.ErrUndecodable},
		{"account index out of range", `{"slot":1,"meta":{"err":null},"transaction":{"signatures":["s"],"message":{"accountKeys":["a"],"instructions":[{"programIdIndex":7,"accounts":[],"data":""}]}}}`, txparse.ErrUndecodable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := txparse.Parse([]byte(c.input), txparse.Watch{Escrows: set(buffa)})
			var pe *txparse.Error
			if !errors.Is(err, c.want) || !errors.As(err, &pe) {
				t.Fatalf("err = %v, want %v as *txparse.Error", err, c.want)
			}
		})
	}
}

func TestLamportsAboveFloatPrecision(t *testing.T) {
	// 2^53+1 lamports cannot survive a float64; the parser must keep it exact.
	raw := strings.Replace(string(result(t, "gettransaction-sol-transfer-legacy-jsonparsed-2024.json")), `"lamports":1000`, `"lamports":9007199254740993`, 1)
	tx, err := txparse.Parse([]byte(raw), txparse.Watch{Escrows: set(buffa)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Transfers) != 1 || tx.Transfers[0].Amount != 9007199254740993 {
		t.Fatalf("transfers = %+v", tx.Transfers)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range fixtures.SolanaNames() {
		if strings.HasPrefix(name, "gettransaction-") {
			f.Add(result(f, name))
		}
	}
	f.Add([]byte(`{"meta":{"err":null,"innerInstructions":[{"index":-1,"instructions":[{"programIdIndex":0,"accounts":[0,0],"data":"3Bxs4NQrPgGEkHzo"}]}]},"transaction":{"signatures":["x"],"message":{"accountKeys":["11111111111111111111111111111111"],"instructions":[{"programIdIndex":0,"accounts":[0,0],"data":"3Bxs4NQrPgGEkHzo"}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := txparse.Watch{Escrows: set(buffa, "11111111111111111111111111111111"), References: set(web3x)}
		tx, err := txparse.Parse(data, w)
		if err != nil {
			var pe *txparse.Error
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if tx.Failed && len(tx.Transfers) > 0 {
			t.Fatal("failed transaction credited transfers")
		}
		for i, tr := range tx.Transfers {
			if !w.Escrows[tr.Escrow] {
				t.Fatalf("transfer to unwatched %s", tr.Escrow)
			}
			if i > 0 && tr.Index < tx.Transfers[i-1].Index {
				t.Fatal("transfers out of order")
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"gettransaction-usdc-transferchecked-create-ata-memo-jsonparsed.json", "gettransaction-v0-swap-with-cpi-sol-transfer-json.json"} {
		raw := result(b, name)
		w := txparse.Watch{Escrows: set("3i476kTBBTy7pBGx4CXwJpJ6phuwLQgcwLTdHhU3c7ui", "8ckLnP69xhSeoNbZCUrbJZ8aYSR86QNjRVZdpHmFfigk"), References: set(buffa)}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := txparse.Parse(raw, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
