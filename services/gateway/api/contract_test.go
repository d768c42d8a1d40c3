package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// seedCreateBody is the seed's curl example of POST /api/campaigns, byte for byte, except the
// end time, which must lie in the future for the request to be accepted today.
const seedCreateBody = `{
    "contract_address": "5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump",
    "goal_amount": 100.00,
    "expires_at": "2099-12-31T23:59:59Z",
    "description": "Support the Karen meme coin!",
    "social_twitter": "https://x.com/karen_token",
    "social_website": "https://karen.meme"
  }`

// kind returns the JSON type of a decoded value as the seed documents it.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// requireShape checks that every field of the seed's example is present with the seed's type
// (a field the seed shows as "string | null" may be either).
func requireShape(t *testing.T, where string, got map[string]any, want map[string]string) {
	t.Helper()
	for f, k := range want {
		v, ok := got[f]
		if !ok {
			t.Errorf("%s: seed field %q missing (have %v)", where, f, keys(got))
			continue
		}
		if !strings.Contains(k, kind(v)) {
			t.Errorf("%s: seed field %q is %s (%v), seed says %s", where, f, kind(v), v, k)
		}
	}
}

var seedCampaignShape = map[string]string{
	"id": "string", "name": "string", "symbol": "string", "contract_address": "string",
	"image_url": "string|null", "wallet_address": "string", "goal_amount": "number", "status": "string",
	"created_at": "string", "expires_at": "string", "campaign_type": "string|null",
	"social_twitter": "string|null", "social_website": "string|null", "description": "string|null",
	"current_balance": "number", "contributor_count": "number", "token_launchpad": "string|null",
	"token_source": "string|null", "liquidity": "string", "market_cap": "string", "price_usd": "string",
	"volume_24h": "string",
}

func createSeedCampaign(t *testing.T, e *env) map[string]any {
	t.Helper()
	r := e.do("POST", "/api/campaigns", seedCreateBody)
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.json(t)
}

func TestContractCreateCampaign(t *testing.T) {
	e := newEnv(t, envOpts{})
	m := createSeedCampaign(t, e)
	requireShape(t, "create", m, map[string]string{
		"success": "boolean", "campaign_id": "string", "escrow_address": "string", "error": "null", "campaign": "object|null",
	})
	if m["success"] != true || m["escrow_address"] != seedWallet || m["error"] != nil {
		t.Fatalf("create envelope: %v", m)
	}
	c := m["campaign"].(map[string]any)
	requireShape(t, "create.campaign", c, seedCampaignShape)
	// goal_amount 100.00 travelled as exact text and came back as the exact number 100.
	if c["goal_amount"] != json.Number("100") || c["goal_lamports"] != "100000000000" {
		t.Fatalf("goal: %v / %v", c["goal_amount"], c["goal_lamports"])
	}
	st := e.stubs
	st.mu.Lock()
	got := st.campaigns[m["campaign_id"].(string)]
	st.mu.Unlock()
	if got.GoalLamports != 100_000_000_000 || got.ExpiresAt.Format(time.RFC3339) != "2099-12-31T23:59:59Z" {
		t.Fatalf("stored: %+v", got)
	}

	// Seed error: 400 when the token's metadata cannot be fetched.
	r := e.do("POST", "/api/campaigns", strings.Replace(seedCreateBody, seedMint, payer1, 1))
	if r.status != http.StatusBadRequest {
		t.Fatalf("unknown mint: %d %s", r.status, r.body)
	}
	em := r.json(t)
	if em["success"] != false || em["code"] != "invalid" || em["field"] != "contract_address" || em["request_id"] == "" {
		t.Fatalf("error envelope: %v", em)
	}
}

func TestContractCampaignDetail(t *testing.T) {
	e := newEnv(t, envOpts{})
	created := createSeedCampaign(t, e)
	r := e.do("GET", "/api/campaign-detail/"+seedMint, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "detail", m, map[string]string{
		"success": "boolean", "campaign_id": "null", "escrow_address": "null", "error": "null", "campaign": "object",
	})
	c := m["campaign"].(map[string]any)
	requireShape(t, "detail.campaign", c, seedCampaignShape)
	if c["id"] != created["campaign_id"] || c["contract_address"] != seedMint || c["current_balance"] != json.Number("0") || c["status"] != "active" {
		t.Fatalf("campaign: %v", c)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`).MatchString(c["created_at"].(string)) || c["expires_at"] != "2099-12-31T23:59:59Z" {
		t.Fatalf("times: %v %v", c["created_at"], c["expires_at"])
	}
	// Seed error: 404 when no campaign uses the mint.
	if r := e.do("GET", "/api/campaign-detail/"+payer1, nil); r.status != http.StatusNotFound || r.json(t)["code"] != "not_found" {
		t.Fatalf("missing: %d %s", r.status, r.body)
	}
}

func TestContractEscrowTransactions(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.do("GET", "/api/escrow-transactions/"+seedWallet, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "escrow-transactions", m, map[string]string{"transactionCount": "number", "contributors": "array", "transactions": "array"})
	if m["transactionCount"] != json.Number("2") {
		t.Fatalf("count: %v", m["transactionCount"])
	}
	txs := m["transactions"].([]any)
	want := []struct{ amount, from, ts, raw string }{
		{"0.5", payer1, "1678886400", "500000000"},
		{"1.2", payer2, "1678886000", "1200000000"},
	}
	for i, w := range want {
		tx := txs[i].(map[string]any)
		requireShape(t, "transaction", tx, map[string]string{"signature": "string", "amount": "number", "from": "string", "timestamp": "number"})
		if tx["amount"] != json.Number(w.amount) || tx["from"] != w.from || tx["timestamp"] != json.Number(w.ts) || tx["amount_raw"] != w.raw {
			t.Fatalf("tx %d: %v", i, tx)
		}
	}
	if m["total_lamports"] != "1700000000" || m["total_sol"] != json.Number("1.7") {
		t.Fatalf("totals: %v %v", m["total_lamports"], m["total_sol"])
	}
	if r := e.do("GET", "/api/escrow-transactions/"+payer1, nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown escrow: %d %s", r.status, r.body)
	}
}

func TestContractEscrowBalance(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.do("GET", "/api/escrow-balance?wallet="+seedWallet, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "escrow-balance", m, map[string]string{"success": "boolean", "data": "object"})
	d := m["data"].(map[string]any)
	requireShape(t, "escrow-balance.data", d, map[string]string{
		"address": "string", "balanceSOL": "number", "balanceUSD": "number", "transactionCount": "number", "recentTransactions": "array",
	})
	// 2.75 SOL × 180.25 USD = 495.6875 → 495.69, computed without floats.
	if d["balanceSOL"] != json.Number("2.75") || d["balanceUSD"] != json.Number("495.69") || d["balance_lamports"] != "2750000000" || d["transactionCount"] != json.Number("2") {
		t.Fatalf("data: %v", d)
	}
	rt := d["recentTransactions"].([]any)[0].(map[string]any)
	requireShape(t, "recentTransactions", rt, map[string]string{"signature": "string", "amount": "number", "from": "string", "timestamp": "number"})

	// An escrow no campaign uses still has a balance; its ledger is empty.
	r = e.do("GET", "/api/escrow-balance?wallet="+payer1, nil)
	if d := r.json(t)["data"].(map[string]any); r.status != 200 || d["transactionCount"] != json.Number("0") || len(d["recentTransactions"].([]any)) != 0 {
		t.Fatalf("unused escrow: %d %s", r.status, r.body)
	}
	// Without a SOL price the balance still answers; balanceUSD is null.
	e.stubs.mu.Lock()
	e.stubs.price = ""
	e.stubs.mu.Unlock()
	r = e.do("GET", "/api/escrow-balance?wallet="+seedWallet, nil)
	if d := r.json(t)["data"].(map[string]any); r.status != 200 || d["balanceUSD"] != nil || d["balanceSOL"] != json.Number("2.75") {
		t.Fatalf("no price: %d %s", r.status, r.body)
	}
}

func TestContractQR(t *testing.T) {
	e := newEnv(t, envOpts{})
	id := createSeedCampaign(t, e)["campaign_id"].(string)
	r := e.do("GET", "/api/campaigns/"+id+"/qr?amount=1.5", nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "qr", m, map[string]string{"qr_code": "string", "solana_pay_uri": "string", "escrow_address": "string"})
	if !strings.HasPrefix(m["qr_code"].(string), "data:image/png;base64,iVBORw0KGgo") || m["escrow_address"] != seedWallet {
		t.Fatalf("qr: %.80v", m)
	}
	if !strings.HasPrefix(m["solana_pay_uri"].(string), "solana:"+seedWallet+"?amount=1.5&reference=") || m["amount_lamports"] != "1500000000" {
		t.Fatalf("uri: %v", m["solana_pay_uri"])
	}
	if r := e.do("GET", "/api/campaigns/cmp_404/qr", nil); r.status != http.StatusNotFound {
		t.Fatalf("missing campaign: %d %s", r.status, r.body)
	}
}

func TestContractToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.do("GET", "/api/token/"+seedMint, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "token", m, map[string]string{"status": "string", "data": "object"})
	d := m["data"].(map[string]any)
	requireShape(t, "token.data", d, map[string]string{
		"contract_address": "string", "name": "string", "symbol": "string", "decimals": "number",
		"price_usd": "number", "total_supply": "string", "holders_count": "number",
	})
	if m["status"] != "success" || d["decimals"] != json.Number("6") || d["price_usd"] != json.Number("0.05") ||
		d["total_supply"] != "1000000000" || d["total_supply_raw"] != "1000000000000000" || d["holders_count"] != json.Number("12345") {
		t.Fatalf("token: %v", d)
	}
	if r := e.do("GET", "/api/token/"+payer1, nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown token: %d %s", r.status, r.body)
	}
}

func TestContractHealth(t *testing.T) {
	e := newEnv(t, envOpts{})
	createSeedCampaign(t, e)
	r := e.do("GET", "/api/health", nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	requireShape(t, "health", m, map[string]string{"status": "string", "timestamp": "string", "sol_price": "number", "monitored_campaigns": "number"})
	if m["status"] != "healthy" || m["sol_price"] != json.Number("180.25") || m["monitored_campaigns"] != json.Number("1") {
		t.Fatalf("health: %v", m)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`).MatchString(m["timestamp"].(string)) {
		t.Fatalf("timestamp not in the seed's format: %v", m["timestamp"])
	}

	for _, tc := range []struct {
		name       string
		db, rpc    bool
		wantReason string
	}{
		{"database down", false, true, "Database connection failed"},
		{"rpc down", true, false, "Solana RPC connection failed"},
	} {
		e.stubs.mu.Lock()
		e.stubs.dbOK, e.stubs.rpcOK = tc.db, tc.rpc
		e.stubs.mu.Unlock()
		r := e.do("GET", "/api/health", nil)
		m := r.json(t)
		if r.status != http.StatusServiceUnavailable || m["status"] != "unhealthy" || m["error"] != tc.wantReason {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
}

func TestHealthWhenServicesUnreachable(t *testing.T) {
	e := newEnv(t, envOpts{})
	// Stop every responder: the campaign service (and so the database) is unreachable.
	e.conn.NC.Close()
	r := e.do("GET", "/api/health", nil)
	if r.status != http.StatusServiceUnavailable || r.json(t)["error"] != "Database connection failed" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/campaign-detail/"+seedMint, nil)
	if m := r.json(t); r.status != http.StatusServiceUnavailable || m["code"] != "unavailable" || strings.Contains(string(r.body), "rpc.") {
		t.Fatalf("unavailable must be 503 without internals: %d %s", r.status, r.body)
	}
}
