package campaign

import (
	"fmt"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/solana/address"
)

// Config is the campaign service's whole configuration, read from the environment (and .env).
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr string `env:"CAMPAIGN_OPS_ADDR" envDefault:":9101"`
	// DatabaseURL is the Postgres server; the seed's postgresql+asyncpg:// form is accepted.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/solcrowd?sslmode=disable"`
	// Wallet is the default escrow for campaigns that do not name their own.
	Wallet string `env:"WALLET"`

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
	u, err := config.NormalizeDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return cfg, fmt.Errorf("config: DATABASE_URL: %w", err)
	}
	cfg.DatabaseURL = u
	if cfg.Wallet != "" {
		if _, err := address.Parse(cfg.Wallet); err != nil {
			return cfg, fmt.Errorf("config: WALLET: %w", err)
		}
	}
	return cfg, nil
}
