package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/gateway/api"
)

// undocumented are routes deliberately left out of the OpenAPI document: the static assets of
// the docs page.
var undocumented = []string{"GET /docs/{asset}"}

func init() {
	// The docs page is HTML; validate it as an opaque body.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
}

type fakeWS struct{}

func (fakeWS) ServeWS(http.ResponseWriter, *http.Request) error { return nil }

// TestRoutesMatchSpec walks gin's routes and the document's operations both ways: a route
// missing from the document, or a documented operation with no route, fails.
func TestRoutesMatchSpec(t *testing.T) {
	r, err := api.New(nil, api.Options{Registry: observe.NewRegistry(), WebSocket: fakeWS{}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var routes []string
	for _, ri := range r.Routes() {
		routes = append(routes, ri.Method+" "+param.ReplaceAllString(ri.Path, "{$1}"))
	}
	spec, err := api.Spec()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(routes)
	slices.Sort(ops)
	for _, rt := range routes {
		if !slices.Contains(ops, rt) && !slices.Contains(undocumented, rt) {
			t.Errorf("route %s is not in openapi.yaml", rt)
		}
	}
	for _, op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.yaml documents %s but no such route exists", op)
		}
	}
	if len(ops) < 17 {
		t.Fatalf("only %d operations found: %v", len(ops), ops)
	}
}

// TestResponseValidationCatchesDrift proves the response check used by every test in this
// package fails on a shape drift: a renamed seed field and a string where the seed has a number.
func TestResponseValidationCatchesDrift(t *testing.T) {
	e := newEnv(t, envOpts{})
	req, _ := http.NewRequest("GET", e.url+"/api/token/"+seedMint, nil)
	route, params, err := e.rt.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	good := `{"status":"success","data":{"contract_address":"a","name":"n","symbol":"s","decimals":6,"price_usd":0.05,"total_supply":"1","holders_count":null,"total_supply_raw":"1","image_url":null,"liquidity_usd":null,"market_cap_usd":null,"volume_24h_usd":null,"token_program":null,"launchpad":null,"source":null,"stale":false}}`
	check := func(body string) error {
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 200, Header: http.Header{"Content-Type": {"application/json"}},
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		in.SetBodyBytes([]byte(body))
		return openapi3filter.ValidateResponse(context.Background(), in)
	}
	if err := check(good); err != nil {
		t.Fatalf("valid body rejected: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(good, `"price_usd":0.05`, `"price_usd":"0.05"`, 1),
		strings.Replace(good, `"holders_count"`, `"holders"`, 1),
		strings.Replace(good, `"status":"success"`, `"status":"ok"`, 1),
	} {
		if check(bad) == nil {
			t.Errorf("drifted body accepted: %s", bad)
		}
	}
}

func TestOpenAPIAndDocsServed(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.do("GET", "/openapi.json", nil)
	var doc map[string]any
	if r.status != 200 || json.Unmarshal(r.body, &doc) != nil || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: %d %.200s", r.status, r.body)
	}
	r = e.do("GET", "/docs", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `src="/docs/swagger-ui-bundle.js"`) || strings.Contains(string(r.body), "https://") {
		t.Fatalf("docs page must load only embedded assets: %d %s", r.status, r.body)
	}
	for _, a := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js"} {
		res, err := http.Get(e.url + "/docs/" + a)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(b) < 100 {
			t.Fatalf("%s: %d, %d bytes", a, res.StatusCode, len(b))
		}
	}
	if r := e.do("GET", "/docs/../../etc/passwd", nil); r.status != 404 {
		t.Fatalf("traversal: %d", r.status)
	}
	if r := e.do("GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := e.do("GET", "/readyz", nil); r.status != 200 {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/metrics", nil); r.status != 200 || !strings.Contains(string(r.body), "gateway_http_requests_total") {
		t.Fatalf("metrics %d", r.status)
	}
}

var _ = httptest.NewServer
