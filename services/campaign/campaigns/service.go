package campaigns

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/google/uuid"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
)

// TokenSource answers what the pricer knows about a mint: an apperr not_found when the mint is
// unknown or not a mint, unavailable when the pricer cannot be reached.
type TokenSource interface {
	Token(ctx context.Context, mint string) (events.TokenInfo, error)
}

// Rules are the configurable limits of campaign validation and the watch list.
type Rules struct {
	Wallet     string        // default escrow
	MaxGoal    uint64        // lamports
	MaxHorizon time.Duration // how far in the future an end time may lie
	LateGrace  time.Duration // how long a closed campaign stays on the watch list
}

// Service decides creates, updates and cancels and answers reads. Changes go through Store,
// which records the matching events in its outbox; Changed is called after each committed change
// so the outbox relay can publish at once.
type Service struct {
	store   Store
	tokens  TokenSource
	rules   Rules
	now     func() time.Time
	Changed func()
}

// NewService returns a Service. now may be nil (time.Now).
func NewService(store Store, tokens TokenSource, rules Rules, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, tokens: tokens, rules: rules, now: now, Changed: func() {}}
}

// Create validates req, looks the token up and stores a new campaign. Every rejected input is an
// apperr invalid error naming the field, and nothing is stored.
func (s *Service) Create(ctx context.Context, req events.CreateCampaignRequest) (events.CampaignReply, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	mint, err := parseAddress("contract_address", req.ContractAddress)
	if err != nil {
		return events.CampaignReply{}, err
	}
	goal, err := parseGoal(req.GoalAmount, s.rules.MaxGoal)
	if err != nil {
		return events.CampaignReply{}, err
	}
	end, err := parseEnd(req.ExpiresAt, now, s.rules.MaxHorizon)
	if err != nil {
		return events.CampaignReply{}, err
	}
	desc, err := optText("description", req.Description, maxDescription, true)
	if err != nil {
		return events.CampaignReply{}, err
	}
	tw, err := optURL("social_twitter", req.SocialTwitter)
	if err != nil {
		return events.CampaignReply{}, err
	}
	web, err := optURL("social_website", req.SocialWebsite)
	if err != nil {
		return events.CampaignReply{}, err
	}
	ctype, err := optText("campaign_type", req.CampaignType, maxCampaignType, false)
	if err != nil {
		return events.CampaignReply{}, err
	}
	escrow := s.rules.Wallet
	if req.WalletAddress != nil {
		if escrow, err = parseAddress("wallet_address", *req.WalletAddress); err != nil {
			return events.CampaignReply{}, err
		}
		if name, ok := address.KnownProgram(escrow); ok {
			return events.CampaignReply{}, apperr.InvalidField("wallet_address", "is the %s, which can never spend what it receives; name a wallet you control", name)
		}
	}
	if escrow == "" {
		return events.CampaignReply{}, apperr.InvalidField("wallet_address", "is required: the service has no default WALLET")
	}
	if err := checkText("idempotency_key", req.IdempotencyKey, maxIdemKey, false); err != nil {
		return events.CampaignReply{}, err
	}

	// A retried create answers from the first result without asking the pricer again.
	hash := requestHash(req)
	if req.IdempotencyKey != "" {
		if c, ok, err := s.store.ByIdempotencyKey(ctx, req.IdempotencyKey, hash); ok || err != nil {
			return events.CampaignReply{Campaign: c}, err
		}
	}

	info, err := s.tokens.Token(ctx, mint)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound || apperr.CodeOf(err) == apperr.Invalid:
		return events.CampaignReply{}, apperr.InvalidField("contract_address", "token not found")
	case apperr.CodeOf(err) == apperr.Unavailable:
		return events.CampaignReply{}, apperr.Unavailablef("token information is unavailable; try again later")
	case err != nil:
		return events.CampaignReply{}, err
	}

	ref, err := newReference()
	if err != nil {
		return events.CampaignReply{}, err
	}
	nc := NewCampaign{
		ID:             uuid.NewString(),
		Reference:      ref,
		Mint:           mint,
		Escrow:         escrow,
		Name:           info.Name,
		Symbol:         info.Symbol,
		Goal:           goal,
		CreatedAt:      now,
		ExpiresAt:      end,
		CampaignType:   ctype,
		SocialTwitter:  tw,
		SocialWebsite:  web,
		Description:    desc,
		Token:          info,
		IdempotencyKey: req.IdempotencyKey,
		RequestHash:    hash,
	}
	if info.ImageURL != "" {
		img := info.ImageURL
		nc.ImageURL = &img
	}
	c, created, err := s.store.Create(ctx, nc)
	if err != nil {
		return events.CampaignReply{}, err
	}
	if created {
		s.Changed()
	}
	return events.CampaignReply{Campaign: c, Created: created}, nil
}

// newReference returns a fresh Solana Pay reference: the public key of a new random ed25519
// key pair, so it is unique and not on any other account's path.
func newReference() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	return solana.PublicKeyFromBytes(pub).String(), nil
}

// requestHash identifies what a create asked for, so an idempotency key reused for a different
// request is recognised.
func requestHash(req events.CreateCampaignRequest) string {
	req.IdempotencyKey = ""
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Get returns a campaign by id or by mint (exactly one must be set).
func (s *Service) Get(ctx context.Context, req events.GetCampaignRequest) (events.CampaignReply, error) {
	switch {
	case req.ID != "" && req.Mint != "":
		return events.CampaignReply{}, apperr.InvalidField("id", "give either id or mint, not both")
	case req.ID != "":
		if err := validID(req.ID); err != nil {
			return events.CampaignReply{}, err
		}
		c, err := s.store.Get(ctx, strings.ToLower(req.ID))
		return events.CampaignReply{Campaign: c}, err
	case req.Mint != "":
		if _, err := parseAddress("contract_address", req.Mint); err != nil {
			return events.CampaignReply{}, err
		}
		c, err := s.store.GetByMint(ctx, req.Mint)
		return events.CampaignReply{Campaign: c}, err
	}
	return events.CampaignReply{}, apperr.InvalidField("id", "id or mint is required")
}

// List returns one page of campaigns.
func (s *Service) List(ctx context.Context, req events.ListCampaignsRequest) (events.ListCampaignsReply, error) {
	f := ListFilter{Status: req.Status, Mint: req.Mint, Escrow: req.Escrow, Cursor: req.Cursor, Limit: req.Limit}
	if f.Status != "" && !events.CampaignStatus(f.Status).Valid() {
		return events.ListCampaignsReply{}, apperr.InvalidField("status", "must be one of active, funded, completed, expired, cancelled")
	}
	if f.Mint != "" {
		if _, err := parseAddress("mint", f.Mint); err != nil {
			return events.ListCampaignsReply{}, err
		}
	}
	if f.Escrow != "" {
		if _, err := parseAddress("escrow", f.Escrow); err != nil {
			return events.ListCampaignsReply{}, err
		}
	}
	switch {
	case f.Limit < 0:
		return events.ListCampaignsReply{}, apperr.InvalidField("limit", "must not be negative")
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit > 200:
		f.Limit = 200
	}
	cs, next, err := s.store.List(ctx, f)
	if err != nil {
		return events.ListCampaignsReply{}, err
	}
	if cs == nil {
		cs = []events.Campaign{}
	}
	return events.ListCampaignsReply{Campaigns: cs, NextCursor: next}, nil
}

// Update changes description, socials or (later only) the end time.
func (s *Service) Update(ctx context.Context, req events.UpdateCampaignRequest) (events.CampaignReply, error) {
	if err := validID(req.ID); err != nil {
		return events.CampaignReply{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var p Patch
	var err error
	clear := func(v *string, in *string) *string {
		if in != nil && v == nil {
			empty := ""
			return &empty
		}
		return v
	}
	if p.Description, err = optText("description", req.Description, maxDescription, true); err != nil {
		return events.CampaignReply{}, err
	}
	p.Description = clear(p.Description, req.Description)
	if p.SocialTwitter, err = optURL("social_twitter", req.SocialTwitter); err != nil {
		return events.CampaignReply{}, err
	}
	p.SocialTwitter = clear(p.SocialTwitter, req.SocialTwitter)
	if p.SocialWebsite, err = optURL("social_website", req.SocialWebsite); err != nil {
		return events.CampaignReply{}, err
	}
	p.SocialWebsite = clear(p.SocialWebsite, req.SocialWebsite)
	if req.ExpiresAt != nil {
		end, err := parseEnd(*req.ExpiresAt, now, s.rules.MaxHorizon)
		if err != nil {
			return events.CampaignReply{}, err
		}
		p.ExpiresAt = &end
	}
	if p == (Patch{}) {
		return events.CampaignReply{}, apperr.InvalidField("id", "nothing to update")
	}
	c, err := s.store.Update(ctx, strings.ToLower(req.ID), p, now)
	if err != nil {
		return events.CampaignReply{}, err
	}
	s.Changed()
	return events.CampaignReply{Campaign: c}, nil
}

// Cancel cancels an open campaign.
func (s *Service) Cancel(ctx context.Context, req events.CancelCampaignRequest) (events.CampaignReply, error) {
	if err := validID(req.ID); err != nil {
		return events.CampaignReply{}, err
	}
	if err := checkText("reason", req.Reason, maxCancelReason, false); err != nil {
		return events.CampaignReply{}, err
	}
	c, err := s.store.Cancel(ctx, strings.ToLower(req.ID), req.Reason, s.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return events.CampaignReply{}, err
	}
	s.Changed()
	return events.CampaignReply{Campaign: c}, nil
}

// EscrowTransactions pages an escrow's ledger.
func (s *Service) EscrowTransactions(ctx context.Context, req events.EscrowTransactionsRequest) (events.EscrowTransactionsReply, error) {
	if _, err := parseAddress("wallet_address", req.Escrow); err != nil {
		return events.EscrowTransactionsReply{}, err
	}
	limit := req.Limit
	switch {
	case limit < 0:
		return events.EscrowTransactionsReply{}, apperr.InvalidField("limit", "must not be negative")
	case limit == 0:
		limit = 50
	case limit > 200:
		limit = 200
	}
	return s.store.EscrowTransactions(ctx, req.Escrow, req.Cursor, limit)
}

// WatchList lists the campaigns whose escrows the indexer must watch.
func (s *Service) WatchList(ctx context.Context, _ events.WatchListRequest) (events.WatchListReply, error) {
	es, err := s.store.WatchList(ctx, s.now().Add(-s.rules.LateGrace))
	if err != nil {
		return events.WatchListReply{}, err
	}
	if es == nil {
		es = []events.WatchEntry{}
	}
	return events.WatchListReply{Entries: es}, nil
}

// Stats reports monitored (open) and total campaigns and whether the database answers. A
// database failure is reported in the reply, not as an error, so health pages can show it.
func (s *Service) Stats(ctx context.Context, _ events.StatsRequest) (events.StatsReply, error) {
	if err := s.store.Ping(ctx); err != nil {
		return events.StatsReply{DatabaseOK: false}, nil
	}
	open, total, err := s.store.Stats(ctx)
	if err != nil {
		return events.StatsReply{DatabaseOK: false}, nil
	}
	return events.StatsReply{MonitoredCampaigns: open, TotalCampaigns: total, DatabaseOK: true}, nil
}
