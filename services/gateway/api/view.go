package api

import (
	"encoding/json"
	"time"

	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/money"
)

// campaignView is the seed's campaign object. Every seed field keeps its name, type and meaning:
// goal_amount and current_balance are SOL as JSON numbers, derived exactly from lamports. The
// exact integers and the settled/pending split are added alongside.
type campaignView struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Symbol           string          `json:"symbol"`
	ContractAddress  string          `json:"contract_address"`
	ImageURL         *string         `json:"image_url"`
	WalletAddress    string          `json:"wallet_address"`
	GoalAmount       money.SOLNumber `json:"goal_amount"`
	Status           string          `json:"status"`
	CreatedAt        string          `json:"created_at"`
	ExpiresAt        string          `json:"expires_at"`
	CampaignType     *string         `json:"campaign_type"`
	SocialTwitter    *string         `json:"social_twitter"`
	SocialWebsite    *string         `json:"social_website"`
	Description      *string         `json:"description"`
	CurrentBalance   money.SOLNumber `json:"current_balance"`
	ContributorCount int64           `json:"contributor_count"`
	TokenLaunchpad   *string         `json:"token_launchpad"`
	TokenSource      *string         `json:"token_source"`
	Liquidity        string          `json:"liquidity"`
	MarketCap        string          `json:"market_cap"`
	PriceUSD         string          `json:"price_usd"`
	Volume24h        string          `json:"volume_24h"`

	// Added: exact figures and the Solana Pay reference.
	Reference              string          `json:"reference"`
	UpdatedAt              string          `json:"updated_at"`
	GoalLamports           money.Lamports  `json:"goal_lamports"`
	CurrentBalanceLamports money.Lamports  `json:"current_balance_lamports"`
	SettledBalance         money.SOLNumber `json:"settled_balance"`
	SettledLamports        money.Lamports  `json:"settled_lamports"`
	PendingBalance         money.SOLNumber `json:"pending_balance"`
	PendingLamports        money.Lamports  `json:"pending_lamports"`
	ContributionCount      int64           `json:"contribution_count"`
	LateCount              int64           `json:"late_count"`
	LateLamports           money.Lamports  `json:"late_lamports"`
	UnattributedCount      int64           `json:"unattributed_count"`
	Revision               int64           `json:"revision"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func viewCampaign(c events.Campaign) *campaignView {
	return &campaignView{
		ID:                     c.ID,
		Name:                   c.Name,
		Symbol:                 c.Symbol,
		ContractAddress:        c.ContractAddress,
		ImageURL:               c.ImageURL,
		WalletAddress:          c.WalletAddress,
		GoalAmount:             money.SOLNumber(c.GoalLamports),
		Status:                 string(c.Status),
		CreatedAt:              formatTime(c.CreatedAt),
		ExpiresAt:              formatTime(c.ExpiresAt),
		CampaignType:           c.CampaignType,
		SocialTwitter:          c.SocialTwitter,
		SocialWebsite:          c.SocialWebsite,
		Description:            c.Description,
		CurrentBalance:         money.SOLNumber(c.RaisedLamports),
		ContributorCount:       c.ContributorCount,
		TokenLaunchpad:         c.TokenLaunchpad,
		TokenSource:            c.TokenSource,
		Liquidity:              c.Liquidity,
		MarketCap:              c.MarketCap,
		PriceUSD:               c.PriceUSD,
		Volume24h:              c.Volume24h,
		Reference:              c.Reference,
		UpdatedAt:              formatTime(c.UpdatedAt),
		GoalLamports:           money.Lamports(c.GoalLamports),
		CurrentBalanceLamports: money.Lamports(c.RaisedLamports),
		SettledBalance:         money.SOLNumber(c.SettledLamports),
		SettledLamports:        money.Lamports(c.SettledLamports),
		PendingBalance:         money.SOLNumber(c.PendingLamports),
		PendingLamports:        money.Lamports(c.PendingLamports),
		ContributionCount:      c.ContributionCount,
		LateCount:              c.LateCount,
		LateLamports:           money.Lamports(c.LateLamports),
		UnattributedCount:      c.UnattributedCount,
		Revision:               c.Revision,
	}
}

// campaignEnvelope is the seed's envelope of campaign-detail and of campaign creation.
type campaignEnvelope struct {
	Success       bool          `json:"success"`
	CampaignID    *string       `json:"campaign_id"`
	EscrowAddress *string       `json:"escrow_address"`
	Error         *string       `json:"error"`
	Campaign      *campaignView `json:"campaign"`
}

// txView is one entry of the seed's transactions arrays. amount is in whole units of what moved
// (SOL, or the token for SPL transfers) as an exact JSON number; amount_raw is the integer.
type txView struct {
	Signature     string      `json:"signature"`
	Amount        json.Number `json:"amount"`
	From          string      `json:"from"`
	Timestamp     int64       `json:"timestamp"`
	AmountRaw     string      `json:"amount_raw"`
	Mint          *string     `json:"mint"`
	TransferIndex int         `json:"transfer_index"`
	State         string      `json:"state"`
	CampaignID    *string     `json:"campaign_id"`
	Slot          uint64      `json:"slot"`
	Late          bool        `json:"late"`
}

func viewTx(e events.LedgerEntry) txView {
	dec := e.Decimals
	if e.Mint == "" {
		dec = money.SOLDecimals
	}
	v := txView{
		Signature:     e.Signature,
		Amount:        json.Number(money.FormatUnits(e.Amount, dec)),
		From:          e.Payer,
		Timestamp:     e.BlockTime,
		AmountRaw:     money.FormatUnits(e.Amount, 0),
		TransferIndex: e.TransferIndex,
		State:         string(e.State),
		Slot:          e.Slot,
		Late:          e.Late,
	}
	if e.Mint != "" {
		m := e.Mint
		v.Mint = &m
	}
	if e.CampaignID != "" {
		id := e.CampaignID
		v.CampaignID = &id
	}
	return v
}

func viewTxs(in []events.LedgerEntry) []txView {
	out := make([]txView, 0, len(in))
	for _, e := range in {
		out = append(out, viewTx(e))
	}
	return out
}

func strPtr(s string) *string { return &s }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
