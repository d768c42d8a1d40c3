package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"github.com/solcrowd/backend/libs/solana/txparse"
)

// sigState is where one signature is in the pipeline.
type sigState int

const (
	stateInflight sigState = iota // being fetched and published
	stateTracking                 // confirmed events acked; waiting for finality
	stateDone                     // terminal events acked (or nothing to publish)
	stateParked                   // undecodable; recorded in KV, not retried
)

type sigEntry struct {
	state sigState
	slot  uint64
	at    time.Time
}

// sigTable deduplicates signatures across the live path, polling and backfill: a signature is
// fetched by whoever claims it first, once.
type sigTable struct {
	mu sync.Mutex
	m  map[string]*sigEntry
}

func newSigTable() *sigTable { return &sigTable{m: map[string]*sigEntry{}} }

// claim marks sig in flight and reports true when the caller must process it.
func (t *sigTable) claim(sig string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[sig]; ok {
		return false
	}
	t.m[sig] = &sigEntry{state: stateInflight, at: time.Now()}
	return true
}

func (t *sigTable) set(sig string, s sigState, slot uint64) {
	t.mu.Lock()
	t.m[sig] = &sigEntry{state: s, slot: slot, at: time.Now()}
	t.mu.Unlock()
}

// release forgets a signature whose processing failed, so a later pass retries it.
func (t *sigTable) release(sig string) {
	t.mu.Lock()
	delete(t.m, sig)
	t.mu.Unlock()
}

func (t *sigTable) state(sig string) (sigState, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[sig]
	if !ok {
		return 0, false
	}
	return e.state, true
}

// prune forgets terminal signatures older than age; backfill never lists them again because
// the checkpoint has passed them.
func (t *sigTable) prune(age time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cut := time.Now().Add(-age)
	for k, e := range t.m {
		if (e.state == stateDone || e.state == stateParked) && e.at.Before(cut) {
			delete(t.m, k)
		}
	}
}

// errNotYet means the transaction is not (yet) readable; the signature is left for a later pass.
var errNotYet = errors.New("transaction not available yet")

// ParkedTx is the INDEXER entry under "parked.<signature>" for a transaction the indexer could
// not decode. Operators inspect these; a restart with a newer INDEXER_MAX_TX_VERSION retries them.
type ParkedTx struct {
	Version   int       `json:"version"`
	Signature string    `json:"signature"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

func keyParked(sig string) string { return "parked." + sig }

// process fetches, parses and publishes one signature unless another path already has it.
// It returns errNotYet (or another error) when the signature must be retried later.
func (ix *Indexer) process(ctx context.Context, sig string, fromNotification bool) error {
	if !ix.sigs.claim(sig) {
		return nil
	}
	st, slot, err := ix.handle(ctx, sig, fromNotification)
	if err != nil {
		ix.sigs.release(sig)
		return err
	}
	ix.sigs.set(sig, st, slot)
	return nil
}

func (ix *Indexer) handle(ctx context.Context, sig string, fromNotification bool) (sigState, uint64, error) {
	raw, err := ix.fetch(ctx, sig, fromNotification)
	if err != nil {
		if solrpc.Permanent(err) {
			return ix.park(ctx, sig, err)
		}
		return 0, 0, err
	}
	snap := ix.watch.snapshot()
	tx, err := txparse.Parse(raw, snap.watch)
	switch {
	case errors.Is(err, txparse.ErrNotFound):
		return 0, 0, errNotYet
	case err != nil:
		return ix.park(ctx, sig, err)
	}
	if tx.Failed || len(tx.Transfers) == 0 {
		return stateDone, tx.Slot, nil
	}
	ix.crossCheck(tx)
	now := time.Now().UTC()
	contribs := make([]events.Contribution, 0, len(tx.Transfers))
	for _, t := range tx.Transfers {
		campaign, ref := snap.attribute(t.Escrow, tx.References)
		c := events.Contribution{
			Version: events.Version, State: events.StateConfirmed,
			Signature: tx.Signature, TransferIndex: t.Index,
			Escrow: t.Escrow, Payer: t.Payer, Amount: t.Amount, Mint: t.Mint, Decimals: t.Decimals,
			TokenAccount: t.TokenAccount, Memo: tx.Memo, Reference: ref, CampaignID: campaign,
			Slot: tx.Slot, BlockTime: tx.BlockTime, Observed: now,
		}
		if err := ix.publish(ctx, c); err != nil {
			return 0, 0, err
		}
		contribs = append(contribs, c)
	}
	ix.fin.track(sig, tx.Slot, contribs)
	return stateTracking, tx.Slot, nil
}

// fetch reads the raw getTransaction result. Right after a notification the node may not serve
// the transaction yet; a null answer is retried with backoff a bounded number of times.
func (ix *Indexer) fetch(ctx context.Context, sig string, fromNotification bool) (json.RawMessage, error) {
	s, err := solana.SignatureFromBase58(sig)
	if err != nil {
		return nil, fmt.Errorf("signature %q: %w", sig, err)
	}
	opts := map[string]any{"encoding": solana.EncodingJSONParsed, "commitment": ix.cfg.Commitment}
	if v, err := strconv.ParseUint(ix.cfg.MaxTxVersion, 10, 8); err == nil {
		opts["maxSupportedTransactionVersion"] = v
	}
	params := []any{s.String(), opts}
	tries := 1
	if fromNotification {
		tries += ix.cfg.NullRetries
	}
	delay := 50 * time.Millisecond
	for i := 0; ; i++ {
		var raw json.RawMessage
		if err := ix.rpc.RPCCallForInto(ctx, &raw, "getTransaction", params); err != nil {
			return nil, err
		}
		if len(raw) > 0 && string(raw) != "null" {
			return raw, nil
		}
		if i+1 >= tries {
			return nil, errNotYet
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay + rand.N(delay)):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// park records an undecodable transaction durably and counts it; it is never retried in a loop.
func (ix *Indexer) park(ctx context.Context, sig string, cause error) (sigState, uint64, error) {
	ix.log.Error("parking undecodable transaction", "signature", sig, "err", cause)
	ix.m.parked.Inc()
	ix.m.nParked.Add(1)
	data, _ := json.Marshal(ParkedTx{Version: events.Version, Signature: sig, Reason: cause.Error(), At: time.Now().UTC()})
	if _, err := ix.kv.Put(ctx, keyParked(sig), data); err != nil {
		return 0, 0, fmt.Errorf("record parked %s: %w", sig, err)
	}
	return stateParked, 0, nil
}

// crossCheck compares the parsed SOL flows with each escrow's balance delta.
func (ix *Indexer) crossCheck(tx *txparse.Tx) {
	for _, b := range tx.Balances {
		if !b.Consistent(tx.Fee) {
			ix.m.mismatch.Inc()
			ix.log.Warn("escrow balance delta does not match parsed transfers", "signature", tx.Signature,
				"escrow", b.Escrow, "pre", b.Pre, "post", b.Post, "sol_in", b.SOLIn, "sol_out", b.SOLOut)
		}
	}
}

// publish stores one contribution event, retrying until JetStream acknowledges it.
func (ix *Indexer) publish(ctx context.Context, c events.Contribution) error {
	start := time.Now()
	if _, err := ix.bus.PublishJSON(ctx, c.State.Subject(), c.MsgID(), c); err != nil {
		return err
	}
	ix.m.publishSec.Observe(time.Since(start).Seconds())
	ix.m.published.WithLabelValues(string(c.State)).Inc()
	ix.m.nPublished.Add(1)
	return nil
}

// forgetDone forgets signatures that finished with nothing published, so that a newly watched
// escrow's backfill re-reads a transaction that paid it before it was watched.
func (t *sigTable) forgetDone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range t.m {
		if e.state == stateDone {
			delete(t.m, k)
		}
	}
}
