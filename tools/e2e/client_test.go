package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gorilla/websocket"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs path from the API and decodes a 200 answer into out. Any other status is an error
// carrying the body.
func (s *stack) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api+path, nil)
	if err != nil {
		return err
	}
	return doJSON(req, out)
}

func (s *stack) postJSON(ctx context.Context, path string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.api+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return doJSON(req, out)
}

type statusError struct {
	Status int
	Body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

func doJSON(req *http.Request, out any) error {
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{Status: resp.StatusCode, Body: string(b)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(out)
}

// campaignView is the part of the API's campaign object the tests read.
type campaignView struct {
	ID                     string      `json:"id"`
	ContractAddress        string      `json:"contract_address"`
	WalletAddress          string      `json:"wallet_address"`
	Reference              string      `json:"reference"`
	Status                 string      `json:"status"`
	GoalAmount             json.Number `json:"goal_amount"`
	CurrentBalance         json.Number `json:"current_balance"`
	CurrentBalanceLamports string      `json:"current_balance_lamports"`
	SettledLamports        string      `json:"settled_lamports"`
	PendingLamports        string      `json:"pending_lamports"`
	ContributorCount       int64       `json:"contributor_count"`
	ContributionCount      int64       `json:"contribution_count"`
	Name                   string      `json:"name"`
	Symbol                 string      `json:"symbol"`
}

type campaignEnvelope struct {
	Success       bool          `json:"success"`
	CampaignID    *string       `json:"campaign_id"`
	EscrowAddress *string       `json:"escrow_address"`
	Error         any           `json:"error"`
	Campaign      *campaignView `json:"campaign"`
	Reference     string        `json:"reference"`
}

// createCampaign registers a campaign through POST /api/campaigns. escrow "" uses WALLET.
func (s *stack) createCampaign(ctx context.Context, mint, goalSOL string, expires time.Time, escrow string) campaignView {
	s.t.Helper()
	body := map[string]any{
		"contract_address": mint,
		"goal_amount":      json.Number(goalSOL),
		"expires_at":       expires.UTC().Format(time.RFC3339),
		"description":      "end-to-end test campaign",
		"social_website":   "https://example.com",
	}
	if escrow != "" {
		body["wallet_address"] = escrow
	}
	var env campaignEnvelope
	var err error
	// The pricer may still be warming up its view of the chain; creation is retried briefly.
	deadline := time.Now().Add(30 * time.Second)
	for {
		env = campaignEnvelope{}
		err = s.postJSON(ctx, "/api/campaigns", body, &env)
		if err == nil || time.Now().After(deadline) {
			break
		}
		var se *statusError
		if asStatus(err, &se) && se.Status < 500 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("create campaign for %s: %v", mint, err)
	}
	if !env.Success || env.CampaignID == nil || env.Campaign == nil {
		s.t.Fatalf("create campaign for %s: %+v", mint, env)
	}
	return *env.Campaign
}

func asStatus(err error, se **statusError) bool {
	e, ok := err.(*statusError)
	if ok {
		*se = e
	}
	return ok
}

func (s *stack) campaignDetail(ctx context.Context, mint string) (campaignView, error) {
	var env campaignEnvelope
	if err := s.getJSON(ctx, "/api/campaign-detail/"+mint, &env); err != nil {
		return campaignView{}, err
	}
	if env.Campaign == nil {
		return campaignView{}, fmt.Errorf("campaign-detail without campaign")
	}
	return *env.Campaign, nil
}

func (s *stack) campaignByID(ctx context.Context, id string) (campaignView, error) {
	var env struct {
		Campaign *campaignView `json:"campaign"`
	}
	if err := s.getJSON(ctx, "/api/campaigns/"+id, &env); err != nil {
		return campaignView{}, err
	}
	if env.Campaign == nil {
		return campaignView{}, fmt.Errorf("GET /api/campaigns/%s without campaign", id)
	}
	return *env.Campaign, nil
}

// txView is one entry of escrow-transactions.
type txView struct {
	Signature     string      `json:"signature"`
	Amount        json.Number `json:"amount"`
	AmountRaw     string      `json:"amount_raw"`
	From          string      `json:"from"`
	Timestamp     int64       `json:"timestamp"`
	TransferIndex int         `json:"transfer_index"`
	State         string      `json:"state"`
	CampaignID    *string     `json:"campaign_id"`
}

type escrowTxPage struct {
	TransactionCount int64       `json:"transactionCount"`
	Contributors     []string    `json:"contributors"`
	Transactions     []txView    `json:"transactions"`
	TotalLamports    string      `json:"total_lamports"`
	TotalSOL         json.Number `json:"total_sol"`
	NextCursor       *string     `json:"next_cursor"`
}

// ledger is the escrow's whole ledger as the API reports it.
type ledger struct {
	Count        int64
	Total        uint64
	Contributors []string
	Entries      map[string]txView // signature:transfer_index → entry
	Duplicates   []string
}

// escrowLedger reads every page of /api/escrow-transactions/<escrow>.
func (s *stack) escrowLedger(ctx context.Context, escrow string) (ledger, error) {
	l := ledger{Entries: map[string]txView{}}
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			return l, fmt.Errorf("escrow-transactions: more than 1000 pages")
		}
		path := "/api/escrow-transactions/" + escrow + "?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p escrowTxPage
		if err := s.getJSON(ctx, path, &p); err != nil {
			return l, err
		}
		if page == 0 {
			l.Count = p.TransactionCount
			l.Contributors = p.Contributors
			total, err := strconv.ParseUint(p.TotalLamports, 10, 64)
			if err != nil {
				return l, fmt.Errorf("total_lamports %q: %v", p.TotalLamports, err)
			}
			l.Total = total
		}
		for _, tx := range p.Transactions {
			k := tx.Signature + ":" + strconv.Itoa(tx.TransferIndex)
			if _, dup := l.Entries[k]; dup {
				l.Duplicates = append(l.Duplicates, k)
			}
			l.Entries[k] = tx
		}
		if p.NextCursor == nil || *p.NextCursor == "" {
			return l, nil
		}
		cursor = *p.NextCursor
	}
}

// truth is what the chain says arrived in an escrow: every successful, not dropped SOL transfer.
type truth struct {
	Count int
	Total uint64
	Sigs  map[string]uint64 // signature → lamports (one transfer per payment in these tests)
	Final bool              // every transfer finalized
}

func chainTruth(sim *soltest.Server, escrow solana.PublicKey) truth {
	tr := truth{Sigs: map[string]uint64{}, Final: true}
	for _, x := range sim.Transfers(escrow) {
		if !x.Mint.IsZero() {
			continue
		}
		tr.Count++
		tr.Total += x.Amount
		tr.Sigs[x.Signature.String()] += x.Amount
		tr.Final = tr.Final && x.Finalized
	}
	return tr
}

// compareLedger returns "" when the API's ledger of escrow is exactly the chain's truth: the same
// count and total, every successful transfer once with its exact amount, nothing else.
func compareLedger(l ledger, tr truth) string {
	var diffs []string
	if len(l.Duplicates) > 0 {
		diffs = append(diffs, fmt.Sprintf("duplicate entries %v", l.Duplicates))
	}
	if l.Count != int64(tr.Count) {
		diffs = append(diffs, fmt.Sprintf("transactionCount %d, chain %d", l.Count, tr.Count))
	}
	if l.Total != tr.Total {
		diffs = append(diffs, fmt.Sprintf("total_lamports %d, chain %d", l.Total, tr.Total))
	}
	got := map[string]uint64{}
	for _, e := range l.Entries {
		n, err := strconv.ParseUint(e.AmountRaw, 10, 64)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: amount_raw %q", e.Signature, e.AmountRaw))
		}
		got[e.Signature] += n
	}
	var missing, extra, wrong []string
	for sig, amt := range tr.Sigs {
		g, ok := got[sig]
		switch {
		case !ok:
			missing = append(missing, sig)
		case g != amt:
			wrong = append(wrong, fmt.Sprintf("%s: %d want %d", sig, g, amt))
		}
	}
	for sig := range got {
		if _, ok := tr.Sigs[sig]; !ok {
			extra = append(extra, sig)
		}
	}
	if len(missing) > 0 {
		diffs = append(diffs, fmt.Sprintf("%d missing (e.g. %s)", len(missing), first(missing)))
	}
	if len(extra) > 0 {
		diffs = append(diffs, fmt.Sprintf("%d not on chain (e.g. %s)", len(extra), first(extra)))
	}
	if len(wrong) > 0 {
		diffs = append(diffs, fmt.Sprintf("%d wrong amounts (e.g. %s)", len(wrong), first(wrong)))
	}
	return strings.Join(diffs, "; ")
}

func first(s []string) string {
	sort.Strings(s)
	return s[0]
}

// waitLedger polls until the API's ledger of escrow equals the chain's truth (taken anew on every
// poll), or fails the test with the last difference.
func (s *stack) waitLedger(escrow solana.PublicKey, within time.Duration) ledger {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last string
	for {
		l, err := s.escrowLedger(ctx, escrow.String())
		if err == nil {
			if last = compareLedger(l, chainTruth(s.sim, escrow)); last == "" {
				return l
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			s.checkAlive()
			s.t.Fatalf("ledger of %s never matched the chain within %s: %s", escrow, within, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// eventually polls f until it returns nil or fails the test with its last error.
func eventually(t *testing.T, within time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, within, err)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// payment builds one signed System transfer. With ref set, the reference is appended as an extra
// read-only, non-signer key of the transfer instruction, as Solana Pay wallets do.
func payment(bh solana.Hash, payer solana.PrivateKey, to solana.PublicKey, lamports uint64, ref *solana.PublicKey) *solana.Transaction {
	var ix solana.Instruction = system.NewTransferInstruction(lamports, payer.PublicKey(), to).Build()
	if ref != nil {
		data, err := ix.Data()
		if err != nil {
			panic(err) // a system transfer always encodes
		}
		ix = solana.NewInstruction(ix.ProgramID(), append(ix.Accounts(), solana.Meta(*ref)), data)
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, bh, solana.TransactionPayer(payer.PublicKey()))
	if err != nil {
		panic(err)
	}
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		if k.Equals(payer.PublicKey()) {
			return &payer
		}
		return nil
	}); err != nil {
		panic(err)
	}
	return tx
}

// fundedPayers makes n wallets holding lamports each.
func fundedPayers(sim *soltest.Server, n int, lamports uint64) []solana.PrivateKey {
	out := make([]solana.PrivateKey, n)
	for i := range out {
		out[i] = solana.NewWallet().PrivateKey
		sim.Airdrop(out[i].PublicKey(), lamports)
	}
	return out
}

// wsClient is a WebSocket client of the gateway that records every frame.
type wsClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	got  []wsFrame
	err  error
	more chan struct{}
}

type wsFrame struct {
	Type    string          `json:"type"`
	Channel string          `json:"channel"`
	Stream  string          `json:"stream"`
	Seq     uint64          `json:"seq"`
	Subject string          `json:"subject"`
	Event   json.RawMessage `json:"event"`
	Action  string          `json:"action"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// dialWS connects and subscribes to channels, waiting for the ack.
func (s *stack) dialWS(channels ...string) *wsClient {
	s.t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(s.ws, nil)
	if err != nil {
		s.t.Fatalf("dial %s: %v", s.ws, err)
	}
	c := &wsClient{conn: conn, more: make(chan struct{}, 1)}
	s.t.Cleanup(func() { conn.Close() })
	go c.read()
	if err := conn.WriteJSON(map[string]any{"type": "subscribe", "channels": channels}); err != nil {
		s.t.Fatal(err)
	}
	c.wait(s.t, 10*time.Second, "subscribe ack", func(fs []wsFrame) bool {
		for _, f := range fs {
			if f.Type == "ack" {
				return true
			}
			if f.Type == "error" {
				s.t.Fatalf("subscribe: %s %s", f.Code, f.Message)
			}
		}
		return false
	})
	return c
}

func (c *wsClient) read() {
	for {
		_, b, err := c.conn.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.mu.Unlock()
			c.signal()
			return
		}
		var f wsFrame
		if json.Unmarshal(b, &f) == nil {
			c.got = append(c.got, f)
		}
		c.mu.Unlock()
		c.signal()
	}
}

func (c *wsClient) signal() {
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *wsClient) frames() []wsFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wsFrame(nil), c.got...)
}

// wait blocks until ok accepts the frames received so far.
func (c *wsClient) wait(t *testing.T, within time.Duration, what string, ok func([]wsFrame) bool) {
	t.Helper()
	timeout := time.After(within)
	for {
		if ok(c.frames()) {
			return
		}
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err != nil {
			t.Fatalf("websocket closed while waiting for %s: %v", what, err)
		}
		select {
		case <-c.more:
		case <-timeout:
			t.Fatalf("websocket: no %s within %s (%d frames)", what, within, len(c.frames()))
		}
	}
}
