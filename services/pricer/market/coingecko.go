package market

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Quote is one SOL/USD observation: a canonical positive decimal and when it was observed.
type Quote struct {
	USD string
	At  time.Time
}

// CoinGecko reads SOL/USD from CoinGecko's simple price API.
type CoinGecko struct {
	Client  *Client
	BaseURL string // e.g. https://api.coingecko.com/api/v3
	APIKey  string // optional demo/pro key, sent as x-cg-demo-api-key
	Now     func() time.Time
}

// Name identifies the source in events.SOLPrice.Source.
func (CoinGecko) Name() string { return "coingecko" }

// SOLUSD fetches /simple/price?ids=solana&vs_currencies=usd and returns solana.usd.
func (g CoinGecko) SOLUSD(ctx context.Context) (Quote, error) {
	var body map[string]map[string]json.Number
	var h http.Header
	if g.APIKey != "" {
		h = http.Header{"x-cg-demo-api-key": {g.APIKey}}
	}
	url := strings.TrimRight(g.BaseURL, "/") + "/simple/price?ids=solana&vs_currencies=usd"
	if err := g.Client.GetJSON(ctx, url, h, &body); err != nil {
		return Quote{}, err
	}
	usd, err := Positive(body["solana"]["usd"])
	if err != nil {
		return Quote{}, fmt.Errorf("coingecko: solana.usd: %w", err)
	}
	return Quote{USD: usd, At: now(g.Now)}, nil
}

func now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}
