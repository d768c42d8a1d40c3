package pricer

import (
	"fmt"

	"github.com/solcrowd/backend/libs/config"
)

// Config is the pricer service's whole configuration, read from the environment (and .env).
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr      string `env:"PRICER_OPS_ADDR" envDefault:":9103"`
	SolanaRPCURL string `env:"SOLANA_RPC_URL" envDefault:"https://api.mainnet-beta.solana.com"`

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
	return cfg, nil
}
