// Package fanout delivers the project's JetStream events to WebSocket clients. A Hub holds one
// ordered, ephemeral consumer per stream (CAMPAIGNS, CONTRIBUTIONS) and a watch on the PRICES
// bucket for the whole gateway instance, and routes each message to the clients subscribed to
// its channels.
//
// Guarantees:
//   - Every event frame carries the stream it came from and that stream's sequence number
//     (the KV revision for PRICES). Within one stream a client receives events in sequence order,
//     never twice on the same channel.
//   - A client that resubscribes with "since" (the last seq it saw per stream) first receives the
//     stored events it missed on its channels, replayed from JetStream, then live ones, with no
//     gap and no duplicate at the hand-over.
//   - Each connection has one writer goroutine and a bounded send queue. The hub never blocks on
//     a client: a client whose queue is full is disconnected (close code 4008), so a slow client
//     cannot delay anyone else. Pings keep connections alive; every write has a deadline.
package fanout

import (
	"encoding/json"
	"strings"

	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solana/address"
)

// Channel names a client may subscribe to.
const (
	ChannelPrices    = "prices"
	ChannelCampaigns = "campaigns"
	prefixCampaign   = "campaign:"
	prefixEscrow     = "escrow:"
)

// StreamPrices is the name used in frames and in "since" for the PRICES bucket.
const StreamPrices = events.BucketPrices

// Error codes of error frames.
const (
	CodeBadMessage      = "bad_message"  // not JSON, unknown fields, or a binary frame
	CodeUnknownType     = "unknown_type" // type is not subscribe, unsubscribe or ping
	CodeBadChannel      = "bad_channel"  // a channel name that does not parse
	CodeTooManyChannels = "too_many_channels"
	CodeBadSince        = "bad_since"        // unknown stream, or since after events were delivered
	CodeReplayTruncated = "replay_truncated" // the gap is larger than the replay limit or no longer stored
	CodeReplayFailed    = "replay_failed"    // JetStream could not replay; resubscribe later
	CodeSinceAhead      = "since_ahead"      // since is past the stream's last sequence; live events follow from it
)

// clientMsg is what a client sends.
type clientMsg struct {
	Type     string            `json:"type"`
	ID       string            `json:"id,omitempty"`
	Channels []string          `json:"channels,omitempty"`
	Since    map[string]uint64 `json:"since,omitempty"`
}

type ackFrame struct {
	Type     string   `json:"type"` // "ack"
	Action   string   `json:"action"`
	ID       string   `json:"id,omitempty"`
	Channels []string `json:"channels"`
	// LastSeq is, per stream, the newest sequence this connection has delivered or resumes after.
	LastSeq map[string]uint64 `json:"last_seq"`
}

type errorFrame struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
	Channel string `json:"channel,omitempty"`
	Stream  string `json:"stream,omitempty"`
}

type eventFrame struct {
	Type    string          `json:"type"` // "event"
	Channel string          `json:"channel"`
	Stream  string          `json:"stream"`
	Seq     uint64          `json:"seq"`
	Subject string          `json:"subject"`
	Event   json.RawMessage `json:"event"`
}

// checkChannel validates a channel name.
func checkChannel(ch string) bool {
	switch {
	case ch == ChannelPrices || ch == ChannelCampaigns:
		return true
	case strings.HasPrefix(ch, prefixCampaign):
		id := ch[len(prefixCampaign):]
		if id == "" || len(id) > 64 {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		return true
	case strings.HasPrefix(ch, prefixEscrow):
		return address.Valid(ch[len(prefixEscrow):])
	}
	return false
}

// routeCampaign returns the channels of a CAMPAIGNS message.
func routeCampaign(data []byte) ([]string, bool) {
	var ev struct {
		Campaign struct {
			ID string `json:"id"`
		} `json:"campaign"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.Campaign.ID == "" {
		return nil, false
	}
	return []string{ChannelCampaigns, prefixCampaign + ev.Campaign.ID}, true
}

// routeContribution returns the channels of a CONTRIBUTIONS message.
func routeContribution(data []byte) ([]string, bool) {
	var ev struct {
		Escrow     string `json:"escrow"`
		CampaignID string `json:"campaign_id"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.Escrow == "" {
		return nil, false
	}
	chs := []string{prefixEscrow + ev.Escrow}
	if ev.CampaignID != "" {
		chs = append(chs, prefixCampaign+ev.CampaignID)
	}
	return chs, true
}

func route(stream string, data []byte) ([]string, bool) {
	if stream == events.StreamCampaigns {
		return routeCampaign(data)
	}
	return routeContribution(data)
}
