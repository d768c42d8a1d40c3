package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEdgeInputs sends hostile and borderline input to every endpoint. None may produce a 500,
// every rejection is a 4xx naming the field, and no rejected write reaches the campaign service.
func TestEdgeInputs(t *testing.T) {
	e := newEnv(t, envOpts{})
	id := createSeedCampaign(t, e)["campaign_id"].(string)
	auth := []string{"Authorization", "Bearer " + adminKey}
	body := func(goal, exp string) string {
		return `{"contract_address":"` + seedMint + `","goal_amount":` + goal + `,"expires_at":"` + exp + `"}`
	}
	const future = "2099-01-01T00:00:00Z"
	huge := strings.Repeat("9", 30)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		field                    string
	}{
		// POST /api/campaigns: amounts.
		{"goal zero", "POST", "/api/campaigns", body("0", future), nil, 400, "goal_amount"},
		{"goal zero decimal", "POST", "/api/campaigns", body("0.000000000", future), nil, 400, "goal_amount"},
		{"goal negative", "POST", "/api/campaigns", body("-1", future), nil, 400, "goal_amount"},
		{"goal above max", "POST", "/api/campaigns", body("1000000001", future), nil, 400, "goal_amount"},
		{"goal huge", "POST", "/api/campaigns", body(huge, future), nil, 400, "goal_amount"},
		{"goal 10 decimals", "POST", "/api/campaigns", body("1.0000000001", future), nil, 400, "goal_amount"},
		{"goal exponent", "POST", "/api/campaigns", body("1e2", future), nil, 400, "goal_amount"},
		{"goal string injection", "POST", "/api/campaigns", body(`"1; DROP TABLE campaigns"`, future), nil, 400, "goal_amount"},
		{"goal bool", "POST", "/api/campaigns", body("true", future), nil, 400, "goal_amount"},
		{"goal null", "POST", "/api/campaigns", body("null", future), nil, 400, "goal_amount"},
		{"goal non-ASCII digits", "POST", "/api/campaigns", body(`"١٠٠"`, future), nil, 400, "goal_amount"},
		// Times.
		{"expires past", "POST", "/api/campaigns", body("1", "2001-01-01T00:00:00Z"), nil, 400, "expires_at"},
		{"expires no zone", "POST", "/api/campaigns", body("1", "2099-01-01T00:00:00"), nil, 400, "expires_at"},
		{"expires garbage", "POST", "/api/campaigns", body("1", "tomorrow"), nil, 400, "expires_at"},
		{"expires bad offset", "POST", "/api/campaigns", body("1", "2099-01-01T00:00:00+25:00"), nil, 400, "expires_at"},
		// Addresses.
		{"mint invalid base58", "POST", "/api/campaigns", strings.Replace(body("1", future), seedMint, "0OIl0OIl", 1), nil, 400, "contract_address"},
		{"mint wrong length", "POST", "/api/campaigns", strings.Replace(body("1", future), seedMint, "5LKmh8SLt4Fkbdd", 1), nil, 400, "contract_address"},
		{"mint too long", "POST", "/api/campaigns", strings.Replace(body("1", future), seedMint, seedMint+"pump", 1), nil, 400, "contract_address"},
		{"mint empty", "POST", "/api/campaigns", strings.Replace(body("1", future), seedMint, "", 1), nil, 400, "contract_address"},
		{"mint non-ASCII", "POST", "/api/campaigns", strings.Replace(body("1", future), seedMint, "Ünïcødé", 1), nil, 400, "contract_address"},
		// Bodies.
		{"unknown field", "POST", "/api/campaigns", `{"contract_address":"` + seedMint + `","goal_amount":1,"expires_at":"` + future + `","owner":"me"}`, nil, 400, "owner"},
		{"two objects", "POST", "/api/campaigns", body("1", future) + body("1", future), nil, 400, "body"},
		{"empty body", "POST", "/api/campaigns", "", nil, 400, "body"},
		{"array body", "POST", "/api/campaigns", `[1]`, nil, 400, "body"},
		{"truncated", "POST", "/api/campaigns", `{"contract_address":`, nil, 400, "body"},
		{"oversized", "POST", "/api/campaigns", `{"description":"` + strings.Repeat("x", 8000) + `"}`, nil, 413, "body"},
		{"NUL in description", "POST", "/api/campaigns", `{"contract_address":"` + seedMint + `","goal_amount":1,"expires_at":"` + future + `","description":"a\u0000b"}`, nil, 400, "description"},
		{"bad twitter url", "POST", "/api/campaigns", `{"contract_address":"` + seedMint + `","goal_amount":1,"expires_at":"` + future + `","social_twitter":"javascript:alert(1)"}`, nil, 400, "social_twitter"},
		{"wrong content type", "POST", "/api/campaigns", body("1", future), []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		// Reads.
		{"detail bad address", "GET", "/api/campaign-detail/not-an-address", "", nil, 400, "contract_address"},
		{"detail injection", "GET", "/api/campaign-detail/%27%20OR%201=1--", "", nil, 400, "contract_address"},
		{"escrow tx short", "GET", "/api/escrow-transactions/9o24Px7a", "", nil, 400, "wallet_address"},
		{"escrow tx limit zero", "GET", "/api/escrow-transactions/" + seedWallet + "?limit=0", "", nil, 400, "limit"},
		{"escrow tx limit huge", "GET", "/api/escrow-transactions/" + seedWallet + "?limit=" + huge, "", nil, 400, "limit"},
		{"balance missing wallet", "GET", "/api/escrow-balance", "", nil, 400, "wallet"},
		{"balance empty wallet", "GET", "/api/escrow-balance?wallet=", "", nil, 400, "wallet"},
		{"balance repeated wallet", "GET", "/api/escrow-balance?wallet=" + seedWallet + "&wallet=nope", "", nil, 400, "wallet"},
		{"balance repeated good wallet", "GET", "/api/escrow-balance?wallet=" + seedWallet + "&wallet=" + seedWallet, "", nil, 400, "wallet"},
		{"qr repeated amount", "GET", "/api/campaigns/" + id + "/qr?amount=1&amount=2", "", nil, 400, "amount"},
		{"list repeated limit", "GET", "/api/campaigns?limit=5&status=active&limit=500", "", nil, 400, "limit"},
		{"transactions repeated cursor", "GET", "/api/escrow-transactions/" + seedWallet + "?cursor=a&cursor=b", "", nil, 400, "cursor"},
		{"cancel repeated reason", "DELETE", "/api/campaigns/" + id + "?reason=a&reason=b", "", auth, 400, "reason"},
		{"balance non-ASCII", "GET", "/api/escrow-balance?wallet=%C3%A9t%C3%A9", "", nil, 400, "wallet"},
		{"token bad", "GET", "/api/token/xyz", "", nil, 400, "contract_address"},
		{"qr amount zero", "GET", "/api/campaigns/" + id + "/qr?amount=0", "", nil, 400, "amount"},
		{"qr amount negative", "GET", "/api/campaigns/" + id + "/qr?amount=-1", "", nil, 400, "amount"},
		{"qr amount 10 decimals", "GET", "/api/campaigns/" + id + "/qr?amount=0.0000000001", "", nil, 400, "amount"},
		{"qr amount huge", "GET", "/api/campaigns/" + id + "/qr?amount=" + huge, "", nil, 400, "amount"},
		{"qr amount max uint64 lamports", "GET", "/api/campaigns/" + id + "/qr?amount=18446744073.709551615", "", nil, 400, "amount"},
		{"qr amount above max", "GET", "/api/campaigns/" + id + "/qr?amount=1000000000.000000001", "", nil, 400, "amount"},
		{"qr amount empty", "GET", "/api/campaigns/" + id + "/qr?amount=", "", nil, 400, "amount"},
		{"qr amount plus", "GET", "/api/campaigns/" + id + "/qr?amount=%2B1", "", nil, 400, "amount"},
		{"qr bad id", "GET", "/api/campaigns/%27;--/qr", "", nil, 400, "campaign_id"},
		{"qr bad format", "GET", "/api/campaigns/" + id + "/qr?format=gif", "", nil, 400, "format"},
		{"qr module px", "GET", "/api/campaigns/" + id + "/qr?module_px=1", "", nil, 400, "module_px"},
		{"list bad status", "GET", "/api/campaigns?status=open", "", nil, 400, "status"},
		{"list bad mint", "GET", "/api/campaigns?mint=abc", "", nil, 400, "mint"},
		{"list limit", "GET", "/api/campaigns?limit=-5", "", nil, 400, "limit"},
		{"list cursor binary", "GET", "/api/campaigns?cursor=%00%01", "", nil, 400, "cursor"},
		{"get long id", "GET", "/api/campaigns/" + strings.Repeat("a", 65), "", nil, 400, "campaign_id"},
		// Operator endpoints.
		{"patch no auth", "PATCH", "/api/campaigns/" + id, `{"description":"x"}`, nil, 401, ""},
		{"patch wrong key", "PATCH", "/api/campaigns/" + id, `{"description":"x"}`, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"patch empty", "PATCH", "/api/campaigns/" + id, `{}`, auth, 400, "body"},
		{"patch unknown field", "PATCH", "/api/campaigns/" + id, `{"goal_amount":5}`, auth, 400, "goal_amount"},
		{"patch bad time", "PATCH", "/api/campaigns/" + id, `{"expires_at":"2099-13-01T00:00:00Z"}`, auth, 400, "expires_at"},
		{"delete no auth", "DELETE", "/api/campaigns/" + id, "", nil, 401, ""},
		{"delete missing", "DELETE", "/api/campaigns/cmp_999", "", auth, 404, ""},
		{"method not allowed", "PUT", "/api/campaigns/" + id, "", nil, 405, ""},
	}
	before := e.stubs.writes()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b any
			if tc.body != "" {
				b = tc.body
			}
			r := e.do(tc.method, tc.path, b, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("%s %s: got %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			m := r.json(t)
			if m["success"] != false || m["error"] == "" || (tc.field != "" && m["field"] != tc.field) {
				t.Fatalf("error envelope: %s", r.body)
			}
		})
	}
	if after := e.stubs.writes(); after != before {
		t.Fatalf("rejected requests changed state: %d writes reached the campaign service", after-before)
	}

	// A parameter the API does not declare is ignored, repeated or not (e.g. a cache buster).
	if r := e.do("GET", "/api/escrow-balance?wallet="+seedWallet+"&_=1&_=2", nil); r.status != 200 {
		t.Fatalf("repeated undeclared parameter: %d %s", r.status, r.body)
	}

	// Accepted borderline input: RFC 3339 with an offset, in the body and through a query-style
	// %2B, keeps the instant exactly.
	for _, exp := range []string{"2100-06-01T12:00:00+02:00", "2100-06-01T10:00:00.5Z"} {
		r := e.do("PATCH", "/api/campaigns/"+id, `{"expires_at":"`+exp+`"}`, auth...)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", exp, r.status, r.body)
		}
		want, _ := time.Parse(time.RFC3339Nano, exp)
		e.stubs.mu.Lock()
		got := e.stubs.campaigns[id].ExpiresAt
		e.stubs.mu.Unlock()
		if !got.Equal(want) {
			t.Fatalf("stored %v, want %v", got, want)
		}
	}
	// Operator cancel with the key works and is visible.
	if r := e.do("DELETE", "/api/campaigns/"+id+"?reason=spam", nil, auth...); r.status != 200 || r.json(t)["campaign"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/campaigns/"+id+"/qr", nil); r.status != http.StatusConflict {
		t.Fatalf("qr of a cancelled campaign: %d", r.status)
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, envOpts{})
	createSeedCampaign(t, e)
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		r := e.do("GET", "/api/campaigns?limit=1&status=active&mint="+seedMint+"&cursor="+cursor, nil)
		m := r.json(t)
		for _, c := range m["campaigns"].([]any) {
			seen = append(seen, c.(map[string]any)["id"].(string))
		}
		if m["next_cursor"] == nil {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	if len(seen) != 1 || seen[0] != "cmp_1" {
		t.Fatalf("pages: %v", seen)
	}
}

func TestWriteRateLimitAndCORS(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: 3})
	codes := []int{}
	for range 5 {
		codes = append(codes, e.do("POST", "/api/campaigns", `{}`).status)
	}
	if codes[0] != 400 || codes[2] != 400 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("statuses: %v", codes)
	}
	// Reads are not limited.
	if r := e.do("GET", "/api/token/"+seedMint, nil); r.status != 200 {
		t.Fatalf("read limited: %d", r.status)
	}
	req, _ := http.NewRequest("OPTIONS", e.url+"/api/campaigns", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	req.Header.Set("Origin", "https://evil.example")
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("foreign origin allowed")
	}
}
