package pricer

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/solana/address"
)

// Config is the pricer service's whole configuration, read from the environment (and .env).
// Every upstream URL and key is here; the defaults are the public production endpoints.
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr      string  `env:"PRICER_OPS_ADDR" envDefault:":9103"`
	SolanaRPCURL string  `env:"SOLANA_RPC_URL" envDefault:"https://api.mainnet-beta.solana.com"`
	SolanaRPCRPS float64 `env:"PRICER_SOLANA_RPC_RPS" envDefault:"5"`

	// PriceSources is the SOL/USD source order; jupiter is skipped while JUPITER_API_KEY is empty.
	PriceSources string `env:"PRICE_SOURCES" envDefault:"pyth,coingecko,jupiter"`

	PythAccount string        `env:"PYTH_SOL_USD_ACCOUNT" envDefault:"7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"`
	PythProgram string        `env:"PYTH_RECEIVER_PROGRAM" envDefault:"rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"`
	PythFeedID  string        `env:"PYTH_SOL_USD_FEED_ID" envDefault:"ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"`
	PythMaxAge  time.Duration `env:"PYTH_MAX_AGE" envDefault:"60s"`

	CoinGeckoURL    string        `env:"COINGECKO_URL" envDefault:"https://api.coingecko.com/api/v3"`
	CoinGeckoAPIKey config.Secret `env:"COINGECKO_API_KEY"`
	CoinGeckoRPS    float64       `env:"COINGECKO_RPS" envDefault:"0.2"`

	JupiterURL    string        `env:"JUPITER_URL" envDefault:"https://api.jup.ag/price/v3"`
	JupiterAPIKey config.Secret `env:"JUPITER_API_KEY"`
	JupiterRPS    float64       `env:"JUPITER_RPS" envDefault:"1"`

	DexScreenerURL string  `env:"DEXSCREENER_URL" envDefault:"https://api.dexscreener.com"`
	DexScreenerRPS float64 `env:"DEXSCREENER_RPS" envDefault:"4"`

	IPFSGateway      string  `env:"IPFS_GATEWAY" envDefault:"https://ipfs.io"`
	MetadataRPS      float64 `env:"TOKEN_METADATA_RPS" envDefault:"5"`
	MetadataMaxBytes int64   `env:"TOKEN_METADATA_MAX_BYTES" envDefault:"262144"`

	UpstreamTimeout time.Duration `env:"UPSTREAM_TIMEOUT" envDefault:"5s"`

	RefreshInterval time.Duration `env:"PRICER_REFRESH_INTERVAL" envDefault:"30s"`
	RecentWindow    time.Duration `env:"PRICER_RECENT_WINDOW" envDefault:"1h"`
	MaxTracked      int           `env:"PRICER_MAX_TRACKED" envDefault:"500"`

	MetadataTTL    time.Duration `env:"TOKEN_METADATA_TTL" envDefault:"24h"`
	MarketTTL      time.Duration `env:"TOKEN_MARKET_TTL" envDefault:"30s"`
	HoldersTTL     time.Duration `env:"TOKEN_HOLDERS_TTL" envDefault:"10m"`
	NotFoundTTL    time.Duration `env:"TOKEN_NOT_FOUND_TTL" envDefault:"10s"`
	HoldersEnabled bool          `env:"TOKEN_HOLDERS_ENABLED" envDefault:"false"`

	// Version is stamped into the binary at build time; it is not read from the environment.
	Version string `env:"-"`
}

// knownSources are the SOL/USD sources PRICE_SOURCES may name.
var knownSources = map[string]bool{"pyth": true, "coingecko": true, "jupiter": true}

// LoadConfig reads the configuration from vars (see config.Environ). A bad value is an error that
// names its variable.
func LoadConfig(vars map[string]string) (Config, error) {
	var cfg Config
	if err := config.Parse(&cfg, vars); err != nil {
		return cfg, err
	}
	if err := config.CheckListenAddr(cfg.OpsAddr); err != nil {
		return cfg, fmt.Errorf("config: PRICER_OPS_ADDR: %w", err)
	}
	return cfg, cfg.Validate()
}

// Validate checks values that parse but make no sense; errors name the variable.
func (c Config) Validate() error {
	for name, u := range map[string]string{
		"SOLANA_RPC_URL": c.SolanaRPCURL, "COINGECKO_URL": c.CoinGeckoURL, "JUPITER_URL": c.JupiterURL,
		"DEXSCREENER_URL": c.DexScreenerURL, "IPFS_GATEWAY": c.IPFSGateway,
	} {
		if err := config.CheckHTTPURL(u); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
	}
	srcs := c.Sources()
	if len(srcs) == 0 {
		return fmt.Errorf("config: PRICE_SOURCES: name at least one of pyth, coingecko, jupiter")
	}
	for _, s := range srcs {
		if !knownSources[s] {
			return fmt.Errorf("config: PRICE_SOURCES: unknown source %q (use pyth, coingecko, jupiter)", s)
		}
	}
	if !address.Valid(c.PythAccount) {
		return fmt.Errorf("config: PYTH_SOL_USD_ACCOUNT: not a valid address")
	}
	if !address.Valid(c.PythProgram) {
		return fmt.Errorf("config: PYTH_RECEIVER_PROGRAM: not a valid address")
	}
	if b, err := hex.DecodeString(strings.TrimPrefix(c.PythFeedID, "0x")); err != nil || len(b) != 32 {
		return fmt.Errorf("config: PYTH_SOL_USD_FEED_ID: want 64 hex digits")
	}
	for name, d := range map[string]time.Duration{
		"PYTH_MAX_AGE": c.PythMaxAge, "UPSTREAM_TIMEOUT": c.UpstreamTimeout, "PRICER_REFRESH_INTERVAL": c.RefreshInterval,
		"TOKEN_METADATA_TTL": c.MetadataTTL, "TOKEN_MARKET_TTL": c.MarketTTL, "TOKEN_HOLDERS_TTL": c.HoldersTTL,
		"PRICER_RECENT_WINDOW": c.RecentWindow, "TOKEN_NOT_FOUND_TTL": c.NotFoundTTL,
	} {
		if d <= 0 {
			return fmt.Errorf("config: %s: must be positive", name)
		}
	}
	for name, v := range map[string]float64{
		"PRICER_SOLANA_RPC_RPS": c.SolanaRPCRPS, "COINGECKO_RPS": c.CoinGeckoRPS, "JUPITER_RPS": c.JupiterRPS,
		"DEXSCREENER_RPS": c.DexScreenerRPS, "TOKEN_METADATA_RPS": c.MetadataRPS,
	} {
		if v <= 0 {
			return fmt.Errorf("config: %s: must be positive", name)
		}
	}
	if c.MetadataMaxBytes <= 0 || c.MaxTracked <= 0 {
		return fmt.Errorf("config: TOKEN_METADATA_MAX_BYTES and PRICER_MAX_TRACKED must be positive")
	}
	return nil
}

// Sources returns PRICE_SOURCES as a cleaned, ordered list.
func (c Config) Sources() []string {
	var out []string
	for _, s := range strings.Split(c.PriceSources, ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
