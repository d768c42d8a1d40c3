package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/solcrowd/backend/libs/config"
)

// Config is the gateway service's whole configuration, read from the environment (and .env).
// services/gateway/README.md documents every variable.
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr string `env:"GATEWAY_OPS_ADDR" envDefault:":9104"`
	// HTTPAddr is where the public REST and WebSocket API listens.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8000"`
	// AdminAPIKey guards the operator endpoints (PATCH/DELETE); empty disables them.
	AdminAPIKey config.Secret `env:"ADMIN_API_KEY"`

	// CORSOrigins lists the browser origins allowed to call the REST API ("*" allows any).
	CORSOrigins []string `env:"CORS_ORIGINS" envSeparator:"," envDefault:"*"`
	// WSAllowedOrigins lists the origins allowed to open /ws ("*" allows any). Requests without an
	// Origin header (non-browser clients) are always allowed.
	WSAllowedOrigins []string `env:"WS_ALLOWED_ORIGINS" envSeparator:"," envDefault:"*"`
	// WSSendQueue bounds the messages queued for one WebSocket client; a client whose queue is
	// full is disconnected.
	WSSendQueue int `env:"WS_SEND_QUEUE" envDefault:"256"`
	// WSMaxMessageBytes bounds one message a client may send.
	WSMaxMessageBytes int64 `env:"WS_MAX_MESSAGE_BYTES" envDefault:"4096"`
	// WSPingInterval is how often the server pings; a client silent for two intervals is dropped.
	WSPingInterval time.Duration `env:"WS_PING_INTERVAL" envDefault:"20s"`
	// WSWriteTimeout bounds one write to a client.
	WSWriteTimeout time.Duration `env:"WS_WRITE_TIMEOUT" envDefault:"5s"`
	// RateLimitWritesPerMin is the number of write requests (POST/PATCH/DELETE) one client IP may
	// make per minute (burst of the same size); 0 disables the limit.
	RateLimitWritesPerMin int `env:"RATE_LIMIT_WRITES_PER_MIN" envDefault:"30"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"65536"`
	// TrustedProxies lists proxy addresses/CIDRs whose X-Forwarded-For is believed when finding
	// the client IP; empty trusts none.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`
	// RequestTimeout bounds each call from the gateway to a backend service.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"5s"`
	// ReadCacheTTL is how old a cached campaign lookup or health input may be; 0 disables the
	// cache. This gateway's own writes clear it at once.
	ReadCacheTTL time.Duration `env:"READ_CACHE_TTL" envDefault:"250ms"`
	// PublicBaseURL is the externally visible base URL (used in docs links); empty means relative.
	PublicBaseURL string `env:"PUBLIC_BASE_URL"`
	// QRLabel is the Solana Pay label shown by wallets.
	QRLabel string `env:"QR_LABEL" envDefault:"SolCrowd"`

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
	switch {
	case cfg.WSSendQueue < 1 || cfg.WSSendQueue > 1<<16:
		return cfg, fmt.Errorf("config: WS_SEND_QUEUE: must be between 1 and 65536")
	case cfg.WSMaxMessageBytes < 256:
		return cfg, fmt.Errorf("config: WS_MAX_MESSAGE_BYTES: must be at least 256")
	case cfg.WSPingInterval < 10*time.Millisecond:
		return cfg, fmt.Errorf("config: WS_PING_INTERVAL: must be at least 10ms")
	case cfg.WSWriteTimeout <= 0:
		return cfg, fmt.Errorf("config: WS_WRITE_TIMEOUT: must be positive")
	case cfg.RateLimitWritesPerMin < 0:
		return cfg, fmt.Errorf("config: RATE_LIMIT_WRITES_PER_MIN: must not be negative")
	case cfg.MaxBodyBytes < 1024:
		return cfg, fmt.Errorf("config: MAX_BODY_BYTES: must be at least 1024")
	case cfg.ReadCacheTTL < 0 || cfg.ReadCacheTTL > time.Minute:
		return cfg, fmt.Errorf("config: READ_CACHE_TTL: must be between 0 and 1m")
	case cfg.RequestTimeout <= 0:
		return cfg, fmt.Errorf("config: REQUEST_TIMEOUT: must be positive")
	}
	if cfg.PublicBaseURL != "" {
		u, err := url.Parse(cfg.PublicBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("config: PUBLIC_BASE_URL: must be an absolute http(s) URL")
		}
		cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	}
	// Listen addresses and proxies are checked here so a typo fails at start naming its
	// variable, not later as "listen nope: missing port".
	if err := config.CheckListenAddr(cfg.HTTPAddr); err != nil {
		return cfg, fmt.Errorf("config: HTTP_ADDR: %w", err)
	}
	if err := config.CheckListenAddr(cfg.OpsAddr); err != nil {
		return cfg, fmt.Errorf("config: GATEWAY_OPS_ADDR: %w", err)
	}
	cfg.CORSOrigins = trimAll(cfg.CORSOrigins)
	cfg.WSAllowedOrigins = trimAll(cfg.WSAllowedOrigins)
	cfg.TrustedProxies = trimAll(cfg.TrustedProxies)
	for _, o := range cfg.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return cfg, fmt.Errorf("config: CORS_ORIGINS: %w", err)
		}
	}
	for _, o := range cfg.WSAllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return cfg, fmt.Errorf("config: WS_ALLOWED_ORIGINS: %w", err)
		}
	}
	for _, p := range cfg.TrustedProxies {
		if err := checkProxy(p); err != nil {
			return cfg, fmt.Errorf("config: TRUSTED_PROXIES: %w", err)
		}
	}
	return cfg, nil
}

// checkOrigin accepts "*" or a browser origin: http(s)://host[:port], nothing after it. Browsers
// send the origin in exactly that form, so anything else (a path, a trailing slash, another
// scheme) could never match and is a configuration mistake.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return fmt.Errorf("%q is not * or an origin such as https://app.example or http://localhost:3000", o)
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q has an invalid port", o)
		}
	}
	return nil
}

// checkProxy accepts an IP address or a CIDR range, the forms gin's trusted-proxy list takes.
func checkProxy(p string) error {
	if strings.Contains(p, "/") {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8", p)
		}
		return nil
	}
	if _, err := netip.ParseAddr(p); err != nil {
		return fmt.Errorf("%q is not an IP address or CIDR range", p)
	}
	return nil
}

func trimAll(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
