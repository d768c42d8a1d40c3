package indexer

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/events"
	"golang.org/x/sync/errgroup"
)

// maxStatusBatch is getSignatureStatuses' limit of signatures per call.
const maxStatusBatch = 256

type pendingTx struct {
	sig      string
	slot     uint64
	contribs []events.Contribution
}

// finality follows confirmed transactions until they are finalized or dropped. It polls
// getSignatureStatuses in batches only while something is pending.
type finality struct {
	ix *Indexer

	mu      sync.Mutex
	pending map[string]*pendingTx
	wake    chan struct{}
}

func newFinality(ix *Indexer) *finality {
	return &finality{ix: ix, pending: map[string]*pendingTx{}, wake: make(chan struct{}, 1)}
}

func (f *finality) track(sig string, slot uint64, contribs []events.Contribution) {
	f.mu.Lock()
	if _, ok := f.pending[sig]; !ok {
		f.pending[sig] = &pendingTx{sig: sig, slot: slot, contribs: contribs}
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *finality) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

func (f *finality) run(ctx context.Context) error {
	t := time.NewTicker(f.ix.cfg.FinalityInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-f.wake:
			// A new pending transaction does not need checking before the next tick.
			continue
		}
		if err := f.round(ctx); err != nil && ctx.Err() == nil {
			f.ix.log.Warn("finality round failed; retrying next tick", "err", err)
		}
	}
}

// round checks every pending transaction once.
func (f *finality) round(ctx context.Context) error {
	f.mu.Lock()
	list := make([]*pendingTx, 0, len(f.pending))
	for _, p := range f.pending {
		list = append(list, p)
	}
	f.mu.Unlock()
	if len(list) == 0 {
		return nil
	}
	sort.Slice(list, func(i, j int) bool { return list[i].slot < list[j].slot })
	// The slot is read before the statuses: a transaction missing from statuses read after this
	// slot really was missing when the chain had reached it.
	current, err := f.ix.rpc.GetSlot(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return err
	}
	for start := 0; start < len(list); start += maxStatusBatch {
		batch := list[start:min(start+maxStatusBatch, len(list))]
		sigs := make([]solana.Signature, 0, len(batch))
		for _, p := range batch {
			s, err := solana.SignatureFromBase58(p.sig)
			if err != nil {
				continue
			}
			sigs = append(sigs, s)
		}
		res, err := f.ix.rpc.GetSignatureStatuses(ctx, true, sigs...)
		if err != nil {
			return err
		}
		// Settle the batch's decided transactions in parallel: each publish waits for its ack.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(f.ix.cfg.FetchWorkers)
		for i, p := range batch {
			var st *rpc.SignatureStatusesResult
			if res != nil && i < len(res.Value) {
				st = res.Value[i]
			}
			var state events.ContributionState
			switch {
			case st != nil && st.ConfirmationStatus == rpc.ConfirmationStatusFinalized:
				state = events.StateFinalized
			case current > p.slot+f.ix.cfg.DropAfterSlots && (st == nil || st.Err != nil):
				// Past its blockhash lifetime and margin without being on the chain: it can
				// never land again.
				state = events.StateDropped
			default:
				continue
			}
			g.Go(func() error { return f.settle(gctx, p, state) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

func (f *finality) settle(ctx context.Context, p *pendingTx, state events.ContributionState) error {
	now := time.Now().UTC()
	for _, c := range p.contribs {
		c.State = state
		c.Observed = now
		if err := f.ix.publish(ctx, c); err != nil {
			return err
		}
	}
	f.mu.Lock()
	delete(f.pending, p.sig)
	f.mu.Unlock()
	f.ix.sigs.set(p.sig, stateDone, p.slot)
	return nil
}
