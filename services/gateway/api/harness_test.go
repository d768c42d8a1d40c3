package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/gateway/api"
)

// Seed example values.
const (
	seedMint   = "5LKmh8SLt4FkbddUhLHWP1ufsvdcBAovkH1Gyaw5pump"
	seedWallet = "9o24Px7asSDJ1ZLyQhZd7vehm9kX4VuTeJh7VGryjXkm"
	payer1     = "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"
	payer2     = "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"
	adminKey   = "s3cret-operator-key"
)

// stubs are small micro-service responders for the campaign, pricer and indexer subjects over
// the real NATS server. They answer with the contract types of libs/events and keep just enough
// state to tell whether a rejected request changed anything.
type stubs struct {
	mu         sync.Mutex
	campaigns  map[string]events.Campaign
	order      []string
	ledger     map[string][]events.LedgerEntry
	calls      int // write calls that reached the campaign service
	dbOK       bool
	rpcOK      bool
	indexerOff bool
	price      string
}

func newAddress(t testing.TB) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return solana.PublicKeyFromBytes(b[:]).String()
}

func (s *stubs) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *stubs) create(ctx context.Context, conn *bus.Conn, t testing.TB, req events.CreateCampaignRequest) (events.CampaignReply, error) {
	goal, err := money.ParseSOL(req.GoalAmount)
	if err != nil || goal == 0 {
		return events.CampaignReply{}, apperr.InvalidField("goal_amount", "bad goal")
	}
	exp, err := time.Parse(time.RFC3339Nano, req.ExpiresAt)
	if err != nil {
		return events.CampaignReply{}, apperr.InvalidField("expires_at", "bad time")
	}
	tok, err := bus.Request[events.TokenInfo](ctx, conn, events.SubjectPricerToken, events.TokenInfoRequest{Mint: req.ContractAddress})
	if err != nil {
		return events.CampaignReply{}, apperr.InvalidField("contract_address", "Unable to fetch token metadata")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, id := range s.order {
		if c := s.campaigns[id]; c.ContractAddress == req.ContractAddress && c.Status.Open() {
			return events.CampaignReply{}, apperr.Conflictf("an open campaign already exists for this token")
		}
	}
	wallet := seedWallet
	if req.WalletAddress != nil {
		wallet = *req.WalletAddress
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	img := "https://example.com/karen.png"
	c := events.Campaign{
		ID: fmt.Sprintf("cmp_%d", len(s.order)+1), Name: tok.Name, Symbol: tok.Symbol, ContractAddress: req.ContractAddress,
		ImageURL: &img, WalletAddress: wallet, Reference: newAddress(t), Status: events.StatusActive,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: exp, CampaignType: req.CampaignType,
		SocialTwitter: req.SocialTwitter, SocialWebsite: req.SocialWebsite, Description: req.Description,
		GoalLamports: uint64(goal), Liquidity: "1000.5", MarketCap: "50000", PriceUSD: tok.PriceUSD, Volume24h: "12.25",
		Revision: 1,
	}
	s.campaigns[c.ID] = c
	s.order = append(s.order, c.ID)
	return events.CampaignReply{Campaign: c, Created: true}, nil
}

func (s *stubs) get(_ context.Context, req events.GetCampaignRequest) (events.CampaignReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.ID != "" {
		if c, ok := s.campaigns[req.ID]; ok {
			return events.CampaignReply{Campaign: c}, nil
		}
		return events.CampaignReply{}, apperr.NotFoundf("campaign not found")
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if c := s.campaigns[s.order[i]]; c.ContractAddress == req.Mint {
			return events.CampaignReply{Campaign: c}, nil
		}
	}
	return events.CampaignReply{}, apperr.NotFoundf("Campaign not found")
}

func (s *stubs) list(_ context.Context, req events.ListCampaignsRequest) (events.ListCampaignsReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []events.Campaign
	for i := len(s.order) - 1; i >= 0; i-- {
		c := s.campaigns[s.order[i]]
		if (req.Status == "" || string(c.Status) == req.Status) && (req.Mint == "" || c.ContractAddress == req.Mint) && (req.Escrow == "" || c.WalletAddress == req.Escrow) {
			all = append(all, c)
		}
	}
	start := 0
	if req.Cursor != "" {
		if _, err := fmt.Sscanf(req.Cursor, "o%d", &start); err != nil || start < 0 || start > len(all) {
			return events.ListCampaignsReply{}, apperr.InvalidField("cursor", "not a cursor")
		}
	}
	limit := req.Limit
	if limit == 0 {
		limit = 50
	}
	end := min(start+limit, len(all))
	rep := events.ListCampaignsReply{Campaigns: all[start:end]}
	if end < len(all) {
		rep.NextCursor = fmt.Sprintf("o%d", end)
	}
	return rep, nil
}

func (s *stubs) update(_ context.Context, req events.UpdateCampaignRequest) (events.CampaignReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[req.ID]
	if !ok {
		return events.CampaignReply{}, apperr.NotFoundf("campaign not found")
	}
	s.calls++
	if req.Description != nil {
		c.Description = req.Description
	}
	if req.ExpiresAt != nil {
		t, _ := time.Parse(time.RFC3339Nano, *req.ExpiresAt)
		if t.Before(c.ExpiresAt) {
			return events.CampaignReply{}, apperr.InvalidField("expires_at", "may only move later")
		}
		c.ExpiresAt = t
	}
	c.Revision++
	s.campaigns[c.ID] = c
	return events.CampaignReply{Campaign: c}, nil
}

func (s *stubs) cancel(_ context.Context, req events.CancelCampaignRequest) (events.CampaignReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[req.ID]
	if !ok {
		return events.CampaignReply{}, apperr.NotFoundf("campaign not found")
	}
	if !c.Status.Open() {
		return events.CampaignReply{}, apperr.Conflictf("campaign is not open")
	}
	s.calls++
	c.Status = events.StatusCancelled
	c.Revision++
	s.campaigns[c.ID] = c
	return events.CampaignReply{Campaign: c}, nil
}

func (s *stubs) escrowTx(_ context.Context, req events.EscrowTransactionsRequest) (events.EscrowTransactionsReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, ok := s.ledger[req.Escrow]
	if !ok {
		return events.EscrowTransactionsReply{}, apperr.NotFoundf("Campaign not found for this wallet")
	}
	rep := events.EscrowTransactionsReply{Escrow: req.Escrow, TransactionCount: int64(len(entries))}
	seen := map[string]bool{}
	for _, e := range entries {
		rep.TotalLamports += e.Amount
		if !seen[e.Payer] {
			seen[e.Payer] = true
			rep.Contributors = append(rep.Contributors, e.Payer)
		}
	}
	limit := req.Limit
	if limit == 0 || limit > len(entries) {
		limit = len(entries)
	}
	rep.Transactions = entries[:limit]
	return rep, nil
}

func startStubs(t testing.TB, conn *bus.Conn) *stubs { return startStubsFor(t, conn, true) }

// startStubsFor registers the indexer responder and, when withCampaignPricer, the campaign and
// pricer responders too (the real-services test runs the real campaign and pricer instead).
func startStubsFor(t testing.TB, conn *bus.Conn, withCampaignPricer bool) *stubs {
	t.Helper()
	s := &stubs{
		campaigns: map[string]events.Campaign{}, dbOK: true, rpcOK: true, price: "180.25",
		ledger: map[string][]events.LedgerEntry{
			seedWallet: {
				{Signature: "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW", Escrow: seedWallet, Payer: payer1, Amount: 500_000_000, Decimals: 9, State: events.StateFinalized, Slot: 100, BlockTime: 1678886400, CampaignID: "cmp_1"},
				{Signature: "4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofM95ujxfMEUrRjcv7SD6xgzQ8rB1KXPRsHXwy1wr1Vx9BUR", Escrow: seedWallet, Payer: payer2, Amount: 1_200_000_000, Decimals: 9, State: events.StateConfirmed, Slot: 90, BlockTime: 1678886000},
			},
		},
	}
	log := slog.New(slog.DiscardHandler)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var stops []func() error
	if withCampaignPricer {
		cs, err := conn.NewService(events.ServiceCampaign, "0.0.0-stub", log)
		must(err)
		must(bus.Handle(cs, "create", events.SubjectCampaignCreate, func(ctx context.Context, r events.CreateCampaignRequest) (events.CampaignReply, error) {
			return s.create(ctx, conn, t, r)
		}))
		must(bus.Handle(cs, "get", events.SubjectCampaignGet, s.get))
		must(bus.Handle(cs, "list", events.SubjectCampaignList, s.list))
		must(bus.Handle(cs, "update", events.SubjectCampaignUpdate, s.update))
		must(bus.Handle(cs, "cancel", events.SubjectCampaignCancel, s.cancel))
		must(bus.Handle(cs, "escrowtx", events.SubjectCampaignEscrowTx, s.escrowTx))
		must(bus.Handle(cs, "stats", events.SubjectCampaignStats, func(context.Context, events.StatsRequest) (events.StatsReply, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			n := int64(0)
			for _, c := range s.campaigns {
				if c.Status.Open() {
					n++
				}
			}
			return events.StatsReply{MonitoredCampaigns: n, TotalCampaigns: int64(len(s.campaigns)), DatabaseOK: s.dbOK}, nil
		}))
		stops = append(stops, cs.Stop)
		ps, err := conn.NewService(events.ServicePricer, "0.0.0-stub", log)
		must(err)
		must(bus.Handle(ps, "token", events.SubjectPricerToken, func(_ context.Context, r events.TokenInfoRequest) (events.TokenInfo, error) {
			if r.Mint != seedMint {
				return events.TokenInfo{}, apperr.NotFoundf("token not found")
			}
			holders := int64(12345)
			return events.TokenInfo{Version: 1, Mint: r.Mint, Name: "Karen", Symbol: "KAREN", Decimals: 6, Supply: 1_000_000_000_000_000,
				TokenProgram: "spl-token", PriceUSD: "0.05", LiquidityUSD: "1000.5", MarketCapUSD: "50000", Volume24hUSD: "12.25",
				Launchpad: "pump.fun", Source: "raydium", HoldersCount: &holders, UpdatedAt: time.Now()}, nil
		}))
		must(bus.Handle(ps, "solprice", events.SubjectPricerSOLPrice, func(context.Context, events.SOLPriceRequest) (events.SOLPrice, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.price == "" {
				return events.SOLPrice{}, apperr.NotFoundf("no SOL price yet")
			}
			return events.SOLPrice{Version: 1, USD: s.price, Source: "pyth", UpdatedAt: time.Now()}, nil
		}))
		stops = append(stops, ps.Stop)
	}
	is, err := conn.NewService(events.ServiceIndexer, "0.0.0-stub", log)
	must(err)
	must(bus.Handle(is, "balance", events.SubjectIndexerBalance, func(_ context.Context, r events.EscrowBalanceRequest) (events.EscrowBalanceReply, error) {
		return events.EscrowBalanceReply{Escrow: r.Escrow, Lamports: 2_750_000_000, Slot: 123, At: time.Now()}, nil
	}))
	must(bus.Handle(is, "health", events.SubjectIndexerHealth, func(context.Context, events.ChainHealthRequest) (events.ChainHealthReply, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return events.ChainHealthReply{OK: s.rpcOK, Slot: 123}, nil
	}))
	stops = append(stops, is.Stop)
	t.Cleanup(func() {
		for _, stop := range stops {
			_ = stop()
		}
	})
	return s
}

// env is a gateway REST API over real NATS with stub services behind it.
type env struct {
	t     testing.TB
	url   string
	stubs *stubs
	conn  *bus.Conn
	spec  *openapi3.T
	rt    routers.Router
}

type envOpts struct {
	rateLimit int
	now       func() time.Time
	// natsURL, when set, is a running server whose campaign and pricer services are real; only
	// the indexer responder is stubbed.
	natsURL string
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	url := o.natsURL
	if url == "" {
		url = natstest.Run(t).URL()
	}
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: url, Name: "gateway-test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// With real services the topology already exists on file storage, as the services make it.
	if err := conn.EnsureTopology(ctx, bus.Topology{Memory: o.natsURL == ""}); err != nil {
		t.Fatal(err)
	}
	st := startStubsFor(t, conn, o.natsURL == "")
	if o.rateLimit == 0 {
		o.rateLimit = 100000
	}
	h, err := api.New(api.NewBackend(conn, 3*time.Second), api.Options{
		AdminAPIKey: adminKey, CORSOrigins: []string{"https://app.example"}, RateLimitWritesPerMin: o.rateLimit,
		MaxBodyBytes: 4096, QRLabel: "SolCrowd Café", Version: "test", Log: log,
		Health: observe.NewHealth(), Registry: observe.NewRegistry(), Now: o.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	spec, err := api.Spec()
	if err != nil {
		t.Fatal(err)
	}
	spec.Servers = nil
	rt, err := legacy.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, url: srv.URL, stubs: st, conn: conn, spec: spec, rt: rt}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request and validates the response against the OpenAPI document: its status must
// be declared for the route and its body must match the schema.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, body: b}
	e.validate(req, r)
	return r
}

func (e *env) validate(req *http.Request, r resp) {
	e.t.Helper()
	route, params, err := e.rt.FindRoute(req)
	if err != nil {
		if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
			return // no such route: the error envelope is checked by the tests that expect it
		}
		e.t.Fatalf("%s %s: route not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  r.status,
		Header:  r.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		e.t.Fatalf("%s %s → %d does not match the OpenAPI document: %v\nbody: %.600s", req.Method, req.URL.RequestURI(), r.status, err, r.body)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
