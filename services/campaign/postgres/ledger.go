package postgres

import (
	"context"
	"encoding/base64"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"gorm.io/gorm"
)

// ledgerRow is the stored facts of one transfer. The facts of the first event that created the
// row are kept for ever; later events only move its state.
type ledgerRow struct {
	State      string `gorm:"column:state"`
	Amount     string `gorm:"column:amount"`
	CampaignID string `gorm:"column:campaign_id"`
	Escrow     string `gorm:"column:escrow"`
	Payer      string `gorm:"column:payer"`
	Mint       string `gorm:"column:mint"`
	Late       bool   `gorm:"column:late"`
}

// campaignDelta accumulates one batch's change to a campaign's totals.
type campaignDelta struct {
	raised, settled, pending, late big.Int
	contributions, lateCount       int64
	unattributed                   int64
	contributors                   int64
}

type payerKey struct{ campaign, payer string }

type payerDelta struct {
	lamports  big.Int
	transfers int64
}

// batch collects the effects of a batch of ledger transitions before they are written in a fixed
// lock order (ledger rows, then contributors, then campaigns, each sorted), so concurrent
// batches from several replicas cannot deadlock on each other.
type batch struct {
	campaigns    map[string]*campaignDelta
	payers       map[payerKey]*payerDelta
	unattributed map[string]int64 // escrow → change in live unattributed transfers
}

func live(state string) int64 {
	if state == string(events.StateConfirmed) || state == string(events.StateFinalized) {
		return 1
	}
	return 0
}

func is(state string, want events.ContributionState) int64 {
	if state == string(want) {
		return 1
	}
	return 0
}

// next decides the state a row moves to when an event arrives. Finality wins: finalized is
// terminal; a dropped row is revived only by finalized (the transaction was re-included), never
// by a late confirmed; a confirmed never downgrades anything.
func next(cur string, ev events.ContributionState) (string, bool) {
	switch ev {
	case events.StateFinalized:
		if cur != string(events.StateFinalized) {
			return string(events.StateFinalized), true
		}
	case events.StateDropped:
		if cur == string(events.StateConfirmed) {
			return string(events.StateDropped), true
		}
	}
	return cur, false
}

// account adds the effect of row moving from state `from` ("" = no row) to `to`.
func (b *batch) account(r ledgerRow, from, to string) error {
	amount, err := strconv.ParseUint(r.Amount, 10, 64)
	if err != nil {
		return err
	}
	var sol big.Int
	if r.Mint == "" {
		sol.SetUint64(amount)
	}
	dl := live(to) - live(from)
	if r.CampaignID == "" {
		b.unattributed[r.Escrow] += dl
		return nil
	}
	d := b.campaigns[r.CampaignID]
	if d == nil {
		d = &campaignDelta{}
		b.campaigns[r.CampaignID] = d
	}
	mul := func(acc *big.Int, k int64) {
		if k != 0 {
			acc.Add(acc, new(big.Int).Mul(&sol, big.NewInt(k)))
		}
	}
	mul(&d.raised, dl)
	mul(&d.settled, is(to, events.StateFinalized)-is(from, events.StateFinalized))
	mul(&d.pending, is(to, events.StateConfirmed)-is(from, events.StateConfirmed))
	d.contributions += dl
	if r.Late {
		mul(&d.late, dl)
		d.lateCount += dl
	}
	if dl != 0 {
		k := payerKey{r.CampaignID, r.Payer}
		p := b.payers[k]
		if p == nil {
			p = &payerDelta{}
			b.payers[k] = p
		}
		mul(&p.lamports, dl)
		p.transfers += dl
	}
	return nil
}

// ApplyContributions implements campaigns.Store.
func (s *Store) ApplyContributions(ctx context.Context, cs []events.Contribution, now time.Time) ([]bool, error) {
	var changed []bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		changed, err = applyBatch(tx, cs, now.UTC())
		return err
	})
	if err != nil {
		return nil, translate(err, "contribution")
	}
	return changed, nil
}

type campaignFacts struct {
	ID        string    `gorm:"column:id"`
	Wallet    string    `gorm:"column:wallet_address"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

// ledgerKey identifies a transfer for ever.
type ledgerKey struct {
	sig string
	idx int
}

func applyBatch(tx *gorm.DB, cs []events.Contribution, now time.Time) ([]bool, error) {
	changed := make([]bool, len(cs))

	// Facts of the campaigns named in the batch (no locks: id, escrow and end time are read only
	// to attribute and flag late rows).
	var ids []string
	for _, c := range cs {
		if c.CampaignID != "" && looksLikeUUID(c.CampaignID) {
			ids = append(ids, strings.ToLower(c.CampaignID))
		}
	}
	known := map[string]campaignFacts{}
	if len(ids) > 0 {
		var rows []campaignFacts
		if err := tx.Raw(`SELECT id::text AS id, wallet_address, expires_at FROM campaigns WHERE id = ANY(?::uuid[])`,
			"{"+strings.Join(slices.Compact(slices.Sorted(slices.Values(ids))), ",")+"}").Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			known[r.ID] = r
		}
	}

	// Group the events by transfer, keys sorted (the lock order), events in arrival order.
	groups := map[ledgerKey][]int{}
	for i, c := range cs {
		k := ledgerKey{c.Signature, c.TransferIndex}
		groups[k] = append(groups[k], i)
	}
	keys := make([]ledgerKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ledgerKey) int {
		if c := strings.Compare(a.sig, b.sig); c != 0 {
			return c
		}
		return a.idx - b.idx
	})

	// 1. Insert every transfer not seen before, with the facts and state of its first event, in
	// one statement; RETURNING names the rows that are new.
	facts := make(map[ledgerKey]ledgerRow, len(keys))
	var vals []string
	var args []any
	for _, k := range keys {
		c := cs[groups[k][0]]
		campaignID := strings.ToLower(c.CampaignID)
		f, ok := known[campaignID]
		if !ok {
			campaignID = "" // unknown campaign: recorded as unattributed money in the escrow
		}
		late := false
		if ok {
			at := c.Observed
			if c.BlockTime > 0 {
				at = time.Unix(c.BlockTime, 0)
			}
			late = at.After(f.ExpiresAt)
		}
		var cid any
		if campaignID != "" {
			cid = campaignID
		}
		observed := c.Observed.UTC()
		if observed.IsZero() {
			observed = now
		}
		amount := strconv.FormatUint(c.Amount, 10)
		facts[k] = ledgerRow{State: string(c.State), Amount: amount, CampaignID: campaignID, Escrow: c.Escrow,
			Payer: c.Payer, Mint: c.Mint, Late: late}
		vals = append(vals, "(?, ?, ?::uuid, ?, ?, ?::numeric, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.Signature, c.TransferIndex, cid, c.Escrow, c.Payer, amount, c.Mint, int(c.Decimals),
			string(c.State), late, c.Memo, c.Reference, int64(c.Slot), c.BlockTime, observed, now)
	}
	var inserted []struct {
		Signature     string `gorm:"column:signature"`
		TransferIndex int    `gorm:"column:transfer_index"`
	}
	if err := tx.Raw(`INSERT INTO contributions (signature, transfer_index, campaign_id, escrow, payer, amount,
		mint, decimals, state, late, memo, reference, slot, block_time, observed_at, updated_at)
		VALUES `+strings.Join(vals, ", ")+`
		ON CONFLICT (signature, transfer_index) DO NOTHING RETURNING signature, transfer_index`, args...).Scan(&inserted).Error; err != nil {
		return nil, err
	}
	isNew := make(map[ledgerKey]bool, len(inserted))
	for _, r := range inserted {
		isNew[ledgerKey{r.Signature, r.TransferIndex}] = true
	}

	// 2. Lock the rows that already existed and read their stored facts.
	var old []ledgerKey
	for _, k := range keys {
		if !isNew[k] {
			old = append(old, k)
		}
	}
	stored := map[ledgerKey]ledgerRow{}
	if len(old) > 0 {
		vals, args = vals[:0], args[:0]
		for _, k := range old {
			vals = append(vals, "(?, ?::int)")
			args = append(args, k.sig, k.idx)
		}
		var rows []struct {
			Signature     string `gorm:"column:signature"`
			TransferIndex int    `gorm:"column:transfer_index"`
			State         string `gorm:"column:state"`
			Amount        string `gorm:"column:amount"`
			CampaignID    string `gorm:"column:campaign_id"`
			Escrow        string `gorm:"column:escrow"`
			Payer         string `gorm:"column:payer"`
			Mint          string `gorm:"column:mint"`
			Late          bool   `gorm:"column:late"`
		}
		if err := tx.Raw(`SELECT signature, transfer_index, state, amount::text AS amount,
			COALESCE(campaign_id::text, '') AS campaign_id, escrow, payer, mint, late FROM contributions
			WHERE (signature, transfer_index) IN (`+strings.Join(vals, ", ")+`)
			ORDER BY signature, transfer_index FOR UPDATE`, args...).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			stored[ledgerKey{r.Signature, r.TransferIndex}] = ledgerRow{State: r.State, Amount: r.Amount,
				CampaignID: r.CampaignID, Escrow: r.Escrow, Payer: r.Payer, Mint: r.Mint, Late: r.Late}
		}
	}

	// 3. Walk each transfer's events through the state machine and account the net move.
	b := &batch{campaigns: map[string]*campaignDelta{}, payers: map[payerKey]*payerDelta{}, unattributed: map[string]int64{}}
	vals, args = vals[:0], args[:0]
	for _, k := range keys {
		evs := groups[k]
		var row ledgerRow
		var from string
		rest := evs
		if isNew[k] {
			row, from = facts[k], ""
			changed[evs[0]] = row.State != string(events.StateDropped)
			rest = evs[1:]
		} else {
			var ok bool
			if row, ok = stored[k]; !ok {
				return nil, apperr.New(apperr.Internal, "ledger row vanished")
			}
			from = row.State
		}
		start := row.State
		cur := row.State
		for _, i := range rest {
			if to, moved := next(cur, cs[i].State); moved {
				cur, changed[i] = to, true
			}
		}
		if err := b.account(row, from, cur); err != nil {
			return nil, err
		}
		if cur != start {
			vals = append(vals, "(?, ?::int, ?)")
			args = append(args, k.sig, k.idx, cur)
		}
	}
	if len(vals) > 0 {
		args = append([]any{now}, args...)
		if err := tx.Exec(`UPDATE contributions c SET state = v.state, updated_at = ?
			FROM (VALUES `+strings.Join(vals, ", ")+`) AS v(signature, transfer_index, state)
			WHERE c.signature = v.signature AND c.transfer_index = v.transfer_index`, args...).Error; err != nil {
			return nil, err
		}
	}
	if err := b.write(tx, now); err != nil {
		return nil, err
	}
	return changed, nil
}

// write applies the batch's accumulated deltas: contributors, then campaigns (sorted), then the
// progress and status events of every campaign that changed.
func (b *batch) write(tx *gorm.DB, now time.Time) error {
	// Unattributed transfers bump the counter of every campaign using that escrow.
	if len(b.unattributed) > 0 {
		escrows := make([]string, 0, len(b.unattributed))
		for e, d := range b.unattributed {
			if d != 0 {
				escrows = append(escrows, e)
			}
		}
		if len(escrows) > 0 {
			var rows []campaignFacts
			if err := tx.Raw(`SELECT id::text AS id, wallet_address, expires_at FROM campaigns WHERE wallet_address IN ?`,
				escrows).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				d := b.campaigns[r.ID]
				if d == nil {
					d = &campaignDelta{}
					b.campaigns[r.ID] = d
				}
				d.unattributed += b.unattributed[r.Wallet]
			}
		}
	}

	keys := make([]payerKey, 0, len(b.payers))
	for k := range b.payers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y payerKey) int {
		if c := strings.Compare(x.campaign, y.campaign); c != 0 {
			return c
		}
		return strings.Compare(x.payer, y.payer)
	})
	// Additions in one statement (RETURNING the new transfer counts), removals one by one (rare:
	// only drops make them, and a CHECK forbids a negative value in an insert).
	after := make(map[payerKey]int64, len(keys))
	var vals []string
	var args []any
	for _, k := range keys {
		p := b.payers[k]
		switch {
		case p.transfers == 0 && p.lamports.Sign() == 0:
		case p.transfers >= 0 && p.lamports.Sign() >= 0:
			vals = append(vals, "(?::uuid, ?, ?::numeric, ?::bigint)")
			args = append(args, k.campaign, k.payer, p.lamports.String(), p.transfers)
		default:
			var n []int64
			if err := tx.Raw(`UPDATE contributors SET lamports = lamports + ?::numeric, transfers = transfers + ?
				WHERE campaign_id = ?::uuid AND payer = ? RETURNING transfers`,
				p.lamports.String(), p.transfers, k.campaign, k.payer).Scan(&n).Error; err != nil {
				return err
			}
			if len(n) != 1 {
				return apperr.New(apperr.Internal, "contributor row missing for a removal")
			}
			after[k] = n[0]
		}
	}
	if len(vals) > 0 {
		var rows []struct {
			CampaignID string `gorm:"column:campaign_id"`
			Payer      string `gorm:"column:payer"`
			Transfers  int64  `gorm:"column:transfers"`
		}
		if err := tx.Raw(`INSERT INTO contributors (campaign_id, payer, lamports, transfers) VALUES `+strings.Join(vals, ", ")+`
			ON CONFLICT (campaign_id, payer) DO UPDATE SET lamports = contributors.lamports + EXCLUDED.lamports,
			transfers = contributors.transfers + EXCLUDED.transfers
			RETURNING campaign_id::text AS campaign_id, payer, transfers`, args...).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			after[payerKey{r.CampaignID, r.Payer}] = r.Transfers
		}
	}
	for k, n := range after {
		before := n - b.payers[k].transfers
		switch {
		case before == 0 && n > 0:
			b.campaigns[k.campaign].contributors++
		case before > 0 && n == 0:
			b.campaigns[k.campaign].contributors--
		}
	}

	ids := make([]string, 0, len(b.campaigns))
	for id, d := range b.campaigns {
		if d.raised.Sign() != 0 || d.settled.Sign() != 0 || d.pending.Sign() != 0 || d.late.Sign() != 0 ||
			d.contributions != 0 || d.lateCount != 0 || d.unattributed != 0 || d.contributors != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := b.campaigns[id]
		if err := tx.Exec(`UPDATE campaigns SET raised_lamports = raised_lamports + ?::numeric,
			settled_lamports = settled_lamports + ?::numeric, pending_lamports = pending_lamports + ?::numeric,
			late_lamports = late_lamports + ?::numeric, contribution_count = contribution_count + ?,
			late_count = late_count + ?, unattributed_count = unattributed_count + ?,
			contributor_count = contributor_count + ?, revision = revision + 1, updated_at = ?
			WHERE id = ?::uuid`,
			d.raised.String(), d.settled.String(), d.pending.String(), d.late.String(), d.contributions,
			d.lateCount, d.unattributed, d.contributors, now, id).Error; err != nil {
			return err
		}
		c, err := load(tx, id)
		if err != nil {
			return err
		}
		if err := emit(tx, events.CampaignProgress, c, "", now); err != nil {
			return err
		}
		// Funded: the settled (finalized) total reached the goal while the campaign runs.
		res := tx.Exec(`UPDATE campaigns SET status = 'funded', revision = revision + 1, updated_at = ?
			WHERE id = ?::uuid AND status = 'active' AND settled_lamports >= goal_lamports`, now, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			c, err := load(tx, id)
			if err != nil {
				return err
			}
			if err := emit(tx, events.CampaignStatusChanged, c, events.StatusActive, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// Contributors implements campaigns.Store.
func (s *Store) Contributors(ctx context.Context, campaignID string) (map[string]campaigns.PayerTotal, error) {
	var rows []struct {
		Payer     string `gorm:"column:payer"`
		Lamports  string `gorm:"column:lamports"`
		Transfers int64  `gorm:"column:transfers"`
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT payer, lamports::text AS lamports, transfers FROM contributors
		WHERE campaign_id = ?::uuid AND transfers > 0`, campaignID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "contributors")
	}
	out := make(map[string]campaigns.PayerTotal, len(rows))
	for _, r := range rows {
		v, err := parseU64(r.Lamports)
		if err != nil {
			return nil, err
		}
		out[r.Payer] = campaigns.PayerTotal{Lamports: v, Transfers: r.Transfers}
	}
	return out, nil
}

// EscrowTransactions implements campaigns.Store.
func (s *Store) EscrowTransactions(ctx context.Context, escrow, cursor string, limit int) (events.EscrowTransactionsReply, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Raw(`SELECT count(*) FROM campaigns WHERE wallet_address = ?`, escrow).Scan(&n).Error; err != nil {
		return events.EscrowTransactionsReply{}, translate(err, "escrow")
	}
	if n == 0 {
		return events.EscrowTransactionsReply{}, apperr.NotFoundf("no campaign uses this wallet_address")
	}
	var before int64
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			before, err = strconv.ParseInt(string(raw), 10, 64)
		}
		if err != nil || before <= 0 {
			return events.EscrowTransactionsReply{}, apperr.InvalidField("cursor", "is not a valid cursor")
		}
	}
	var sum struct {
		Count int64  `gorm:"column:count"`
		Total string `gorm:"column:total"`
	}
	if err := db.Raw(`SELECT count(*) AS count, COALESCE(sum(amount) FILTER (WHERE mint = ''), 0)::text AS total
		FROM contributions WHERE escrow = ? AND state IN ('confirmed','finalized')`, escrow).Scan(&sum).Error; err != nil {
		return events.EscrowTransactionsReply{}, translate(err, "escrow")
	}
	total, err := parseU64(sum.Total)
	if err != nil {
		// More than 2^64-1 lamports cannot exist on chain; report rather than wrap.
		return events.EscrowTransactionsReply{}, translate(err, "escrow total")
	}
	out := events.EscrowTransactionsReply{Escrow: escrow, TransactionCount: sum.Count, TotalLamports: total,
		Contributors: []string{}, Transactions: []events.LedgerEntry{}}
	if err := db.Raw(`SELECT DISTINCT payer FROM contributions WHERE escrow = ? AND state IN ('confirmed','finalized')
		ORDER BY payer`, escrow).Scan(&out.Contributors).Error; err != nil {
		return events.EscrowTransactionsReply{}, translate(err, "escrow")
	}
	var rows []struct {
		ID            int64  `gorm:"column:id"`
		Signature     string `gorm:"column:signature"`
		TransferIndex int    `gorm:"column:transfer_index"`
		CampaignID    string `gorm:"column:campaign_id"`
		Payer         string `gorm:"column:payer"`
		Amount        string `gorm:"column:amount"`
		Mint          string `gorm:"column:mint"`
		Decimals      int    `gorm:"column:decimals"`
		State         string `gorm:"column:state"`
		Late          bool   `gorm:"column:late"`
		Slot          int64  `gorm:"column:slot"`
		BlockTime     int64  `gorm:"column:block_time"`
		Memo          string `gorm:"column:memo"`
	}
	q := `SELECT id, signature, transfer_index, COALESCE(campaign_id::text, '') AS campaign_id, payer,
		amount::text AS amount, mint, decimals, state, late, slot, block_time, memo
		FROM contributions WHERE escrow = ? AND state IN ('confirmed','finalized')`
	args := []any{escrow}
	if before > 0 {
		q += " AND id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	if err := db.Raw(q, args...).Scan(&rows).Error; err != nil {
		return events.EscrowTransactionsReply{}, translate(err, "escrow")
	}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(rows[len(rows)-1].ID, 10)))
	}
	for _, r := range rows {
		amt, err := parseU64(r.Amount)
		if err != nil {
			return events.EscrowTransactionsReply{}, err
		}
		out.Transactions = append(out.Transactions, events.LedgerEntry{
			Signature: r.Signature, TransferIndex: r.TransferIndex, CampaignID: r.CampaignID, Escrow: escrow,
			Payer: r.Payer, Amount: amt, Mint: r.Mint, Decimals: uint8(r.Decimals),
			State: events.ContributionState(r.State), Late: r.Late, Slot: uint64(r.Slot), BlockTime: r.BlockTime, Memo: r.Memo,
		})
	}
	return out, nil
}
