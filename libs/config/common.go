package config

import (
	"fmt"
	"strings"
	"time"
)

// Common holds the settings every service shares. Services embed it in their own config struct.
type Common struct {
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"text"` // text or json
	NATSURL         string        `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	NATSReplicas    int           `env:"NATS_REPLICAS" envDefault:"1"` // stream replicas: 3 on a cluster
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
}

// Shared returns the shared settings. Being promoted to every service config that embeds Common,
// it lets generic code (package lifecycle) read them from any service's config.
func (c Common) Shared() Common { return c }

// check validates the shared settings, naming the variable at fault.
func (c Common) check() error {
	if err := CheckNATSURL(c.NATSURL); err != nil {
		return fmt.Errorf("config: NATS_URL: %w", err)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("config: SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout)
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		return fmt.Errorf("config: NATS_REPLICAS: must be 1 to 5, got %d", c.NATSReplicas)
	}
	switch strings.ToLower(c.LogFormat) {
	case "text", "json":
	default:
		return fmt.Errorf("config: LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}
