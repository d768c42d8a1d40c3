package events

import (
	"fmt"
	"time"
)

// CampaignStatus is a campaign's lifecycle state (design §5).
type CampaignStatus string

const (
	StatusActive    CampaignStatus = "active"
	StatusFunded    CampaignStatus = "funded"
	StatusCompleted CampaignStatus = "completed"
	StatusExpired   CampaignStatus = "expired"
	StatusCancelled CampaignStatus = "cancelled"
)

// Valid reports whether s is a known status.
func (s CampaignStatus) Valid() bool {
	switch s {
	case StatusActive, StatusFunded, StatusCompleted, StatusExpired, StatusCancelled:
		return true
	}
	return false
}

// Open reports whether a campaign in this status still runs (accepts contributions as on time).
func (s CampaignStatus) Open() bool { return s == StatusActive || s == StatusFunded }

// Campaign is the full snapshot of a campaign, as stored by the campaign service. Every field of
// the seed's campaign object is here; money is exact lamports. The gateway derives the seed's SOL
// numbers from the lamport fields.
type Campaign struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Symbol          string         `json:"symbol"`
	ContractAddress string         `json:"contract_address"` // the token mint
	ImageURL        *string        `json:"image_url"`
	WalletAddress   string         `json:"wallet_address"` // the escrow
	Reference       string         `json:"reference"`      // the Solana Pay reference key
	Status          CampaignStatus `json:"status"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	ExpiresAt       time.Time      `json:"expires_at"`
	CampaignType    *string        `json:"campaign_type"`
	SocialTwitter   *string        `json:"social_twitter"`
	SocialWebsite   *string        `json:"social_website"`
	Description     *string        `json:"description"`

	GoalLamports      uint64 `json:"goal_lamports,string"`
	RaisedLamports    uint64 `json:"raised_lamports,string"`  // confirmed + finalized: the seed's current_balance
	SettledLamports   uint64 `json:"settled_lamports,string"` // finalized only
	PendingLamports   uint64 `json:"pending_lamports,string"` // confirmed, not yet finalized
	ContributorCount  int64  `json:"contributor_count"`
	ContributionCount int64  `json:"contribution_count"`
	LateCount         int64  `json:"late_count"` // contributions that arrived after ExpiresAt
	LateLamports      uint64 `json:"late_lamports,string"`
	UnattributedCount int64  `json:"unattributed_count"` // payments into this campaign's escrow no campaign could claim

	TokenLaunchpad *string `json:"token_launchpad"`
	TokenSource    *string `json:"token_source"`
	// Market figures are decimal strings in USD as the pricer reported them ("" when unknown).
	Liquidity string `json:"liquidity"`
	MarketCap string `json:"market_cap"`
	PriceUSD  string `json:"price_usd"`
	Volume24h string `json:"volume_24h"`

	// Revision increases by one with every change of the row; events carry it so a consumer can
	// drop a stale snapshot that arrives after a newer one.
	Revision int64 `json:"revision"`
}

// CampaignEvent is published on the CAMPAIGNS stream: campaign.created, campaign.updated,
// campaign.progress (numbers changed) and campaign.status (status changed). Each carries the full
// snapshot after the change, never a delta.
type CampaignEvent struct {
	Version  int      `json:"version"`
	Type     string   `json:"type"` // "created", "updated", "progress" or "status"
	Campaign Campaign `json:"campaign"`
	// PreviousStatus is set on campaign.status.
	PreviousStatus CampaignStatus `json:"previous_status,omitempty"`
	At             time.Time      `json:"at"`
}

// Subject returns "campaign.<type>".
func (e CampaignEvent) Subject() string { return "campaign." + e.Type }

// MsgID returns the dedup id "<campaign id>:<type>:<revision>". A revision is written once per
// change, so the id names one immutable fact.
func (e CampaignEvent) MsgID() string {
	return fmt.Sprintf("%s:%s:%d", e.Campaign.ID, e.Type, e.Campaign.Revision)
}

// Campaign event types.
const (
	CampaignCreated       = "created"
	CampaignUpdated       = "updated"
	CampaignProgress      = "progress"
	CampaignStatusChanged = "status"
)
