package events

import "time"

// SOLPrice is the PRICES entry under sol.usd and the pricer's SOL price reply. USD is a canonical
// decimal string (e.g. "93.85943752"); it is never zero or negative. When no value has ever been
// fetched, the key is absent and the reply is a not_found error: absent, never zero.
type SOLPrice struct {
	Version   int       `json:"version"`
	USD       string    `json:"usd"`
	Source    string    `json:"source"`     // "pyth", "coingecko" or "jupiter"
	UpdatedAt time.Time `json:"updated_at"` // when the source published or we fetched it
	Stale     bool      `json:"stale"`      // the last refresh failed; USD is the last good value
}

// TokenInfo is what the pricer knows about a mint: the PRICES entry under token.<mint> and the
// token info reply. Empty strings mean unknown.
type TokenInfo struct {
	Version      int    `json:"version"`
	Mint         string `json:"mint"`
	Name         string `json:"name"`
	Symbol       string `json:"symbol"`
	Decimals     uint8  `json:"decimals"`
	Supply       uint64 `json:"supply,string"` // raw units
	TokenProgram string `json:"token_program"` // "spl-token" or "spl-token-2022"
	MetadataURI  string `json:"metadata_uri"`
	ImageURL     string `json:"image_url"`

	// Market data, decimal strings in USD.
	PriceUSD     string `json:"price_usd"`
	LiquidityUSD string `json:"liquidity_usd"`
	MarketCapUSD string `json:"market_cap_usd"`
	Volume24hUSD string `json:"volume_24h_usd"`
	Launchpad    string `json:"launchpad"` // e.g. "pump.fun"
	Source       string `json:"source"`    // the DEX of the chosen pair, e.g. "raydium"
	PairAddress  string `json:"pair_address"`

	PumpFun      *PumpFunState `json:"pump_fun,omitempty"`
	HoldersCount *int64        `json:"holders_count,omitempty"`

	UpdatedAt time.Time `json:"updated_at"`
	Stale     bool      `json:"stale"`
}

// PumpFunState describes a pump.fun token's bonding curve.
type PumpFunState struct {
	BondingCurve string `json:"bonding_curve"`
	Complete     bool   `json:"complete"` // graduated to a DEX
}
