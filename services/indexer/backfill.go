package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/solcrowd/backend/libs/events"
)

// historyPage is getSignaturesForAddress' maximum page size.
const historyPage = 1000

// backfiller runs getSignaturesForAddress passes for escrows that asked for one (start,
// reconnect, polling, safety timer). Requests for the same escrow coalesce.
type backfiller struct {
	ix *Indexer

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func newBackfiller(ix *Indexer) *backfiller {
	return &backfiller{ix: ix, pending: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// kick asks for a backfill of escrows.
func (b *backfiller) kick(escrows ...string) {
	if len(escrows) == 0 {
		return
	}
	b.mu.Lock()
	for _, e := range escrows {
		b.pending[e] = true
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *backfiller) next() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for e := range b.pending {
		delete(b.pending, e)
		return e, true
	}
	return "", false
}

func (b *backfiller) run(ctx context.Context) error {
	safety := time.NewTicker(b.ix.cfg.BackfillInterval)
	defer safety.Stop()
	for {
		for {
			escrow, ok := b.next()
			if !ok {
				break
			}
			if !b.ix.watch.has(escrow) {
				continue
			}
			if err := b.ix.backfill(ctx, escrow); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				b.ix.log.Warn("backfill incomplete; will retry", "escrow", escrow, "err", err)
				// Retry on the next poll or safety tick rather than in a tight loop.
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
		case <-safety.C:
			b.ix.sigs.prune(10 * b.ix.cfg.BackfillInterval)
			b.kick(b.ix.watch.escrows()...)
		}
	}
}

// loadCheckpoint reads an escrow's checkpoint; a missing key is the zero checkpoint.
func (ix *Indexer) loadCheckpoint(ctx context.Context, escrow string) (events.Checkpoint, uint64, error) {
	e, err := ix.kv.Get(ctx, events.KeyCheckpoint(escrow))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.Checkpoint{}, 0, nil
	}
	if err != nil {
		return events.Checkpoint{}, 0, err
	}
	var cp events.Checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		// A corrupt checkpoint is rewritten by the next advance; start over rather than stop.
		ix.log.Error("checkpoint unreadable; backfilling full history", "escrow", escrow, "err", err)
		return events.Checkpoint{}, e.Revision(), nil
	}
	return cp, e.Revision(), nil
}

// saveCheckpoint moves the checkpoint forward to cp, never backward: compare-and-set against the
// revision read, re-reading on conflict (another indexer instance may have moved it).
func (ix *Indexer) saveCheckpoint(ctx context.Context, cp events.Checkpoint) error {
	for range 5 {
		cur, rev, err := ix.loadCheckpoint(ctx, cp.Escrow)
		if err != nil {
			return err
		}
		if cur.Signature == cp.Signature || (cur.Signature != "" && cur.Slot > cp.Slot) {
			return nil // already there or further
		}
		data, _ := json.Marshal(cp)
		if rev == 0 {
			_, err = ix.kv.Create(ctx, events.KeyCheckpoint(cp.Escrow), data)
		} else {
			_, err = ix.kv.Update(ctx, events.KeyCheckpoint(cp.Escrow), data, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
	}
	return fmt.Errorf("checkpoint %s: too many concurrent updates", cp.Escrow)
}

// backfill lists the escrow's signatures newer than its checkpoint, processes them oldest first
// and moves the checkpoint over the longest prefix whose events are all acknowledged and final.
func (ix *Indexer) backfill(ctx context.Context, escrow string) error {
	pk, err := solana.PublicKeyFromBase58(escrow)
	if err != nil {
		return err
	}
	cp, _, err := ix.loadCheckpoint(ctx, escrow)
	if err != nil {
		return err
	}
	var until solana.Signature
	if cp.Signature != "" {
		until, _ = solana.SignatureFromBase58(cp.Signature)
	}
	var entries []*rpc.TransactionSignature
	var before solana.Signature
	for {
		opts := &rpc.GetSignaturesForAddressOpts{Limit: ptr(historyPage), Commitment: commitment(ix.cfg.Commitment), Until: until, Before: before}
		page, err := ix.rpc.GetSignaturesForAddressWithOpts(ctx, pk, opts)
		if err != nil {
			return err
		}
		passed := false
		for _, e := range page {
			if cp.Signature != "" && (e.Signature.String() == cp.Signature || e.Slot < cp.Slot) {
				// Older than the checkpoint: a lagging node's page, or we are past it. Nothing
				// before the checkpoint is touched again.
				passed = true
				break
			}
			entries = append(entries, e)
		}
		if passed || len(page) < historyPage {
			break
		}
		before = page[len(page)-1].Signature
	}
	// Oldest first: the RPC lists newest first.
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	passStart := time.Now()
	defer func() {
		ix.log.Debug("backfill pass", "escrow", escrow, "listed", len(entries), "took", time.Since(passStart))
	}()
	// Fetch and publish with FetchWorkers in parallel; order matters only for the checkpoint,
	// which is computed afterwards over the oldest-first list.
	sem := make(chan struct{}, ix.cfg.FetchWorkers)
	var wg sync.WaitGroup
	for _, e := range entries {
		sig := e.Signature.String()
		if _, known := ix.sigs.state(sig); !known {
			ix.m.backfilled.Inc()
			ix.m.nBackfilled.Add(1)
		}
		if e.Err != nil {
			// Failed transactions are never credited; nothing to fetch.
			if ix.sigs.claim(sig) {
				ix.sigs.set(sig, stateDone, e.Slot)
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := ix.process(ctx, sig, false); err != nil && ctx.Err() == nil {
				ix.log.Warn("backfill could not process signature; checkpoint stops before it", "signature", sig, "err", err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The checkpoint moves over the longest oldest-first prefix whose events are acknowledged and
	// whose finality is settled (finalized, dropped, nothing to publish, or parked).
	var newest *rpc.TransactionSignature
	for _, e := range entries {
		st, ok := ix.sigs.state(e.Signature.String())
		if !ok || (st != stateDone && st != stateParked) {
			break
		}
		newest = e
	}
	if newest != nil {
		return ix.saveCheckpoint(ctx, events.Checkpoint{Version: events.Version, Escrow: escrow, Signature: newest.Signature.String(), Slot: newest.Slot})
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
