// Package campaigns holds the campaign service's business rules: what a valid campaign is, how a
// create, update or cancel is decided, and the Store contract the database adapter fulfils. It
// knows nothing of NATS or SQL; package postgres implements Store and the root package wires both.
package campaigns

import (
	"context"
	"time"

	"github.com/solcrowd/backend/libs/events"
)

// Store is the campaign service's persistence. Every method that changes state writes the
// resulting campaign events to the outbox in the same transaction, so an event exists if and
// only if its change committed. Errors are *apperr.Error values for anything a caller may see
// (not_found, conflict, invalid) and plain errors for infrastructure failures.
type Store interface {
	// Create stores a campaign and its token cache entry. With an idempotency key already used
	// for the same request it returns the first campaign and created=false; with the key used
	// for a different request it is a conflict. A second open campaign for the mint is a conflict.
	Create(ctx context.Context, nc NewCampaign) (c events.Campaign, created bool, err error)
	// ByIdempotencyKey returns the campaign a create with this key made (ok), or a conflict when
	// the key was used for a request with another hash; ok is false when the key is unused.
	ByIdempotencyKey(ctx context.Context, key, requestHash string) (c events.Campaign, ok bool, err error)
	// Get returns one campaign by id (not_found when absent).
	Get(ctx context.Context, id string) (events.Campaign, error)
	// GetByMint returns the open campaign of a mint, else its most recent one.
	GetByMint(ctx context.Context, mint string) (events.Campaign, error)
	// List returns a page of campaigns, newest first, and the cursor of the next page ("" at the end).
	List(ctx context.Context, f ListFilter) ([]events.Campaign, string, error)
	// Update applies a patch; ExpiresAt may only move later and only on an open campaign.
	Update(ctx context.Context, id string, p Patch, now time.Time) (events.Campaign, error)
	// Cancel closes an open campaign as cancelled (conflict when it is already closed).
	Cancel(ctx context.Context, id, reason string, now time.Time) (events.Campaign, error)

	// ApplyContributions applies a batch of contribution events in one transaction and returns,
	// per event, whether it changed anything (false: already applied, a no-op). It is idempotent
	// and order-independent per transfer: confirmed and finalized in any order end finalized; a
	// dropped row stays dropped unless a finalized arrives; duplicates change nothing.
	ApplyContributions(ctx context.Context, cs []events.Contribution, now time.Time) ([]bool, error)
	// Contributors returns the per-payer totals of a campaign's live transfers.
	Contributors(ctx context.Context, campaignID string) (map[string]PayerTotal, error)
	// EscrowTransactions pages the live ledger rows of an escrow; not_found when no campaign uses it.
	EscrowTransactions(ctx context.Context, escrow, cursor string, limit int) (events.EscrowTransactionsReply, error)

	// WatchList lists open campaigns and those closed at or after closedSince.
	WatchList(ctx context.Context, closedSince time.Time) ([]events.WatchEntry, error)
	// Stats counts open and all campaigns.
	Stats(ctx context.Context) (open, total int64, err error)
	// CloseDue moves open campaigns whose end time is at or before now to completed (goal
	// settled) or expired, at most limit of them, and returns how many it closed. Safe to run
	// concurrently from several replicas: each campaign is closed exactly once.
	CloseDue(ctx context.Context, now time.Time, limit int) (int, error)
	// RefreshToken updates the cached market data of a mint that has an open campaign and
	// reports whether a row changed. Older data than what is cached is ignored.
	RefreshToken(ctx context.Context, info events.TokenInfo) (bool, error)

	// RelayOutbox hands up to limit unsent events, oldest first, to publish and deletes those it
	// published, in one transaction whose row locks keep other replicas off the same events. It
	// stops at the first publish error; unpublished events stay for the next call.
	RelayOutbox(ctx context.Context, limit int, publish func(ctx context.Context, m OutboxMessage) error) (int, error)
	// OutboxBacklog returns the number of unsent events and the age of the oldest.
	OutboxBacklog(ctx context.Context, now time.Time) (int64, time.Duration, error)

	// Ping checks the database answers.
	Ping(ctx context.Context) error
}

// NewCampaign is a validated campaign ready to store.
type NewCampaign struct {
	ID        string
	Reference string
	Mint      string
	Escrow    string
	Name      string
	Symbol    string
	ImageURL  *string
	Goal      uint64
	CreatedAt time.Time
	ExpiresAt time.Time

	CampaignType  *string
	SocialTwitter *string
	SocialWebsite *string
	Description   *string

	Token events.TokenInfo

	IdempotencyKey string
	RequestHash    string // identifies the request an idempotency key was first used for
}

// Patch is a validated update. Nil fields stay; a pointer to "" clears the field.
type Patch struct {
	Description   *string
	SocialTwitter *string
	SocialWebsite *string
	ExpiresAt     *time.Time
}

// ListFilter selects and pages campaigns.
type ListFilter struct {
	Status string
	Mint   string
	Escrow string
	Cursor string
	Limit  int
}

// PayerTotal is one contributor's live total in a campaign.
type PayerTotal struct {
	Lamports  uint64 // SOL transfers only
	Transfers int64  // live (confirmed or finalized) transfers of any asset
}

// OutboxMessage is one event waiting to be published.
type OutboxMessage struct {
	ID      int64
	Subject string
	MsgID   string
	Payload []byte
	Created time.Time
}
