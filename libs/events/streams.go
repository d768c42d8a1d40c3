package events

import "time"

// Stream names and subjects. Subjects are lowercase and dotted with the event name last.
const (
	StreamCampaigns     = "CAMPAIGNS"
	StreamContributions = "CONTRIBUTIONS"

	SubjectCampaignCreated  = "campaign.created"
	SubjectCampaignUpdated  = "campaign.updated"
	SubjectCampaignProgress = "campaign.progress"
	SubjectCampaignStatus   = "campaign.status"

	SubjectContributionConfirmed = "contribution.confirmed"
	SubjectContributionFinalized = "contribution.finalized"
	SubjectContributionDropped   = "contribution.dropped"

	// Key-value buckets.
	BucketPrices  = "PRICES"
	BucketIndexer = "INDEXER"

	// KeySOLUSD is the PRICES key of the SOL/USD price.
	KeySOLUSD = "sol.usd"
)

// KeyToken returns the PRICES key of a token's info: "token.<mint>".
func KeyToken(mint string) string { return "token." + mint }

// KeyCheckpoint returns the INDEXER key of an escrow's backfill checkpoint.
func KeyCheckpoint(escrow string) string { return "checkpoint." + escrow }

// StreamSpec describes a stream so every service creates it identically (create-or-update).
type StreamSpec struct {
	Name       string
	Subjects   []string
	MaxAge     time.Duration // 0 keeps messages until limits
	Duplicates time.Duration // the dedup window for Nats-Msg-Id
}

// KVSpec describes a key-value bucket.
type KVSpec struct {
	Bucket  string
	History uint8
	TTL     time.Duration
}

// Streams are the project's JetStream streams. The dedup window is long enough to cover any
// producer retry loop and an indexer restart with backfill.
var Streams = []StreamSpec{
	{
		Name:       StreamCampaigns,
		Subjects:   []string{SubjectCampaignCreated, SubjectCampaignUpdated, SubjectCampaignProgress, SubjectCampaignStatus},
		Duplicates: 24 * time.Hour,
	},
	{
		Name:       StreamContributions,
		Subjects:   []string{SubjectContributionConfirmed, SubjectContributionFinalized, SubjectContributionDropped},
		Duplicates: 24 * time.Hour,
	},
}

// Buckets are the project's key-value buckets.
var Buckets = []KVSpec{
	{Bucket: BucketPrices, History: 1},
	{Bucket: BucketIndexer, History: 1},
}
