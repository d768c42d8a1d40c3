package config

import "time"

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
