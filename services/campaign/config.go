package campaign

import (
	"fmt"
	"net"
	"time"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/money"
	"github.com/solcrowd/backend/libs/solana/address"
)

// Config is the campaign service's whole configuration, read from the environment (and .env).
// README.md documents every variable.
type Config struct {
	config.Common
	// OpsAddr serves /healthz, /readyz and /metrics.
	OpsAddr string `env:"CAMPAIGN_OPS_ADDR" envDefault:":9101"`
	// DatabaseURL is the Postgres server; the seed's postgresql+asyncpg:// form is accepted.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/solcrowd?sslmode=disable"`
	// CreateDatabase creates DATABASE_URL's database at start when it does not exist.
	CreateDatabase bool `env:"CAMPAIGN_CREATE_DATABASE" envDefault:"true"`
	// DBMaxConns bounds the connection pool.
	DBMaxConns int `env:"CAMPAIGN_DB_MAX_CONNS" envDefault:"10"`
	// Wallet is the default escrow for campaigns that do not name their own.
	Wallet string `env:"WALLET"`

	// MaxGoalSOL is the largest goal a campaign may set, in SOL (exact decimal).
	MaxGoalSOL string `env:"CAMPAIGN_MAX_GOAL_SOL" envDefault:"1000000"`
	// MaxHorizon is how far in the future a campaign's end time may lie.
	MaxHorizon time.Duration `env:"CAMPAIGN_MAX_HORIZON" envDefault:"8760h"`
	// LateGrace keeps a closed campaign on the indexer's watch list so late payments are recorded.
	LateGrace time.Duration `env:"CAMPAIGN_LATE_GRACE" envDefault:"72h"`

	// Ledger consumer: the durable name shared by all replicas, batch size, ack wait and
	// deliveries before JetStream gives up on a message.
	LedgerDurable    string        `env:"CAMPAIGN_LEDGER_DURABLE" envDefault:"campaign-ledger"`
	LedgerBatch      int           `env:"CAMPAIGN_LEDGER_BATCH" envDefault:"256"`
	LedgerAckWait    time.Duration `env:"CAMPAIGN_LEDGER_ACK_WAIT" envDefault:"30s"`
	LedgerMaxDeliver int           `env:"CAMPAIGN_LEDGER_MAX_DELIVER" envDefault:"10"`

	// OutboxPoll is the relay's fallback poll; commits in this process wake it at once.
	OutboxPoll time.Duration `env:"CAMPAIGN_OUTBOX_POLL" envDefault:"250ms"`
	// SchedulerInterval is how often due campaigns are closed (completed or expired).
	SchedulerInterval time.Duration `env:"CAMPAIGN_SCHEDULER_INTERVAL" envDefault:"1s"`
	// PricerTimeout bounds a token lookup at create.
	PricerTimeout time.Duration `env:"CAMPAIGN_PRICER_TIMEOUT" envDefault:"5s"`

	// MaxGoal is MaxGoalSOL in lamports, filled by LoadConfig.
	MaxGoal uint64 `env:"-"`
	// Version is stamped into the binary at build time; it is not read from the environment.
	Version string `env:"-"`

	// opsReady, when set (tests), receives the ops server's bound address.
	opsReady func(net.Addr)
}

// LoadConfig reads the configuration from vars (see config.Environ). A bad value is an error that
// names its variable.
func LoadConfig(vars map[string]string) (Config, error) {
	var cfg Config
	if err := config.Parse(&cfg, vars); err != nil {
		return cfg, err
	}
	if err := config.CheckListenAddr(cfg.OpsAddr); err != nil {
		return cfg, fmt.Errorf("config: CAMPAIGN_OPS_ADDR: %w", err)
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
		if name, ok := address.KnownProgram(cfg.Wallet); ok {
			return cfg, fmt.Errorf("config: WALLET: %s is the %s, which can never spend what it receives", cfg.Wallet, name)
		}
	}
	g, err := money.ParseSOL(cfg.MaxGoalSOL)
	if err != nil || g == 0 {
		return cfg, fmt.Errorf("config: CAMPAIGN_MAX_GOAL_SOL: must be an exact SOL amount > 0")
	}
	cfg.MaxGoal = uint64(g)
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"CAMPAIGN_MAX_HORIZON", cfg.MaxHorizon > 0},
		{"CAMPAIGN_LATE_GRACE", cfg.LateGrace >= 0},
		{"CAMPAIGN_LEDGER_BATCH", cfg.LedgerBatch > 0 && cfg.LedgerBatch <= 10000},
		{"CAMPAIGN_LEDGER_ACK_WAIT", cfg.LedgerAckWait >= 100*time.Millisecond},
		{"CAMPAIGN_LEDGER_MAX_DELIVER", cfg.LedgerMaxDeliver > 0},
		{"CAMPAIGN_OUTBOX_POLL", cfg.OutboxPoll > 0},
		{"CAMPAIGN_SCHEDULER_INTERVAL", cfg.SchedulerInterval > 0},
		{"CAMPAIGN_PRICER_TIMEOUT", cfg.PricerTimeout > 0},
		{"CAMPAIGN_DB_MAX_CONNS", cfg.DBMaxConns > 0},
	} {
		if !c.ok {
			return cfg, fmt.Errorf("config: %s: out of range", c.name)
		}
	}
	return cfg, nil
}
