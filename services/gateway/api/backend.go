package api

import (
	"context"
	"time"

	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
)

// Backend reaches the campaign, pricer and indexer services over NATS request/reply. It holds no
// state of its own; every call is bounded by the configured timeout.
type Backend struct {
	conn    *bus.Conn
	timeout time.Duration

	// Read caches, set by WithReadCache; nil means every read goes to the service.
	campaigns *readCache[events.CampaignReply]
	stats     *readCache[events.StatsReply]
	chain     *readCache[events.ChainHealthReply]
	price     *readCache[events.SOLPrice]
}

// NewBackend returns a Backend over conn whose calls give up after timeout.
func NewBackend(conn *bus.Conn, timeout time.Duration) *Backend {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Backend{conn: conn, timeout: timeout}
}

// WithReadCache makes campaign lookups and the health inputs (campaign stats, chain health, SOL
// price) answer from a reply at most ttl old, collapsing concurrent identical reads into one
// request. A zero ttl disables it. It returns b.
func (b *Backend) WithReadCache(ttl time.Duration) *Backend {
	if ttl <= 0 {
		return b
	}
	b.campaigns = newReadCache[events.CampaignReply](ttl)
	b.stats = newReadCache[events.StatsReply](ttl)
	b.chain = newReadCache[events.ChainHealthReply](ttl)
	b.price = newReadCache[events.SOLPrice](ttl)
	return b
}

func call[Resp, Req any](ctx context.Context, b *Backend, subject string, req Req) (Resp, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return bus.Request[Resp](ctx, b.conn, subject, req)
}

// CreateCampaign asks the campaign service to register a campaign.
func (b *Backend) CreateCampaign(ctx context.Context, req events.CreateCampaignRequest) (events.CampaignReply, error) {
	defer b.campaigns.clear()
	return call[events.CampaignReply](ctx, b, events.SubjectCampaignCreate, req)
}

// GetCampaign fetches a campaign by id or mint.
func (b *Backend) GetCampaign(ctx context.Context, req events.GetCampaignRequest) (events.CampaignReply, error) {
	return b.campaigns.get(ctx, "id="+req.ID+"&mint="+req.Mint, func(ctx context.Context) (events.CampaignReply, error) {
		return call[events.CampaignReply](ctx, b, events.SubjectCampaignGet, req)
	})
}

// ListCampaigns pages campaigns.
func (b *Backend) ListCampaigns(ctx context.Context, req events.ListCampaignsRequest) (events.ListCampaignsReply, error) {
	return call[events.ListCampaignsReply](ctx, b, events.SubjectCampaignList, req)
}

// UpdateCampaign changes a campaign's operator-editable fields.
func (b *Backend) UpdateCampaign(ctx context.Context, req events.UpdateCampaignRequest) (events.CampaignReply, error) {
	defer b.campaigns.clear()
	return call[events.CampaignReply](ctx, b, events.SubjectCampaignUpdate, req)
}

// CancelCampaign cancels an open campaign.
func (b *Backend) CancelCampaign(ctx context.Context, req events.CancelCampaignRequest) (events.CampaignReply, error) {
	defer b.campaigns.clear()
	return call[events.CampaignReply](ctx, b, events.SubjectCampaignCancel, req)
}

// EscrowTransactions pages an escrow's ledger.
func (b *Backend) EscrowTransactions(ctx context.Context, req events.EscrowTransactionsRequest) (events.EscrowTransactionsReply, error) {
	return call[events.EscrowTransactionsReply](ctx, b, events.SubjectCampaignEscrowTx, req)
}

// CampaignStats returns the campaign service's health figures.
func (b *Backend) CampaignStats(ctx context.Context) (events.StatsReply, error) {
	return b.stats.get(ctx, "", func(ctx context.Context) (events.StatsReply, error) {
		return call[events.StatsReply](ctx, b, events.SubjectCampaignStats, events.StatsRequest{})
	})
}

// TokenInfo asks the pricer about a mint.
func (b *Backend) TokenInfo(ctx context.Context, mint string) (events.TokenInfo, error) {
	return call[events.TokenInfo](ctx, b, events.SubjectPricerToken, events.TokenInfoRequest{Mint: mint})
}

// SOLPrice asks the pricer for the SOL/USD price.
func (b *Backend) SOLPrice(ctx context.Context) (events.SOLPrice, error) {
	return b.price.get(ctx, "", func(ctx context.Context) (events.SOLPrice, error) {
		return call[events.SOLPrice](ctx, b, events.SubjectPricerSOLPrice, events.SOLPriceRequest{})
	})
}

// EscrowBalance asks the indexer for an address's live balance.
func (b *Backend) EscrowBalance(ctx context.Context, escrow string) (events.EscrowBalanceReply, error) {
	return call[events.EscrowBalanceReply](ctx, b, events.SubjectIndexerBalance, events.EscrowBalanceRequest{Escrow: escrow})
}

// ChainHealth asks the indexer whether the Solana RPC answers.
func (b *Backend) ChainHealth(ctx context.Context) (events.ChainHealthReply, error) {
	return b.chain.get(ctx, "", func(ctx context.Context) (events.ChainHealthReply, error) {
		return call[events.ChainHealthReply](ctx, b, events.SubjectIndexerHealth, events.ChainHealthRequest{})
	})
}
