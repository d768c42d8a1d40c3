package market

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// WrappedSOLMint is the mint Jupiter and DexScreener use for SOL.
const WrappedSOLMint = "So11111111111111111111111111111111111111112"

// Jupiter reads SOL/USD from Jupiter's Price API v3 (an object keyed by mint, no wrapper).
type Jupiter struct {
	Client *Client
	URL    string // the price endpoint, e.g. https://api.jup.ag/price/v3
	APIKey string // sent as x-api-key
	Now    func() time.Time
}

// Name identifies the source in events.SOLPrice.Source.
func (Jupiter) Name() string { return "jupiter" }

// SOLUSD fetches ?ids=<wSOL> and returns that entry's usdPrice.
func (j Jupiter) SOLUSD(ctx context.Context) (Quote, error) {
	var body map[string]struct {
		USDPrice json.Number `json:"usdPrice"`
	}
	u, err := url.Parse(j.URL)
	if err != nil {
		return Quote{}, fmt.Errorf("jupiter: url: %w", err)
	}
	q := u.Query()
	q.Set("ids", WrappedSOLMint)
	u.RawQuery = q.Encode()
	var h http.Header
	if j.APIKey != "" {
		h = http.Header{"x-api-key": {j.APIKey}}
	}
	if err := j.Client.GetJSON(ctx, u.String(), h, &body); err != nil {
		return Quote{}, err
	}
	entry, ok := body[WrappedSOLMint]
	if !ok {
		return Quote{}, fmt.Errorf("jupiter: no entry for SOL")
	}
	usd, err := Positive(entry.USDPrice)
	if err != nil {
		return Quote{}, fmt.Errorf("jupiter: usdPrice: %w", err)
	}
	return Quote{USD: usd, At: now(j.Now)}, nil
}
