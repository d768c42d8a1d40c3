package soltest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
	"github.com/gagliardetto/solana-go/rpc/ws"
	"github.com/gorilla/websocket"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

func TestFaultRateLimitHTTP429(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	s.Faults().SetRateLimitEvery(2, soltest.RateLimitHTTP)
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	if _, err := cl.GetSlot(ctx, ""); err != nil {
		t.Fatalf("1st request: %v", err)
	}
	_, err := cl.GetSlot(ctx, "")
	var re *jsonrpc.RPCError
	if !errors.As(err, &re) || re.Code != 429 {
		t.Fatalf("2nd request: %v", err)
	}
	resp, err := http.Post(s.URL, "application/json", bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"getSlot"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Post(s.URL, "application/json", bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"getSlot"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Per-second limit: at most 2 pass per second, so 6 quick calls see refusals.
	s.Faults().Reset()
	s.Faults().SetRateLimit(2, soltest.RateLimitHTTP)
	var refused int
	for i := 0; i < 6; i++ {
		if _, err := cl.GetSlot(ctx, ""); err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("rps limit refused nothing")
	}
}

func TestFaultRateLimitJSONRPC429(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	s.Faults().SetRateLimitEvery(1, soltest.RateLimitJSONRPC)
	resp, err := http.Post(s.URL, "application/json", bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"getSlot"}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Error struct{ Code int } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&env)
	if resp.StatusCode != 200 || env.Error.Code != 429 {
		t.Fatalf("status %d code %d", resp.StatusCode, env.Error.Code)
	}
	_, err = rpc.New(s.URL).GetSlot(ctxT(t), "")
	var re *jsonrpc.RPCError
	if !errors.As(err, &re) || re.Code != 429 {
		t.Fatalf("solana-go saw %v", err)
	}
	if s.Calls()["getSlot"] != 2 {
		t.Fatalf("calls %v", s.Calls())
	}
}

func TestFaultLatency(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	s.Faults().SetLatency(150 * time.Millisecond)
	start := time.Now()
	if _, err := rpc.New(s.URL).GetHealth(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
}

func TestFaultDropConnections(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	_, w := clients(t, s)
	sub, err := w.SlotSubscribe()
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	if n := s.Faults().DropConnections(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if _, err := sub.Recv(ctxT(t)); err == nil {
		t.Fatal("subscription survived a dropped connection")
	}
	waitSubs(t, s, 0)
	// New connections work afterwards.
	w2, err := ws.Connect(ctxT(t), s.WSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	sub2, err := w2.SlotSubscribe()
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	s.Advance(1)
	if n, err := sub2.Recv(ctxT(t)); err != nil || n.Slot != s.Slot(rpc.CommitmentProcessed) {
		t.Fatalf("slot notification %+v %v", n, err)
	}
}

func TestFaultSilentSocket(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}`))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	pong := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	s.Faults().SetSilent(true)
	s.Advance(3)
	conn.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, msg, err := conn.ReadMessage()
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("silent socket delivered %q / %v", msg, err)
	}
	select {
	case <-pong:
		t.Fatal("silent socket answered a ping")
	default:
	}
}

func TestFaultSilentSocketAnswersPingsWhenLoud(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pong := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	conn.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	go conn.ReadMessage() // pong handlers run inside reads
	select {
	case <-pong:
	case <-time.After(2 * time.Second):
		t.Fatal("no pong")
	}
}

func TestFaultSkipNotificationsLeavesBackfill(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 10_000_000)
	sub, err := w.LogsSubscribeMentions(dest, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	skipped := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer)
	s.Faults().SkipNotifications(skipped.Signatures[0])
	if _, err := s.Submit(skipped); err != nil {
		t.Fatal(err)
	}
	seen := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 2_000_000)}, s.LatestBlockhash(), payer)
	if _, err := s.Submit(seen); err != nil {
		t.Fatal(err)
	}
	s.Advance(1)
	n, err := sub.Recv(ctx)
	if err != nil || n.Value.Signature != seen.Signatures[0] {
		t.Fatalf("first notification %+v %v (the skipped one must not arrive)", n, err)
	}
	sigs, err := cl.GetSignaturesForAddressWithOpts(ctx, dest, &rpc.GetSignaturesForAddressOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil || len(sigs) != 2 || sigs[1].Signature != skipped.Signatures[0] {
		t.Fatalf("backfill %+v %v", sigs, err)
	}
}

func TestFaultHistoryLag(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl := rpc.New(s.URL)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 10_000_000)
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer)
	if _, err := s.Submit(tx); err != nil {
		t.Fatal(err)
	}
	s.Advance(1)
	s.Faults().SetHistoryLag(10)
	opts := &rpc.GetSignaturesForAddressOpts{Commitment: rpc.CommitmentConfirmed}
	if sigs, err := cl.GetSignaturesForAddressWithOpts(ctx, dest, opts); err != nil || len(sigs) != 0 {
		t.Fatalf("lagging node answered %+v %v", sigs, err)
	}
	s.Advance(10)
	if sigs, err := cl.GetSignaturesForAddressWithOpts(ctx, dest, opts); err != nil || len(sigs) != 1 {
		t.Fatalf("after catching up: %+v %v", sigs, err)
	}
}

func TestFaultForkDrop(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	cl, w := clients(t, s)
	ctx := ctxT(t)
	payer, dest := newKey(t), newKey(t).PublicKey()
	s.Airdrop(payer.PublicKey(), 10_000_000)
	tx := signTx(t, []solana.Instruction{transferIx(payer.PublicKey(), dest, 1_000_000)}, s.LatestBlockhash(), payer)
	fin, err := w.SignatureSubscribe(tx.Signatures[0], rpc.CommitmentFinalized)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(t, s, 1)
	sig, err := s.Submit(tx)
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(1)
	st, _ := cl.GetSignatureStatuses(ctx, false, sig)
	if st.Value[0] == nil || st.Value[0].ConfirmationStatus != rpc.ConfirmationStatusConfirmed {
		t.Fatalf("before the fork: %+v", st.Value[0])
	}
	if err := s.Faults().ForkDrop(sig); err != nil {
		t.Fatal(err)
	}
	s.Advance(40)
	st, _ = cl.GetSignatureStatuses(ctx, true, sig)
	if st.Value[0] != nil {
		t.Fatalf("dropped tx still has a status: %+v", st.Value[0])
	}
	if tr, err := cl.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Commitment: rpc.CommitmentConfirmed}); tr != nil || !errors.Is(err, rpc.ErrNotFound) {
		t.Fatalf("dropped tx served: %v %v", tr, err)
	}
	if b, _ := cl.GetBalance(ctx, dest, rpc.CommitmentFinalized); b.Value != 0 || s.Balance(payer.PublicKey()) != 10_000_000 {
		t.Fatalf("balances not reverted: dest %d payer %d", b.Value, s.Balance(payer.PublicKey()))
	}
	if len(s.Transfers(dest)) != 0 {
		t.Fatal("dropped transfer listed")
	}
	rctx, cancel := ctxWithTimeout(200 * time.Millisecond)
	defer cancel()
	if n, err := fin.Recv(rctx); err == nil {
		t.Fatalf("dropped tx finalized: %+v", n)
	}
	if err := s.Faults().ForkDrop(sig); err == nil {
		t.Fatal("dropping twice succeeded")
	}
}

func TestFaultSubscribeDisabled(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	s.Faults().SetSubscribeDisabled(true)
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":3,"method":"logsSubscribe","params":["all"]}`))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil || string(msg) != `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":3}` {
		t.Fatalf("got %s %v", msg, err)
	}
}

func TestControlEndpoint(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	post := func(path, body string) *http.Response {
		resp, err := http.Post(s.URL+"/control/"+path, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if r := post("advance", `{"slots":5}`); r.StatusCode != 200 || s.Slot(rpc.CommitmentProcessed) != 6 {
		t.Fatalf("advance: %d slot %d", r.StatusCode, s.Slot(rpc.CommitmentProcessed))
	}
	if r := post("faults", `{"rateLimitEvery":1,"rateLimitMode":"jsonrpc"}`); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	if _, err := rpc.New(s.URL).GetSlot(ctxT(t), ""); err == nil {
		t.Fatal("rate limit from the control endpoint not applied")
	}
	post("faults/reset", "")
	if _, err := rpc.New(s.URL).GetSlot(ctxT(t), ""); err != nil {
		t.Fatal(err)
	}
	if r := post("faults", `{"rateLimitMode":"bogus"}`); r.StatusCode != 400 {
		t.Fatalf("bad mode accepted: %d", r.StatusCode)
	}
	resp, err := http.Get(s.URL + "/control/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls map[string]int64
	json.NewDecoder(resp.Body).Decode(&calls)
	if calls["getSlot"] != 2 {
		t.Fatalf("calls %v", calls)
	}
	post("calls/reset", "")
	if len(s.Calls()) != 0 {
		t.Fatal("reset kept counters")
	}
	if r := post("replay", `{"fixture":"no-such.json"}`); r.StatusCode != 400 {
		t.Fatalf("unknown fixture: %d", r.StatusCode)
	}
	if r := post("replay", `{"fixture":"logsnotification-pump-buy.json"}`); r.StatusCode != 200 {
		t.Fatalf("replay: %d", r.StatusCode)
	}
	if r := post("fork-drop", `{"signature":"1111111111111111111111111111111111111111111111111111111111111111"}`); r.StatusCode != 409 {
		t.Fatalf("fork-drop of an unknown signature: %d", r.StatusCode)
	}
	if r := post("skip-notifications", `{"signatures":["nope"]}`); r.StatusCode != 400 {
		t.Fatalf("bad signature accepted: %d", r.StatusCode)
	}
	if r := post("drop-connections", ""); r.StatusCode != 200 {
		t.Fatalf("drop-connections: %d", r.StatusCode)
	}
	if r := post("advance", `{"slots":0}`); r.StatusCode != 400 {
		t.Fatalf("advance 0 accepted: %d", r.StatusCode)
	}
	pk := newKey(t).PublicKey()
	if r := post("airdrop", `{"address":"`+pk.String()+`","lamports":5000000}`); r.StatusCode != 200 || s.Balance(pk) != 5_000_000 {
		t.Fatalf("airdrop %d %d", r.StatusCode, s.Balance(pk))
	}
}

func TestBatchAndUnknownMethod(t *testing.T) {
	s := soltest.NewServer(t, soltest.Config{})
	resp, err := http.Post(s.URL, "application/json", bytes.NewReader([]byte(`[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"nope"}]`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out) != 2 || out[0]["result"] == nil || out[1]["error"].(map[string]any)["code"].(float64) != -32601 {
		t.Fatalf("batch %+v", out)
	}
}
