package indexer

import (
	"fmt"

	"github.com/solcrowd/backend/libs/config"
)

// Config is the indexer service's whole configuration, read from the environment (and .env).
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr      string `env:"INDEXER_OPS_ADDR" envDefault:":9102"`
	SolanaRPCURL string `env:"SOLANA_RPC_URL" envDefault:"https://api.mainnet-beta.solana.com"`
	// SolanaWSURL is derived from SolanaRPCURL when unset (http→ws, https→wss, 8899→8900).
	SolanaWSURL string `env:"SOLANA_WS_URL"`

	// Version is stamped into the binary at build time; it is not read from the environment.
	Version string `env:"-"`
}

// LoadConfig reads the configuration from vars (see config.Environ). A bad value is an error that
// names its variable.
func LoadConfig(vars map[string]string) (Config, error) {
	var cfg Config
	if err := config.Parse(&cfg, vars); err != nil {
		return cfg, err
	}
	if err := config.CheckHTTPURL(cfg.SolanaRPCURL); err != nil {
		return cfg, fmt.Errorf("config: SOLANA_RPC_URL: %w", err)
	}
	if cfg.SolanaWSURL == "" {
		ws, err := config.DeriveWSURL(cfg.SolanaRPCURL)
		if err != nil {
			return cfg, fmt.Errorf("config: SOLANA_RPC_URL: %w", err)
		}
		cfg.SolanaWSURL = ws
	}
	return cfg, nil
}
