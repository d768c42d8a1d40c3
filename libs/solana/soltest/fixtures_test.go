package soltest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// rawCall posts one JSON-RPC request and returns the decoded envelope.
func rawCall(t *testing.T, url, method string, params ...any) (result json.RawMessage, rpcErr json.RawMessage) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env.Result, env.Error
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func recordedResult(t *testing.T, name string) any {
	v := decode(t, fixtures.Solana(name))
	if m, ok := v.(map[string]any); ok && m["jsonrpc"] != nil {
		if r, ok := m["result"]; ok {
			return r
		}
		return m
	}
	return v
}

func sameJSON(t *testing.T, what string, got json.RawMessage, want any) {
	t.Helper()
	g := decode(t, got)
	if !reflect.DeepEqual(g, want) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(want)
		t.Errorf("%s differs from the recording:\n got  %s\n want %s", what, gb, wb)
	}
}

func TestEveryFixtureIsServedBack(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{LoadFixtures: true})
	served := map[string]bool{}

	// Transactions, in their recorded encoding.
	for _, name := range fixtures.SolanaNames() {
		if !strings.HasPrefix(name, "gettransaction-") {
			continue
		}
		rec := recordedResult(t, name).(map[string]any)
		sig := rec["transaction"].(map[string]any)["signatures"].([]any)[0].(string)
		enc := "json"
		if strings.Contains(name, "jsonparsed") {
			enc = "jsonParsed"
		}
		got, e := rawCall(t, s.URL, "getTransaction", sig, map[string]any{"encoding": enc, "maxSupportedTransactionVersion": 0})
		if e != nil {
			t.Fatalf("%s: %s", name, e)
		}
		sameJSON(t, name, got, rec)
		served[name] = true
	}
	// Accounts and balances.
	for name, addr := range soltest.FixtureAccounts() {
		rec := recordedResult(t, name).(map[string]any)
		if name == "getbalance-devnet.json" {
			got, _ := rawCall(t, s.URL, "getBalance", addr.String())
			sameJSON(t, name, mustField(t, got, "value"), rec["value"])
			served[name] = true
			continue
		}
		enc := "base64"
		if strings.Contains(name, "jsonparsed") {
			enc = "jsonParsed"
		}
		got, e := rawCall(t, s.URL, "getAccountInfo", addr.String(), map[string]any{"encoding": enc})
		if e != nil {
			t.Fatalf("%s: %s", name, e)
		}
		sameJSON(t, name, mustField(t, got, "value"), rec["value"])
		served[name] = true
	}
	// Token supply of the recorded USDC mint: exact amount and string; uiAmount is the lossy float.
	{
		rec := recordedResult(t, "gettokensupply-usdc.json").(map[string]any)["value"].(map[string]any)
		got, _ := rawCall(t, s.URL, "getTokenSupply", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
		v := decode(t, mustField(t, got, "value")).(map[string]any)
		if v["amount"] != rec["amount"] || v["uiAmountString"] != rec["uiAmountString"] || v["decimals"].(json.Number) != rec["decimals"].(json.Number) {
			t.Errorf("token supply %v, want %v", v, rec)
		}
		served["gettokensupply-usdc.json"] = true
	}
	// Signature lists, verbatim. The web3.js list was recorded before the v0 fixture transaction
	// of the same wallet, so ask for the page before it.
	{
		got, _ := rawCall(t, s.URL, "getSignaturesForAddress", "web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2",
			map[string]any{"limit": 3, "before": "4LwygRtiF9ZCrbGKoh8MEzmxowaRHPaDc1nsinkv72uXU2cUCuZ8YskBBgsvbBEMZ5Pqpf6C6WcXtCkqAuLZand1"})
		sameJSON(t, "getsignaturesforaddress-3-entries-web3js.json", got, recordedResult(t, "getsignaturesforaddress-3-entries-web3js.json"))
		got, _ = rawCall(t, s.URL, "getSignaturesForAddress", soltest.FixtureSignatureLists()["getsignaturesforaddress-with-memo.json"].String())
		sameJSON(t, "getsignaturesforaddress-with-memo.json", got, recordedResult(t, "getsignaturesforaddress-with-memo.json"))
		served["getsignaturesforaddress-3-entries-web3js.json"], served["getsignaturesforaddress-with-memo.json"] = true, true
	}
	// Error objects the simulator produces in the same situations.
	{
		_, e := rawCall(t, s.URL, "getAccountInfo", "not-a-pubkey")
		sameJSON(t, "error-32602-invalid-param.json", e, recordedResult(t, "error-32602-invalid-param.json").(map[string]any)["error"])
		_, e = rawCall(t, s.URL, "getTransaction", "4LwygRtiF9ZCrbGKoh8MEzmxowaRHPaDc1nsinkv72uXU2cUCuZ8YskBBgsvbBEMZ5Pqpf6C6WcXtCkqAuLZand1")
		sameJSON(t, "error-32015-transaction-version-not-supported.json", e, recordedResult(t, "error-32015-transaction-version-not-supported.json").(map[string]any)["error"])
		s.Faults().SetRateLimitEvery(1, soltest.RateLimitHTTP)
		_, e = rawCall(t, s.URL, "getSlot")
		s.Faults().Reset()
		sameJSON(t, "error-429-rate-limit-body.json", e, recordedResult(t, "error-429-rate-limit-body.json").(map[string]any)["error"])
		served["error-32602-invalid-param.json"], served["error-32015-transaction-version-not-supported.json"], served["error-429-rate-limit-body.json"] = true, true, true
		_, e = rawCall(t, s.URL, "getBlock", 114698958)
		sameJSON(t, "error-32009-slot-missing-long-term-storage.json", e, recordedResult(t, "error-32009-slot-missing-long-term-storage.json").(map[string]any)["error"])
		served["error-32009-slot-missing-long-term-storage.json"] = true
	}
	// Notifications, replayed to live subscriptions with only the subscription id rewritten.
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	subscribe := func(method string, params ...any) {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		var r struct{ Result uint64 }
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := conn.ReadJSON(&r); err != nil || r.Result == 0 {
			t.Fatalf("%s: %v", method, err)
		}
	}
	for _, name := range fixtures.SolanaNames() {
		if !strings.Contains(name, "notification-") {
			continue
		}
		switch {
		case strings.HasPrefix(name, "logs"):
			subscribe("logsSubscribe", "all")
		case strings.HasPrefix(name, "account"):
			subscribe("accountSubscribe", "9VHphpWFmUxVHxzWyeYJYYbQADWZ7X6PLzyWER8Lc3k2")
		case strings.HasPrefix(name, "signature"):
			subscribe("signatureSubscribe", "2S2rTZjaqzxYRw9mnqzwtyqitKtSsnE8GVqLn1KrD5R2YpXZnU4GdjppsgfSAbrzJfaqadfi8CtrqEBy588WVQ3E", map[string]any{"commitment": "processed"})
		}
		n, err := s.Replay(name)
		if err != nil || n != 1 {
			t.Fatalf("replay %s: %d %v", name, n, err)
		}
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		want := decode(t, fixtures.Solana(name)).(map[string]any)
		got := decode(t, msg).(map[string]any)
		if got["method"] != want["method"] || !reflect.DeepEqual(got["params"].(map[string]any)["result"], want["params"].(map[string]any)["result"]) {
			t.Errorf("%s replayed as %s", name, msg)
		}
		if strings.HasPrefix(name, "account") || strings.HasPrefix(name, "logs") {
			var unsub string
			if strings.HasPrefix(name, "account") {
				unsub = "accountUnsubscribe"
			} else {
				unsub = "logsUnsubscribe"
			}
			id := got["params"].(map[string]any)["subscription"]
			b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 8, "method": unsub, "params": []any{id}})
			conn.WriteMessage(websocket.TextMessage, b)
			var r struct{ Result bool }
			if err := conn.ReadJSON(&r); err != nil || !r.Result {
				t.Fatalf("%s: %v", unsub, err)
			}
		}
		served[name] = true
	}
	for _, name := range fixtures.SolanaNames() {
		if !served[name] && name != "getslot-devnet.json" && name != "error-32007-slot-skipped.json" {
			t.Errorf("fixture %s is not served by the simulator", name)
		}
	}
}

func mustField(t *testing.T, b json.RawMessage, f string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m[f]
}
