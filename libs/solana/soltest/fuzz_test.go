package soltest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// FuzzJSONRPC feeds arbitrary request bodies to the HTTP endpoint: every answer must be a 200
// carrying valid JSON (a result or a JSON-RPC error), never a panic or a 5xx.
func FuzzJSONRPC(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"getSlot"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"getBalance","params":["11111111111111111111111111111111",{"commitment":"processed"}]}]`,
		`{"jsonrpc":"2.0","id":1,"method":"getAccountInfo","params":["So11111111111111111111111111111111111111112",{"encoding":"jsonParsed","dataSlice":{"offset":-1,"length":4}}]}`,
		`{"jsonrpc":"2.0","id":"x","method":"getSignaturesForAddress","params":["11111111111111111111111111111111",{"limit":0}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"getProgramAccounts","params":["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",{"filters":[{"memcmp":{"offset":99999,"bytes":"3"}}]}]}`,
		`{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["AQ==",{"encoding":"base64"}]}`,
		`[]`, `{`, `null`, `{"method":5}`,
	} {
		f.Add([]byte(seed))
	}
	s := soltest.New(soltest.Config{LoadFixtures: true})
	defer s.Close()
	h := soltest.Handler(s)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON %q for %q", rec.Body.Bytes(), body)
		}
	})
}

// FuzzSendTransaction feeds arbitrary wire bytes to sendTransaction: malformed transactions
// must be refused with a JSON-RPC error and must not change any balance.
func FuzzSendTransaction(f *testing.F) {
	payer := solana.NewWallet().PrivateKey
	c := soltest.New(soltest.Config{})
	defer c.Close()
	c.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 1_000_000_000, Owner: solana.SystemProgramID})
	tx := signTx(f, []solana.Instruction{transferIx(payer.PublicKey(), solana.NewWallet().PublicKey(), 1_000_000)}, c.LatestBlockhash(), payer)
	good, _ := tx.MarshalBinary()
	f.Add(good)
	f.Add(good[:70])
	f.Add([]byte{1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	h := soltest.Handler(c)
	f.Fuzz(func(t *testing.T, raw []byte) {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
			"params": []any{base64.StdEncoding.EncodeToString(raw), map[string]any{"encoding": "base64", "skipPreflight": true}}})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		var env struct {
			Result *string          `json:"result"`
			Error  *json.RawMessage `json:"error"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &env) != nil || (env.Result == nil) == (env.Error == nil) {
			t.Fatalf("answer %d %q", rec.Code, rec.Body.Bytes())
		}
		if !bytes.Equal(raw, good) && env.Result != nil && c.Balance(payer.PublicKey()) < 1_000_000_000-1_005_000 {
			t.Fatalf("a mutated transaction moved money: %q", rec.Body.Bytes())
		}
	})
}
