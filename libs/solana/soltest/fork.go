package soltest

import (
	"errors"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// forkDrop implements Faults.ForkDrop: the transaction vanishes and its lamport and token
// changes are undone in every later account version. Accounts it created stay (empty of the
// moved value); that is enough for clients, which only see balances and history.
func (c *Chain) forkDrop(sig solana.Signature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.txs[sig]
	if !ok || r.fixture != nil || r.entry != nil || r.dropped {
		return errors.New("unknown signature")
	}
	if r.slot <= c.commitSlotLocked(rpc.CommitmentFinalized) {
		return errors.New("transaction already finalized")
	}
	r.dropped = true
	for i, k := range r.keys {
		dl := int64(r.postBal[i]) - int64(r.preBal[i])
		var dt int64
		for _, p := range r.postTok {
			if p.idx == i {
				dt += int64(p.amount)
			}
		}
		for _, p := range r.preTok {
			if p.idx == i {
				dt -= int64(p.amount)
			}
		}
		if dl == 0 && dt == 0 {
			continue
		}
		h := c.accounts[k]
		if h == nil {
			continue
		}
		for vi := range h.versions {
			v := &h.versions[vi]
			if v.slot < r.slot || v.acc == nil {
				continue
			}
			cp := *v.acc
			cp.Data = append([]byte(nil), v.acc.Data...)
			cp.Lamports = uint64(int64(cp.Lamports) - dl)
			if dt != 0 {
				if t, ok := decodeToken(cp.Data); ok {
					t.amount = uint64(int64(t.amount) - dt)
					t.encodeInto(cp.Data)
				}
			}
			v.acc = &cp
		}
	}
	return nil
}
