package indexer

import (
	"sort"
	"sync"

	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/txparse"
)

// watchList is the set of campaigns whose escrows are watched. It is safe for concurrent use.
type watchList struct {
	mu        sync.RWMutex
	campaigns map[string]events.WatchEntry
	removed   map[string]bool // campaigns removed by an event; a late watch-list reply must not revive them
	onChange  func()
}

func newWatchList() *watchList {
	return &watchList{campaigns: map[string]events.WatchEntry{}, removed: map[string]bool{}}
}

// merge adds the entries of a watch-list reply, except campaigns an event has removed since start.
func (w *watchList) merge(entries []events.WatchEntry) {
	w.mu.Lock()
	for _, e := range entries {
		if e.CampaignID == "" || e.Escrow == "" || w.removed[e.CampaignID] {
			continue
		}
		if _, ok := w.campaigns[e.CampaignID]; !ok {
			w.campaigns[e.CampaignID] = e
		}
	}
	cb := w.onChange
	w.mu.Unlock()
	if cb != nil {
		cb()
	}
}

// apply follows one CAMPAIGNS event: a created campaign is added; a cancelled one is removed (its
// reference no longer attributes). Expired and completed campaigns stay watched so that late
// payments are still recorded.
func (w *watchList) apply(ev events.CampaignEvent) {
	c := ev.Campaign
	if c.ID == "" || c.WalletAddress == "" {
		return
	}
	w.mu.Lock()
	switch {
	case c.Status == events.StatusCancelled:
		delete(w.campaigns, c.ID)
		w.removed[c.ID] = true
	case ev.Type == events.CampaignCreated || ev.Type == events.CampaignStatusChanged:
		if !w.removed[c.ID] {
			w.campaigns[c.ID] = events.WatchEntry{CampaignID: c.ID, Escrow: c.WalletAddress, Reference: c.Reference, Mint: c.ContractAddress, Status: c.Status}
		}
	}
	cb := w.onChange
	w.mu.Unlock()
	if cb != nil {
		cb()
	}
}

// escrows returns the watched escrows, sorted.
func (w *watchList) escrows() []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	set := map[string]bool{}
	for _, e := range w.campaigns {
		set[e.Escrow] = true
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func (w *watchList) has(escrow string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, e := range w.campaigns {
		if e.Escrow == escrow {
			return true
		}
	}
	return false
}

// snapshot is an immutable view used to parse and attribute one transaction.
type snapshot struct {
	watch      txparse.Watch
	refCamp    map[string]events.WatchEntry // reference → campaign
	escrowCamp map[string][]string          // escrow → campaign ids
}

func (w *watchList) snapshot() snapshot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	s := snapshot{
		watch:      txparse.Watch{Escrows: map[string]bool{}, References: map[string]bool{}},
		refCamp:    map[string]events.WatchEntry{},
		escrowCamp: map[string][]string{},
	}
	for _, e := range w.campaigns {
		s.watch.Escrows[e.Escrow] = true
		s.escrowCamp[e.Escrow] = append(s.escrowCamp[e.Escrow], e.CampaignID)
		if e.Reference != "" {
			s.watch.References[e.Reference] = true
			s.refCamp[e.Reference] = e
		}
	}
	return s
}

// attribute names the campaign a transfer into escrow belongs to (design §4): a known reference
// of a campaign on that escrow among the account keys, else the only campaign using the escrow,
// else none.
func (s snapshot) attribute(escrow string, refs []string) (campaignID, reference string) {
	for _, r := range refs {
		if e, ok := s.refCamp[r]; ok && e.Escrow == escrow {
			return e.CampaignID, r
		}
	}
	if ids := s.escrowCamp[escrow]; len(ids) == 1 {
		return ids[0], ""
	}
	return "", ""
}
