package events

import "time"

// Request/reply subjects of the micro services. The gateway (and the indexer, for the watch list)
// send a JSON request and receive either the reply type or an error carried as an apperr code (see
// package bus).
const (
	ServiceCampaign = "campaign"
	ServicePricer   = "pricer"
	ServiceIndexer  = "indexer"

	SubjectCampaignCreate   = "rpc.campaign.create"
	SubjectCampaignGet      = "rpc.campaign.get"
	SubjectCampaignList     = "rpc.campaign.list"
	SubjectCampaignUpdate   = "rpc.campaign.update"
	SubjectCampaignCancel   = "rpc.campaign.cancel"
	SubjectCampaignEscrowTx = "rpc.campaign.escrowtx"
	SubjectCampaignWatch    = "rpc.campaign.watchlist"
	SubjectCampaignStats    = "rpc.campaign.stats"

	SubjectPricerToken    = "rpc.pricer.token"
	SubjectPricerSOLPrice = "rpc.pricer.solprice"

	SubjectIndexerBalance = "rpc.indexer.balance"
	SubjectIndexerHealth  = "rpc.indexer.health"
	SubjectIndexerStats   = "rpc.indexer.stats"
)

// CreateCampaignRequest asks the campaign service to register a campaign. GoalAmount is the SOL
// goal as the client wrote it (a decimal string, parsed exactly); ExpiresAt is RFC 3339 with any
// offset. IdempotencyKey makes a retried create return the first result instead of a conflict.
type CreateCampaignRequest struct {
	ContractAddress string  `json:"contract_address"`
	GoalAmount      string  `json:"goal_amount"`
	ExpiresAt       string  `json:"expires_at"`
	Description     *string `json:"description,omitempty"`
	SocialTwitter   *string `json:"social_twitter,omitempty"`
	SocialWebsite   *string `json:"social_website,omitempty"`
	CampaignType    *string `json:"campaign_type,omitempty"`
	WalletAddress   *string `json:"wallet_address,omitempty"` // escrow; the service's WALLET when nil
	IdempotencyKey  string  `json:"idempotency_key,omitempty"`
}

// GetCampaignRequest names a campaign by ID or by mint (exactly one is set). By mint it returns the
// open campaign for that mint, else the most recent one.
type GetCampaignRequest struct {
	ID   string `json:"id,omitempty"`
	Mint string `json:"mint,omitempty"`
}

// ListCampaignsRequest filters and pages campaigns, newest first. Cursor is opaque; Limit defaults
// to 50 and is capped at 200.
type ListCampaignsRequest struct {
	Status string `json:"status,omitempty"`
	Mint   string `json:"mint,omitempty"`
	Escrow string `json:"escrow,omitempty"`
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// ListCampaignsReply is one page of campaigns. NextCursor is empty on the last page.
type ListCampaignsReply struct {
	Campaigns  []Campaign `json:"campaigns"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// UpdateCampaignRequest changes what an operator may change. Nil fields stay as they are; an empty
// string clears an optional text field. ExpiresAt may only move later.
type UpdateCampaignRequest struct {
	ID            string  `json:"id"`
	Description   *string `json:"description,omitempty"`
	SocialTwitter *string `json:"social_twitter,omitempty"`
	SocialWebsite *string `json:"social_website,omitempty"`
	ExpiresAt     *string `json:"expires_at,omitempty"`
}

// CancelCampaignRequest cancels an open campaign.
type CancelCampaignRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// CampaignReply carries one campaign. Created is true when a create made a new campaign and false
// when an idempotent retry returned an existing one.
type CampaignReply struct {
	Campaign Campaign `json:"campaign"`
	Created  bool     `json:"created,omitempty"`
}

// EscrowTransactionsRequest pages the ledger of one escrow, newest first.
type EscrowTransactionsRequest struct {
	Escrow string `json:"escrow"`
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// LedgerEntry is one credited transfer.
type LedgerEntry struct {
	Signature     string            `json:"signature"`
	TransferIndex int               `json:"transfer_index"`
	CampaignID    string            `json:"campaign_id,omitempty"`
	Escrow        string            `json:"escrow"`
	Payer         string            `json:"payer"`
	Amount        uint64            `json:"amount,string"` // base units
	Mint          string            `json:"mint,omitempty"`
	Decimals      uint8             `json:"decimals"`
	State         ContributionState `json:"state"` // confirmed or finalized
	Late          bool              `json:"late"`
	Slot          uint64            `json:"slot"`
	BlockTime     int64             `json:"block_time"`
	Memo          string            `json:"memo,omitempty"`
}

// EscrowTransactionsReply is the seed's escrow-transactions shape in exact units:
// TransactionCount and Contributors cover the whole escrow, Transactions is one page.
type EscrowTransactionsReply struct {
	Escrow           string        `json:"escrow"`
	TransactionCount int64         `json:"transaction_count"`
	TotalLamports    uint64        `json:"total_lamports,string"` // SOL credited to the escrow (confirmed + finalized)
	Contributors     []string      `json:"contributors"`
	Transactions     []LedgerEntry `json:"transactions"`
	NextCursor       string        `json:"next_cursor,omitempty"`
}

// WatchListRequest asks for every escrow the indexer must watch.
type WatchListRequest struct{}

// WatchEntry is one campaign the indexer watches: its escrow and its reference.
type WatchEntry struct {
	CampaignID string         `json:"campaign_id"`
	Escrow     string         `json:"escrow"`
	Reference  string         `json:"reference"`
	Mint       string         `json:"mint"`
	Status     CampaignStatus `json:"status"`
}

// WatchListReply lists every campaign whose escrow is watched (open campaigns and recently closed
// ones, so late payments are still recorded).
type WatchListReply struct {
	Entries []WatchEntry `json:"entries"`
}

// StatsRequest asks the campaign service for health figures. It pings the database.
type StatsRequest struct{}

// StatsReply reports the campaign service's health figures.
type StatsReply struct {
	MonitoredCampaigns int64 `json:"monitored_campaigns"` // open campaigns
	TotalCampaigns     int64 `json:"total_campaigns"`
	DatabaseOK         bool  `json:"database_ok"`
}

// TokenInfoRequest asks the pricer about a mint. Refresh skips the cache.
type TokenInfoRequest struct {
	Mint    string `json:"mint"`
	Refresh bool   `json:"refresh,omitempty"`
}

// SOLPriceRequest asks the pricer for the SOL/USD price.
type SOLPriceRequest struct{}

// EscrowBalanceRequest asks the indexer for an address's live balance.
type EscrowBalanceRequest struct {
	Escrow string `json:"escrow"`
}

// EscrowBalanceReply is a live balance, at most a second old.
type EscrowBalanceReply struct {
	Escrow   string    `json:"escrow"`
	Lamports uint64    `json:"lamports,string"`
	Slot     uint64    `json:"slot"`
	At       time.Time `json:"at"`
}

// ChainHealthRequest asks the indexer whether the Solana RPC answers.
type ChainHealthRequest struct{}

// ChainHealthReply reports the Solana connection as the indexer sees it.
type ChainHealthReply struct {
	OK            bool   `json:"ok"`
	Slot          uint64 `json:"slot"`
	LagSlots      uint64 `json:"lag_slots"` // processed slot minus the newest slot the indexer handled
	Subscriptions int    `json:"subscriptions"`
	Degraded      bool   `json:"degraded"` // some escrows fall back to polling
	Error         string `json:"error,omitempty"`
}

// IndexerStatsRequest asks the indexer for counters.
type IndexerStatsRequest struct{}

// IndexerStatsReply carries the indexer's counters since start.
type IndexerStatsReply struct {
	Escrows       int   `json:"escrows"`
	Notifications int64 `json:"notifications"`
	Backfilled    int64 `json:"backfilled"`
	Published     int64 `json:"published"`
	Parked        int64 `json:"parked"`
	RPCCalls      int64 `json:"rpc_calls"`
}
