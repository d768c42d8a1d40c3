package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	"gorm.io/gorm"
)

// campaignRow is a campaign joined with its token cache. Money arrives as text (see the select)
// so that no uint64 passes through a float.
type campaignRow struct {
	ID                string     `gorm:"column:id"`
	Name              string     `gorm:"column:name"`
	Symbol            string     `gorm:"column:symbol"`
	ContractAddress   string     `gorm:"column:contract_address"`
	ImageURL          *string    `gorm:"column:image_url"`
	WalletAddress     string     `gorm:"column:wallet_address"`
	Reference         string     `gorm:"column:reference"`
	Status            string     `gorm:"column:status"`
	CreatedAt         time.Time  `gorm:"column:created_at"`
	UpdatedAt         time.Time  `gorm:"column:updated_at"`
	ExpiresAt         time.Time  `gorm:"column:expires_at"`
	ClosedAt          *time.Time `gorm:"column:closed_at"`
	CampaignType      *string    `gorm:"column:campaign_type"`
	SocialTwitter     *string    `gorm:"column:social_twitter"`
	SocialWebsite     *string    `gorm:"column:social_website"`
	Description       *string    `gorm:"column:description"`
	GoalLamports      string     `gorm:"column:goal_lamports"`
	RaisedLamports    string     `gorm:"column:raised_lamports"`
	SettledLamports   string     `gorm:"column:settled_lamports"`
	PendingLamports   string     `gorm:"column:pending_lamports"`
	LateLamports      string     `gorm:"column:late_lamports"`
	ContributorCount  int64      `gorm:"column:contributor_count"`
	ContributionCount int64      `gorm:"column:contribution_count"`
	LateCount         int64      `gorm:"column:late_count"`
	UnattributedCount int64      `gorm:"column:unattributed_count"`
	TokenLaunchpad    string     `gorm:"column:token_launchpad"`
	TokenSource       string     `gorm:"column:token_source"`
	Liquidity         string     `gorm:"column:liquidity"`
	MarketCap         string     `gorm:"column:market_cap"`
	PriceUSD          string     `gorm:"column:price_usd"`
	Volume24h         string     `gorm:"column:volume_24h"`
	Revision          int64      `gorm:"column:revision"`
}

const campaignSelect = `SELECT c.id::text AS id, c.name, c.symbol, c.contract_address, c.image_url,
 c.wallet_address, c.reference, c.status, c.created_at, c.updated_at, c.expires_at, c.closed_at,
 c.campaign_type, c.social_twitter, c.social_website, c.description,
 c.goal_lamports::text AS goal_lamports, c.raised_lamports::text AS raised_lamports,
 c.settled_lamports::text AS settled_lamports, c.pending_lamports::text AS pending_lamports,
 c.late_lamports::text AS late_lamports, c.contributor_count, c.contribution_count, c.late_count,
 c.unattributed_count,
 COALESCE(t.launchpad, '') AS token_launchpad, COALESCE(t.source, '') AS token_source,
 COALESCE(t.liquidity, '') AS liquidity, COALESCE(t.market_cap, '') AS market_cap,
 COALESCE(t.price_usd, '') AS price_usd, COALESCE(t.volume_24h, '') AS volume_24h, c.revision
 FROM campaigns c LEFT JOIN tokens t ON t.mint = c.contract_address`

func parseU64(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

func (r campaignRow) toEvent() (events.Campaign, error) {
	c := events.Campaign{
		ID: r.ID, Name: r.Name, Symbol: r.Symbol, ContractAddress: r.ContractAddress,
		ImageURL: r.ImageURL, WalletAddress: r.WalletAddress, Reference: r.Reference,
		Status: events.CampaignStatus(r.Status), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), CampaignType: r.CampaignType, SocialTwitter: r.SocialTwitter,
		SocialWebsite: r.SocialWebsite, Description: r.Description,
		ContributorCount: r.ContributorCount, ContributionCount: r.ContributionCount,
		LateCount: r.LateCount, UnattributedCount: r.UnattributedCount,
		Liquidity: r.Liquidity, MarketCap: r.MarketCap, PriceUSD: r.PriceUSD, Volume24h: r.Volume24h,
		Revision: r.Revision,
	}
	if r.TokenLaunchpad != "" {
		v := r.TokenLaunchpad
		c.TokenLaunchpad = &v
	}
	if r.TokenSource != "" {
		v := r.TokenSource
		c.TokenSource = &v
	}
	var err error
	for _, f := range []struct {
		dst *uint64
		src string
	}{
		{&c.GoalLamports, r.GoalLamports}, {&c.RaisedLamports, r.RaisedLamports},
		{&c.SettledLamports, r.SettledLamports}, {&c.PendingLamports, r.PendingLamports},
		{&c.LateLamports, r.LateLamports},
	} {
		if *f.dst, err = parseU64(f.src); err != nil {
			return c, fmt.Errorf("campaign %s: money column %q: %w", r.ID, f.src, err)
		}
	}
	return c, nil
}

// load reads one campaign inside tx (or the pool).
func load(tx *gorm.DB, id string) (events.Campaign, error) {
	var rows []campaignRow
	if err := tx.Raw(campaignSelect+" WHERE c.id = ?::uuid", id).Scan(&rows).Error; err != nil {
		return events.Campaign{}, translate(err, "campaign")
	}
	if len(rows) == 0 {
		return events.Campaign{}, apperr.NotFoundf("campaign not found")
	}
	return rows[0].toEvent()
}

// emit writes one campaign event to the outbox inside tx.
func emit(tx *gorm.DB, typ string, c events.Campaign, prev events.CampaignStatus, at time.Time) error {
	ev := events.CampaignEvent{Version: events.Version, Type: typ, Campaign: c, PreviousStatus: prev, At: at.UTC()}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("marshal %s event: %w", typ, err)
	}
	err = tx.Exec(`INSERT INTO outbox (subject, msg_id, payload, created_at) VALUES (?, ?, ?, ?)`,
		ev.Subject(), ev.MsgID(), string(payload), at.UTC()).Error
	return translate(err, "outbox event")
}

// Create implements campaigns.Store.
func (s *Store) Create(ctx context.Context, nc campaigns.NewCampaign) (events.Campaign, bool, error) {
	if nc.IdempotencyKey != "" {
		if c, ok, err := s.ByIdempotencyKey(ctx, nc.IdempotencyKey, nc.RequestHash); ok || err != nil {
			return c, false, err
		}
	}
	var out events.Campaign
	err := s.tx(ctx, func(tx *gorm.DB) error {
		t := nc.Token
		now := nc.CreatedAt
		// The cache row is as fresh as the pricer's data, so newer PRICES entries replace it.
		tokenAt := t.UpdatedAt.UTC()
		if tokenAt.IsZero() || tokenAt.After(now) {
			tokenAt = now
		}
		if err := tx.Exec(`INSERT INTO tokens (mint, name, symbol, decimals, image_url, price_usd, liquidity,
			market_cap, volume_24h, launchpad, source, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (mint) DO UPDATE SET name = EXCLUDED.name, symbol = EXCLUDED.symbol,
			decimals = EXCLUDED.decimals, image_url = EXCLUDED.image_url, price_usd = EXCLUDED.price_usd,
			liquidity = EXCLUDED.liquidity, market_cap = EXCLUDED.market_cap, volume_24h = EXCLUDED.volume_24h,
			launchpad = EXCLUDED.launchpad, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
			WHERE tokens.updated_at <= EXCLUDED.updated_at`,
			nc.Mint, t.Name, t.Symbol, int(t.Decimals), t.ImageURL, t.PriceUSD, t.LiquidityUSD,
			t.MarketCapUSD, t.Volume24hUSD, t.Launchpad, t.Source, tokenAt).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO campaigns (id, name, symbol, contract_address, image_url, wallet_address,
			reference, status, created_at, updated_at, expires_at, campaign_type, social_twitter, social_website,
			description, goal_lamports, revision)
			VALUES (?::uuid, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?::numeric, 1)`,
			nc.ID, nc.Name, nc.Symbol, nc.Mint, nc.ImageURL, nc.Escrow, nc.Reference, now, now, nc.ExpiresAt,
			nc.CampaignType, nc.SocialTwitter, nc.SocialWebsite, nc.Description,
			strconv.FormatUint(nc.Goal, 10)).Error; err != nil {
			return err
		}
		if nc.IdempotencyKey != "" {
			if err := tx.Exec(`INSERT INTO idempotency_keys (key, request_hash, campaign_id, created_at)
				VALUES (?, ?, ?::uuid, ?)`, nc.IdempotencyKey, nc.RequestHash, nc.ID, now).Error; err != nil {
				return err
			}
		}
		c, err := load(tx, nc.ID)
		if err != nil {
			return err
		}
		out = c
		return emit(tx, events.CampaignCreated, c, "", now)
	})
	if isUniqueViolation(err) {
		// A concurrent create with the same key won, or the mint already has an open campaign.
		if nc.IdempotencyKey != "" {
			if c, ok, kerr := s.ByIdempotencyKey(ctx, nc.IdempotencyKey, nc.RequestHash); ok || kerr != nil {
				return c, false, kerr
			}
		}
		return events.Campaign{}, false, &apperr.Error{Code: apperr.Conflict, Field: "contract_address",
			Message: "an open campaign already exists for this contract_address"}
	}
	if err != nil {
		return events.Campaign{}, false, translate(err, "campaign")
	}
	return out, true, nil
}

// ByIdempotencyKey implements campaigns.Store.
func (s *Store) ByIdempotencyKey(ctx context.Context, key, requestHash string) (events.Campaign, bool, error) {
	var rows []struct {
		RequestHash string `gorm:"column:request_hash"`
		CampaignID  string `gorm:"column:campaign_id"`
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT request_hash, campaign_id::text AS campaign_id
		FROM idempotency_keys WHERE key = ?`, key).Scan(&rows).Error; err != nil {
		return events.Campaign{}, false, translate(err, "idempotency key")
	}
	if len(rows) == 0 {
		return events.Campaign{}, false, nil
	}
	if rows[0].RequestHash != requestHash {
		return events.Campaign{}, false, &apperr.Error{Code: apperr.Conflict, Field: "idempotency_key",
			Message: "idempotency_key was already used for a different request"}
	}
	c, err := load(s.db.WithContext(ctx), rows[0].CampaignID)
	return c, err == nil, err
}

// Get implements campaigns.Store.
func (s *Store) Get(ctx context.Context, id string) (events.Campaign, error) {
	return load(s.db.WithContext(ctx), id)
}

// GetByMint implements campaigns.Store.
func (s *Store) GetByMint(ctx context.Context, mint string) (events.Campaign, error) {
	var rows []campaignRow
	err := s.db.WithContext(ctx).Raw(campaignSelect+` WHERE c.contract_address = ?
		ORDER BY (c.status IN ('active','funded')) DESC, c.created_at DESC, c.id DESC LIMIT 1`, mint).Scan(&rows).Error
	if err != nil {
		return events.Campaign{}, translate(err, "campaign")
	}
	if len(rows) == 0 {
		return events.Campaign{}, apperr.NotFoundf("no campaign for this contract_address")
	}
	return rows[0].toEvent()
}

type listCursor struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

// List implements campaigns.Store.
func (s *Store) List(ctx context.Context, f campaigns.ListFilter) ([]events.Campaign, string, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "c.status = ?")
		args = append(args, f.Status)
	}
	if f.Mint != "" {
		where = append(where, "c.contract_address = ?")
		args = append(args, f.Mint)
	}
	if f.Escrow != "" {
		where = append(where, "c.wallet_address = ?")
		args = append(args, f.Escrow)
	}
	if f.Cursor != "" {
		var cur listCursor
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.ID == "" || len(cur.ID) != 36 {
			return nil, "", apperr.InvalidField("cursor", "is not a valid cursor")
		}
		where = append(where, "(c.created_at, c.id) < (?, ?::uuid)")
		args = append(args, cur.T, cur.ID)
	}
	q := campaignSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.created_at DESC, c.id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	var rows []campaignRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "campaigns")
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		b, _ := json.Marshal(listCursor{T: last.CreatedAt.UTC(), ID: last.ID})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	out := make([]events.Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := r.toEvent()
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, nil
}

type lockedRow struct {
	Status    string    `gorm:"column:status"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func lockCampaign(tx *gorm.DB, id string) (lockedRow, error) {
	var rows []lockedRow
	if err := tx.Raw(`SELECT status, expires_at FROM campaigns WHERE id = ?::uuid FOR UPDATE`, id).Scan(&rows).Error; err != nil {
		return lockedRow{}, err
	}
	if len(rows) == 0 {
		return lockedRow{}, apperr.NotFoundf("campaign not found")
	}
	return rows[0], nil
}

// Update implements campaigns.Store.
func (s *Store) Update(ctx context.Context, id string, p campaigns.Patch, now time.Time) (events.Campaign, error) {
	var out events.Campaign
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := lockCampaign(tx, id)
		if err != nil {
			return err
		}
		// A cancelled campaign is frozen: an operator cancelled it, so nothing about it may change.
		// Completed and expired ones may still get a description or socials update.
		if events.CampaignStatus(cur.Status) == events.StatusCancelled {
			return apperr.Conflictf("the campaign is cancelled and can no longer be changed")
		}
		set := map[string]any{"updated_at": now, "revision": gorm.Expr("revision + 1")}
		text := func(col string, v *string) {
			if v == nil {
				return
			}
			if *v == "" {
				set[col] = nil
			} else {
				set[col] = *v
			}
		}
		text("description", p.Description)
		text("social_twitter", p.SocialTwitter)
		text("social_website", p.SocialWebsite)
		if p.ExpiresAt != nil {
			if !events.CampaignStatus(cur.Status).Open() {
				return &apperr.Error{Code: apperr.Conflict, Field: "expires_at", Message: "the campaign is closed; its end time cannot change"}
			}
			if !p.ExpiresAt.After(cur.ExpiresAt) {
				return apperr.InvalidField("expires_at", "may only move later than the current end %s", cur.ExpiresAt.UTC().Format(time.RFC3339))
			}
			set["expires_at"] = *p.ExpiresAt
		}
		if err := tx.Table("campaigns").Where("id = ?::uuid", id).Updates(set).Error; err != nil {
			return err
		}
		c, err := load(tx, id)
		if err != nil {
			return err
		}
		out = c
		return emit(tx, events.CampaignUpdated, c, "", now)
	})
	return out, translate(err, "campaign")
}

// Cancel implements campaigns.Store.
func (s *Store) Cancel(ctx context.Context, id, reason string, now time.Time) (events.Campaign, error) {
	var out events.Campaign
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := lockCampaign(tx, id)
		if err != nil {
			return err
		}
		prev := events.CampaignStatus(cur.Status)
		if !prev.Open() {
			return apperr.Conflictf("the campaign is already %s", prev)
		}
		if err := tx.Exec(`UPDATE campaigns SET status = 'cancelled', closed_at = ?, updated_at = ?,
			cancel_reason = NULLIF(?, ''), revision = revision + 1 WHERE id = ?::uuid`, now, now, reason, id).Error; err != nil {
			return err
		}
		c, err := load(tx, id)
		if err != nil {
			return err
		}
		out = c
		return emit(tx, events.CampaignStatusChanged, c, prev, now)
	})
	return out, translate(err, "campaign")
}

// WatchList implements campaigns.Store.
func (s *Store) WatchList(ctx context.Context, closedSince time.Time) ([]events.WatchEntry, error) {
	var rows []struct {
		ID              string `gorm:"column:id"`
		WalletAddress   string `gorm:"column:wallet_address"`
		Reference       string `gorm:"column:reference"`
		ContractAddress string `gorm:"column:contract_address"`
		Status          string `gorm:"column:status"`
	}
	err := s.db.WithContext(ctx).Raw(`SELECT id::text AS id, wallet_address, reference, contract_address, status
		FROM campaigns WHERE status IN ('active','funded') OR closed_at >= ? ORDER BY created_at, id`, closedSince).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "watch list")
	}
	out := make([]events.WatchEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, events.WatchEntry{CampaignID: r.ID, Escrow: r.WalletAddress, Reference: r.Reference,
			Mint: r.ContractAddress, Status: events.CampaignStatus(r.Status)})
	}
	return out, nil
}

// Stats implements campaigns.Store.
func (s *Store) Stats(ctx context.Context) (open, total int64, err error) {
	var r struct {
		Open  int64 `gorm:"column:open"`
		Total int64 `gorm:"column:total"`
	}
	err = s.db.WithContext(ctx).Raw(`SELECT count(*) FILTER (WHERE status IN ('active','funded')) AS open,
		count(*) AS total FROM campaigns`).Scan(&r).Error
	return r.Open, r.Total, translate(err, "stats")
}

// CloseDue implements campaigns.Store. The conditional UPDATE over rows locked with SKIP LOCKED
// makes concurrent schedulers split the work instead of closing a campaign twice.
func (s *Store) CloseDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []struct {
			ID   string `gorm:"column:id"`
			Prev string `gorm:"column:prev"`
		}
		err := tx.Raw(`WITH due AS (
			SELECT id, status AS prev FROM campaigns
			WHERE status IN ('active','funded') AND expires_at <= ?
			ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED)
			UPDATE campaigns c SET status = CASE WHEN c.settled_lamports >= c.goal_lamports THEN 'completed' ELSE 'expired' END,
			closed_at = ?, updated_at = ?, revision = c.revision + 1
			FROM due WHERE c.id = due.id RETURNING c.id::text AS id, due.prev AS prev`, now, limit, now, now).Scan(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			c, err := load(tx, r.ID)
			if err != nil {
				return err
			}
			if err := emit(tx, events.CampaignStatusChanged, c, events.CampaignStatus(r.Prev), now); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	return n, translate(err, "close due campaigns")
}

// RefreshToken implements campaigns.Store.
func (s *Store) RefreshToken(ctx context.Context, t events.TokenInfo) (bool, error) {
	at := t.UpdatedAt.UTC()
	if at.IsZero() {
		at = time.Now().UTC()
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE tokens SET
		name = COALESCE(NULLIF(?, ''), name), symbol = COALESCE(NULLIF(?, ''), symbol),
		image_url = COALESCE(NULLIF(?, ''), image_url), price_usd = ?, liquidity = ?, market_cap = ?,
		volume_24h = ?, launchpad = ?, source = ?, updated_at = ?
		WHERE mint = ? AND updated_at <= ?
		AND EXISTS (SELECT 1 FROM campaigns WHERE contract_address = ? AND status IN ('active','funded'))`,
		t.Name, t.Symbol, t.ImageURL, t.PriceUSD, t.LiquidityUSD, t.MarketCapUSD, t.Volume24hUSD,
		t.Launchpad, t.Source, at, t.Mint, at, t.Mint)
	if res.Error != nil {
		return false, translate(res.Error, "token")
	}
	return res.RowsAffected > 0, nil
}

// isUniqueViolation reports a unique-constraint violation, translated by gorm or raw from pgx.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pgErr) && pgErr.Code == "23505")
}
