package campaign

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(map[string]string{"DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/app", "CAMPAIGN_MAX_GOAL_SOL": "2.5"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://u:p@db:5432/app" || cfg.MaxGoal != 2_500_000_000 || cfg.LedgerAckWait != 30*time.Second ||
		cfg.LedgerMaxDeliver != 10 || cfg.LedgerDurable != "campaign-ledger" || cfg.MaxHorizon != 8760*time.Hour {
		t.Fatalf("defaults: %+v", cfg)
	}
	for env, name := range map[string]string{
		"DATABASE_URL":                "mysql://x",
		"WALLET":                      "not-base58-0OIl",
		"CAMPAIGN_MAX_GOAL_SOL":       "1e6",
		"CAMPAIGN_MAX_HORIZON":        "-1h",
		"CAMPAIGN_LEDGER_BATCH":       "0",
		"CAMPAIGN_LEDGER_ACK_WAIT":    "soon",
		"CAMPAIGN_LEDGER_MAX_DELIVER": "0",
	} {
		_, err := LoadConfig(map[string]string{env: name})
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%q: error %v does not name the variable", env, name, err)
		}
	}
}
