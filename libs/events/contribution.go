package events

import (
	"fmt"
	"time"
)

// ContributionState is the commitment a contribution event reports.
type ContributionState string

const (
	StateConfirmed ContributionState = "confirmed"
	StateFinalized ContributionState = "finalized"
	StateDropped   ContributionState = "dropped"
)

// Subject returns the subject an event in this state is published on.
func (s ContributionState) Subject() string { return "contribution." + string(s) }

// Valid reports whether s is a known state.
func (s ContributionState) Valid() bool {
	return s == StateConfirmed || s == StateFinalized || s == StateDropped
}

// Contribution is one transfer into a watched escrow, as read from a successful transaction. The
// indexer publishes it on contribution.confirmed, then again on contribution.finalized or
// contribution.dropped. (Signature, TransferIndex) identifies the transfer for ever.
type Contribution struct {
	Version int               `json:"version"`
	State   ContributionState `json:"state"`

	Signature string `json:"signature"`
	// TransferIndex is the position of the transfer's instruction in the transaction's flattened
	// instruction list: top-level instructions in order, each followed by its inner instructions.
	// It depends only on the transaction, not on what is watched.
	TransferIndex int `json:"transfer_index"`

	Escrow string `json:"escrow"` // the watched address that received the money (the owner, for SPL)
	Payer  string `json:"payer"`  // the address the money came from (the authority, for SPL)
	// Amount is in base units: lamports when Mint is empty, raw token units otherwise.
	Amount       uint64 `json:"amount,string"`
	Mint         string `json:"mint,omitempty"`          // empty for SOL
	Decimals     uint8  `json:"decimals"`                // 9 for SOL
	TokenAccount string `json:"token_account,omitempty"` // the escrow's token account, for SPL

	Memo      string `json:"memo,omitempty"`
	Reference string `json:"reference,omitempty"` // the campaign reference found among the account keys
	// CampaignID is the campaign the transfer is attributed to: by reference, else by an escrow
	// used by exactly one campaign; empty when unattributed.
	CampaignID string `json:"campaign_id,omitempty"`

	Slot      uint64    `json:"slot"`
	BlockTime int64     `json:"block_time"` // unix seconds, 0 when the node did not report one
	Observed  time.Time `json:"observed_at"`
}

// MsgID returns the dedup id: "<signature>:<transfer index>:<state>".
func (c Contribution) MsgID() string {
	return ContributionMsgID(c.Signature, c.TransferIndex, c.State)
}

// ContributionMsgID builds the dedup id of a contribution event from its immutable facts.
func ContributionMsgID(signature string, transferIndex int, state ContributionState) string {
	return fmt.Sprintf("%s:%d:%s", signature, transferIndex, state)
}
