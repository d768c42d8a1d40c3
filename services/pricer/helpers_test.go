package pricer

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

const (
	goobergMint = "BghihYzykKNX1dMyS1snAR266G8czLi28xFK45ShCiMB"
	goobergURI  = "https://nftstorage.link/ipfs/bafybeid3vxffm77zjc2ezlzxlkejusjjpsaiiym2qbhjb2tgetqspwr7kq/2235.json"
	wsolMint    = "So11111111111111111111111111111111111111112"
	pythAccount = "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"
	// pythPublish is publish_time of the recorded Pyth account.
	pythPublish = 1787392706
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// chain starts the simulator with the recorded accounts plus mint accounts for the Gooberg NFT
// (whose Metaplex metadata is recorded) and wrapped SOL (whose DexScreener answer is recorded).
func chain(t *testing.T) *soltest.Server {
	t.Helper()
	s := soltest.NewServer(t, soltest.Config{LoadFixtures: true})
	s.SetAccount(solana.MustPublicKeyFromBase58(goobergMint), soltest.Account{Lamports: 1461600, Owner: solana.TokenProgramID, Data: mintData(1, 0)})
	s.SetAccount(solana.MustPublicKeyFromBase58(wsolMint), soltest.Account{Lamports: 1461600, Owner: solana.TokenProgramID, Data: mintData(0, 9)})
	return s
}

// mintData is an initialized 82-byte SPL mint.
func mintData(supply uint64, decimals uint8) []byte {
	d := make([]byte, 82)
	binary.LittleEndian.PutUint64(d[36:], supply)
	d[44] = decimals
	d[45] = 1
	return d
}

func rpcFor(s *soltest.Server) *solrpc.Client {
	return solrpc.New(s.URL, solrpc.Options{RPS: 1000, MaxAttempts: 1, Timeout: 2 * time.Second})
}

// upstream is a local HTTP server replaying a response (switchable), counting requests per path.
type upstream struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	body   []byte
	header http.Header
	delay  time.Duration
	hits   atomic.Int64
}

func newUpstream(t *testing.T, status int, body []byte) *upstream {
	t.Helper()
	u := &upstream{status: status, body: body, header: http.Header{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		status, body, delay := u.status, u.body, u.delay
		for k, v := range u.header {
			w.Header()[k] = v
		}
		u.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(status int, body string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.body = status, []byte(body)
}

// pricesKV starts an embedded JetStream server and returns the PRICES bucket and the connection.
func pricesKV(t *testing.T) (jetstream.KeyValue, *bus.Conn, string) {
	t.Helper()
	ns := natstest.Run(t)
	ctx := context.Background()
	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: ns.URL(), Name: "test"}, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.EnsureTopology(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	kv, err := conn.KV(ctx, "PRICES")
	if err != nil {
		t.Fatal(err)
	}
	return kv, conn, ns.URL()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
