package gateway

import (
	"github.com/solcrowd/backend/libs/config"
)

// Config is the gateway service's whole configuration, read from the environment (and .env).
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr string `env:"GATEWAY_OPS_ADDR" envDefault:":9104"`
	// HTTPAddr is where the public REST and WebSocket API listens.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8000"`
	// AdminAPIKey guards the operator endpoints (PATCH/DELETE); empty disables them.
	AdminAPIKey config.Secret `env:"ADMIN_API_KEY"`

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
	return cfg, nil
}
