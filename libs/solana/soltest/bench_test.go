package soltest_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gorilla/websocket"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// presigned builds n distinct signed transfers from one funded payer to one funded recipient.
func presigned(b *testing.B, c *soltest.Chain, n int) [][]byte {
	payer, dest := newKey(b), newKey(b).PublicKey()
	c.SetAccount(payer.PublicKey(), soltest.Account{Lamports: 1 << 60, Owner: solana.SystemProgramID})
	c.SetAccount(dest, soltest.Account{Lamports: 1_000_000_000, Owner: solana.SystemProgramID})
	bh := c.LatestBlockhash()
	out := make([][]byte, n)
	for i := range out {
		tx := signTx(b, []solana.Instruction{transferIx(payer.PublicKey(), dest, uint64(i+1))}, bh, payer)
		out[i], _ = tx.MarshalBinary()
	}
	return out
}

// BenchmarkSubmitTransfers measures in-process throughput of simple signed transfers
// (signature verification, execution, recording, processed-level notification routing).
func BenchmarkSubmitTransfers(b *testing.B) {
	c := soltest.New(soltest.Config{})
	defer c.Close()
	raws := presigned(b, c, b.N)
	txs := make([]*solana.Transaction, len(raws))
	for i, r := range raws {
		txs[i], _ = solana.TransactionFromBytes(r)
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Submit(txs[next.Add(1)-1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkSendTransactionHTTP measures the same over JSON-RPC with solana-go's client.
func BenchmarkSendTransactionHTTP(b *testing.B) {
	s := soltest.NewServer(b, soltest.Config{})
	raws := presigned(b, s.Chain, b.N)
	cl := rpc.New(s.URL)
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cl.SendRawTransactionWithOpts(context.Background(), raws[next.Add(1)-1], rpc.TransactionOpts{SkipPreflight: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkNotifications measures delivered PubSub notifications per second: 20 WebSocket
// clients each hold a processed logsSubscribe("all"), so every transfer fans out 20 frames.
func BenchmarkNotifications(b *testing.B) {
	const subscribers = 20
	s := soltest.NewServer(b, soltest.Config{})
	txCount := b.N/subscribers + 1
	raws := presigned(b, s.Chain, txCount)
	var got atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, subscribers)
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial(s.WSURL, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
		conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"logsSubscribe","params":["all",{"commitment":"processed"}]}`))
		var r struct{ Result uint64 }
		if err := conn.ReadJSON(&r); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if len(msg) > 0 && json.Valid(msg[:1]) || len(msg) > 0 {
					got.Add(1)
				}
			}
		}()
	}
	want := int64(txCount * subscribers)
	b.ResetTimer()
	for _, r := range raws {
		tx, _ := solana.TransactionFromBytes(r)
		if _, err := s.Submit(tx); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	if got.Load() < want {
		b.Fatalf("delivered %d of %d notifications", got.Load(), want)
	}
	b.ReportMetric(float64(want)/b.Elapsed().Seconds(), "notifications/s")
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}
