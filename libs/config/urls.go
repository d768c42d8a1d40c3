package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// NormalizeDatabaseURL accepts postgres://, postgresql:// and the seed's SQLAlchemy form
// postgresql+asyncpg:// (or any postgresql+<driver>://) and returns a postgres:// URL that pgx
// understands. Anything else is an error.
func NormalizeDatabaseURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("not a URL")
	}
	scheme := u.Scheme
	if base, _, ok := strings.Cut(scheme, "+"); ok {
		scheme = base
	}
	switch scheme {
	case "postgres", "postgresql":
	default:
		return "", fmt.Errorf("scheme %q is not postgres:// or postgresql://", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return "", fmt.Errorf("no host")
	}
	u.Scheme = "postgres"
	return u.String(), nil
}

// DeriveWSURL turns a Solana RPC URL into its PubSub URL the way Solana's own clients do:
// http→ws, https→wss, and port 8899→8900 (the local validator's layout). Other ports are kept.
func DeriveWSURL(rpcURL string) (string, error) {
	u, err := url.Parse(rpcURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("not an absolute URL: %q", rpcURL)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("scheme %q is not http(s)", u.Scheme)
	}
	if host, port, err := net.SplitHostPort(u.Host); err == nil && port == "8899" {
		u.Host = net.JoinHostPort(host, "8900")
	}
	return u.String(), nil
}

// CheckHTTPURL reports whether raw is an absolute http(s) URL.
func CheckHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("not an absolute http(s) URL: %q", raw)
	}
	return nil
}

// RedactURL hides the password (and any api-key-like query values) of a URL for logging.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "key") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "password") {
			q.Set(k, "****")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// CheckListenAddr reports whether addr is a host:port a server can listen on (host may be empty,
// port 0..65535), so a typo fails at start with the variable's name instead of at listen time.
func CheckListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. :8000 or 127.0.0.1:8000)", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q has an invalid host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", addr)
	}
	return nil
}

// CheckNATSURL reports whether raw is a comma-separated list of NATS server URLs
// (nats://, tls://, ws:// or wss://, with a host and an optional numeric port).
func CheckNATSURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("empty")
	}
	for _, part := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("%q is not a URL", RedactURL(part))
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: scheme must be nats://, tls://, ws:// or wss://", RedactURL(part))
		}
		if u.Hostname() == "" {
			return fmt.Errorf("%q has no host", RedactURL(part))
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
				return fmt.Errorf("%q has an invalid port", RedactURL(part))
			}
		}
	}
	return nil
}
