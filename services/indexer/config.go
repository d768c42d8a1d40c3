package indexer

import (
	"fmt"
	"strconv"
	"time"

	"github.com/solcrowd/backend/libs/config"
)

// Config is the indexer service's whole configuration, read from the environment (and .env).
// README.md documents every variable.
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr      string `env:"INDEXER_OPS_ADDR" envDefault:":9102"`
	SolanaRPCURL string `env:"SOLANA_RPC_URL" envDefault:"https://api.mainnet-beta.solana.com"`
	// SolanaWSURL is derived from SolanaRPCURL when unset (http→ws, https→wss, 8899→8900).
	SolanaWSURL string `env:"SOLANA_WS_URL"`
	// RPCRPS is the one client-side rate limit for every HTTP JSON-RPC call of this process.
	RPCRPS     float64       `env:"SOLANA_RPC_RPS" envDefault:"10"`
	RPCTimeout time.Duration `env:"SOLANA_RPC_TIMEOUT" envDefault:"15s"`
	// Commitment is what subscriptions, history and fetches read at: confirmed or finalized.
	Commitment string `env:"SOLANA_COMMITMENT" envDefault:"confirmed"`

	SubsPerConn      int           `env:"INDEXER_SUBS_PER_CONN" envDefault:"100"`
	BackfillInterval time.Duration `env:"INDEXER_BACKFILL_INTERVAL" envDefault:"60s"`
	PollInterval     time.Duration `env:"INDEXER_POLL_INTERVAL" envDefault:"5s"`
	StaleAfter       time.Duration `env:"INDEXER_STALE_AFTER" envDefault:"15s"`
	SubscribeTimeout time.Duration `env:"INDEXER_SUBSCRIBE_TIMEOUT" envDefault:"10s"`
	ReconnectMin     time.Duration `env:"INDEXER_RECONNECT_MIN" envDefault:"250ms"`
	ReconnectMax     time.Duration `env:"INDEXER_RECONNECT_MAX" envDefault:"30s"`
	// MaxTxVersion is getTransaction's maxSupportedTransactionVersion: a number, or "legacy" to
	// omit the parameter (the node then refuses versioned transactions with -32015, which the
	// indexer parks).
	MaxTxVersion     string        `env:"INDEXER_MAX_TX_VERSION" envDefault:"0"`
	FinalityInterval time.Duration `env:"INDEXER_FINALITY_INTERVAL" envDefault:"2s"`
	// DropAfterSlots: a transaction not finalized this many slots after its own is reported
	// dropped (150 slots of blockhash lifetime plus a margin).
	DropAfterSlots uint64 `env:"INDEXER_DROP_AFTER_SLOTS" envDefault:"182"`
	FetchWorkers   int    `env:"INDEXER_FETCH_WORKERS" envDefault:"4"`
	// NullRetries bounds the retries of a getTransaction that answers null right after a
	// notification (the node has not caught up yet).
	NullRetries int `env:"INDEXER_TX_NULL_RETRIES" envDefault:"6"`
	// WatchListRetry is the pause between asks for the watch list while campaign does not answer.
	WatchListRetry time.Duration `env:"INDEXER_WATCHLIST_RETRY" envDefault:"2s"`

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
	if err := config.CheckListenAddr(cfg.OpsAddr); err != nil {
		return cfg, fmt.Errorf("config: INDEXER_OPS_ADDR: %w", err)
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
	return cfg, cfg.check()
}

func (cfg Config) check() error {
	switch {
	case cfg.Commitment != "confirmed" && cfg.Commitment != "finalized":
		return fmt.Errorf("config: SOLANA_COMMITMENT: %q is not confirmed or finalized", cfg.Commitment)
	case cfg.RPCRPS <= 0:
		return fmt.Errorf("config: SOLANA_RPC_RPS: must be > 0")
	case cfg.SubsPerConn < 1:
		return fmt.Errorf("config: INDEXER_SUBS_PER_CONN: must be >= 1")
	case cfg.FetchWorkers < 1:
		return fmt.Errorf("config: INDEXER_FETCH_WORKERS: must be >= 1")
	case cfg.BackfillInterval <= 0 || cfg.PollInterval <= 0 || cfg.StaleAfter <= 0 || cfg.SubscribeTimeout <= 0 ||
		cfg.FinalityInterval <= 0 || cfg.ReconnectMin <= 0 || cfg.ReconnectMax < cfg.ReconnectMin:
		return fmt.Errorf("config: INDEXER_* intervals must be > 0 and INDEXER_RECONNECT_MAX >= INDEXER_RECONNECT_MIN")
	case cfg.MaxTxVersion != "legacy" && !isUint8(cfg.MaxTxVersion):
		return fmt.Errorf("config: INDEXER_MAX_TX_VERSION: %q is not a version number or legacy", cfg.MaxTxVersion)
	case cfg.DropAfterSlots < 1:
		return fmt.Errorf("config: INDEXER_DROP_AFTER_SLOTS: must be >= 1")
	}
	return nil
}

func isUint8(s string) bool {
	_, err := strconv.ParseUint(s, 10, 8)
	return err == nil
}
