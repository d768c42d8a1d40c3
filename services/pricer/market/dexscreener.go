package market

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// DexScreener reads token market data from DexScreener's tokens/v1 API.
type DexScreener struct {
	Client  *Client
	BaseURL string // e.g. https://api.dexscreener.com
}

// Pair is the market data of the chosen pair, as canonical decimal strings ("" = unknown).
type Pair struct {
	PairAddress  string
	DexID        string
	PriceUSD     string
	LiquidityUSD string
	MarketCapUSD string // marketCap, else fdv
	Volume24hUSD string
	Launchpad    string // e.g. "pump.fun", inferred from the DEX
	BaseName     string
	BaseSymbol   string
	ImageURL     string
}

type dexPair struct {
	ChainID     string `json:"chainId"`
	DexID       string `json:"dexId"`
	PairAddress string `json:"pairAddress"`
	BaseToken   struct {
		Address string `json:"address"`
		Name    string `json:"name"`
		Symbol  string `json:"symbol"`
	} `json:"baseToken"`
	PriceUSD  any `json:"priceUsd"`
	Liquidity *struct {
		USD any `json:"usd"`
	} `json:"liquidity"`
	FDV       any `json:"fdv"`
	MarketCap any `json:"marketCap"`
	Volume    *struct {
		H24 any `json:"h24"`
	} `json:"volume"`
	Info *struct {
		ImageURL string `json:"imageUrl"`
	} `json:"info"`
	Moonshot json.RawMessage `json:"moonshot"`
}

// Token returns the pair whose base token is mint with the deepest USD liquidity (pairs without a
// usable price are skipped; among pairs without liquidity figures the first wins). found is false
// when DexScreener lists no such pair.
func (d DexScreener) Token(ctx context.Context, mint string) (p Pair, found bool, err error) {
	u := strings.TrimRight(d.BaseURL, "/") + "/tokens/v1/solana/" + url.PathEscape(mint)
	body, err := d.Client.Get(ctx, u, nil)
	if err != nil {
		return Pair{}, false, err
	}
	pairs, err := decodePairs(body)
	if err != nil {
		return Pair{}, false, fmt.Errorf("dexscreener: %w", err)
	}
	return choosePair(pairs, mint)
}

// choosePair picks the pair whose base token is mint with the deepest liquidity.
func choosePair(pairs []dexPair, mint string) (p Pair, found bool, err error) {
	best, bestLiq := -1, ""
	for i, dp := range pairs {
		if dp.BaseToken.Address != mint || (dp.ChainID != "" && dp.ChainID != "solana") {
			continue
		}
		if _, err := Positive(dp.PriceUSD); err != nil {
			continue
		}
		liq := "0"
		if dp.Liquidity != nil {
			if l, err := NonNegative(dp.Liquidity.USD); err == nil {
				liq = l
			}
		}
		if best < 0 || compareDecimal(liq, bestLiq) > 0 {
			best, bestLiq = i, liq
		}
	}
	if best < 0 {
		return Pair{}, false, nil
	}
	dp := pairs[best]
	p = Pair{
		PairAddress: clean(dp.PairAddress, 64),
		DexID:       clean(dp.DexID, 32),
		BaseName:    clean(dp.BaseToken.Name, 64),
		BaseSymbol:  clean(dp.BaseToken.Symbol, 16),
	}
	p.PriceUSD, _ = Positive(dp.PriceUSD)
	if dp.Liquidity != nil {
		p.LiquidityUSD, _ = NonNegative(dp.Liquidity.USD)
	}
	if p.MarketCapUSD, err = NonNegative(dp.MarketCap); err != nil {
		p.MarketCapUSD, _ = NonNegative(dp.FDV)
	}
	err = nil
	if dp.Volume != nil {
		p.Volume24hUSD, _ = NonNegative(dp.Volume.H24)
	}
	if dp.Info != nil && len(dp.Info.ImageURL) <= 1024 {
		p.ImageURL = clean(dp.Info.ImageURL, 1024)
	}
	p.Launchpad = launchpad(p.DexID, dp.Moonshot)
	return p, true, nil
}

// decodePairs accepts the tokens/v1 bare array and, defensively, the older {"pairs": [...]} shape
// (pairs may be null).
func decodePairs(body []byte) ([]dexPair, error) {
	body = bytes.TrimSpace(body)
	dec := func(b []byte, dst any) error {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		return d.Decode(dst)
	}
	if len(body) > 0 && body[0] == '{' {
		var w struct {
			Pairs []dexPair `json:"pairs"`
		}
		if err := dec(body, &w); err != nil {
			return nil, err
		}
		return w.Pairs, nil
	}
	var pairs []dexPair
	if err := dec(body, &pairs); err != nil {
		return nil, err
	}
	return pairs, nil
}

// launchpad names the launchpad a pair's DEX belongs to.
func launchpad(dexID string, moonshot json.RawMessage) string {
	switch dexID {
	case "pumpfun", "pumpswap":
		return "pump.fun"
	case "moonshot":
		return "moonshot"
	}
	if len(moonshot) > 0 && string(moonshot) != "null" {
		return "moonshot"
	}
	return ""
}
