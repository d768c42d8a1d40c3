package indexer

import (
	"context"
	"errors"
	"time"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
)

// balanceTTL is how long a live balance is reused: the reply promises at most a second.
const balanceTTL = time.Second

func (ix *Indexer) registerHandlers(svc *bus.Service) error {
	return errors.Join(
		bus.Handle(svc, "balance", events.SubjectIndexerBalance, ix.balance),
		bus.Handle(svc, "health", events.SubjectIndexerHealth, ix.health),
		bus.Handle(svc, "stats", events.SubjectIndexerStats, ix.stats),
	)
}

// balance answers an address's live balance (getBalance at the configured commitment), cached
// for a second so a burst of page views costs one RPC call.
func (ix *Indexer) balance(ctx context.Context, req events.EscrowBalanceRequest) (events.EscrowBalanceReply, error) {
	pk, err := address.Parse(req.Escrow)
	if err != nil {
		return events.EscrowBalanceReply{}, apperr.InvalidField("escrow", "%v", err)
	}
	key := pk.String()
	ix.balMu.Lock()
	if e, ok := ix.balCache[key]; ok && time.Since(e.at) < balanceTTL {
		ix.balMu.Unlock()
		return e.reply, nil
	}
	ix.balMu.Unlock()
	res, err := ix.rpc.GetBalance(ctx, pk, commitment(ix.cfg.Commitment))
	if err != nil {
		ix.log.Warn("getBalance failed", "escrow", key, "err", err)
		return events.EscrowBalanceReply{}, apperr.Unavailablef("the Solana RPC did not answer")
	}
	reply := events.EscrowBalanceReply{Escrow: key, Lamports: res.Value, Slot: res.Context.Slot, At: time.Now().UTC()}
	ix.balMu.Lock()
	ix.balCache[key] = balanceEntry{reply: reply, at: time.Now()}
	if len(ix.balCache) > 10000 {
		for k, e := range ix.balCache {
			if time.Since(e.at) >= balanceTTL {
				delete(ix.balCache, k)
			}
		}
	}
	ix.balMu.Unlock()
	return reply, nil
}

// health reports whether the RPC answers, the slot lag of the subscriptions and whether some
// escrows are polled instead of subscribed.
func (ix *Indexer) health(ctx context.Context, _ events.ChainHealthRequest) (events.ChainHealthReply, error) {
	subs, polling := ix.live.status()
	reply := events.ChainHealthReply{Subscriptions: subs, Degraded: polling > 0}
	slot, err := ix.chainSlot()
	if err != nil {
		reply.Error = "solana rpc unavailable"
		return reply, nil
	}
	reply.OK = true
	reply.Slot = slot
	if seen := ix.live.lastSlot.Load(); seen > 0 && slot > seen {
		reply.LagSlots = slot - seen
	}
	return reply, nil
}

func (ix *Indexer) stats(_ context.Context, _ events.IndexerStatsRequest) (events.IndexerStatsReply, error) {
	return events.IndexerStatsReply{
		Escrows:       len(ix.watch.escrows()),
		Notifications: ix.m.nNotifications.Load(),
		Backfilled:    ix.m.nBackfilled.Load(),
		Published:     ix.m.nPublished.Load(),
		Parked:        ix.m.nParked.Load(),
		RPCCalls:      ix.m.nRPC.Load(),
	}, nil
}

// checkChain is the readiness check of the Solana RPC.
func (ix *Indexer) checkChain(ctx context.Context) error {
	_, err := ix.rpc.GetSlot(ctx, rpc.CommitmentProcessed)
	return err
}

// chainSlotTTL is how long one getSlot answers health checks: the gateway's health endpoint asks
// on every request, and without it each request would spend one of the indexer's rate-limited RPC
// calls (with the default SOLANA_RPC_RPS=10, a busy health endpoint starved payment detection).
const chainSlotTTL = time.Second

// chainSlot returns the chain's processed slot, asking the RPC at most once per chainSlotTTL;
// concurrent askers share one call, and a failure is remembered for the same time.
func (ix *Indexer) chainSlot() (uint64, error) {
	ix.slotMu.Lock()
	if !ix.slotAt.IsZero() && time.Since(ix.slotAt) < chainSlotTTL {
		slot, err := ix.slotVal, ix.slotErr
		ix.slotMu.Unlock()
		return slot, err
	}
	ix.slotMu.Unlock()
	v, err, _ := ix.slotFlight.Do("slot", func() (any, error) {
		// Not the caller's context: the answer is shared with other callers.
		ctx, cancel := context.WithTimeout(context.Background(), ix.cfg.RPCTimeout)
		defer cancel()
		slot, err := ix.rpc.GetSlot(ctx, rpc.CommitmentProcessed)
		ix.slotMu.Lock()
		ix.slotVal, ix.slotErr, ix.slotAt = slot, err, time.Now()
		ix.slotMu.Unlock()
		return slot, err
	})
	if err != nil {
		return 0, err
	}
	return v.(uint64), nil
}
