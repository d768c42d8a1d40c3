package indexer

import (
	"strings"
	"testing"
)

func TestLoadConfigDefaultsAndErrors(t *testing.T) {
	cfg, err := LoadConfig(map[string]string{"SOLANA_RPC_URL": "http://127.0.0.1:8899"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SolanaWSURL != "ws://127.0.0.1:8900" || cfg.Commitment != "confirmed" || cfg.MaxTxVersion != "0" || cfg.SubsPerConn != 100 {
		t.Fatalf("defaults: %+v", cfg)
	}
	for vars, want := range map[string]string{
		"SOLANA_COMMITMENT=processed":   "SOLANA_COMMITMENT",
		"SOLANA_RPC_RPS=0":              "SOLANA_RPC_RPS",
		"INDEXER_SUBS_PER_CONN=0":       "INDEXER_SUBS_PER_CONN",
		"INDEXER_BACKFILL_INTERVAL=abc": "INDEXER_BACKFILL_INTERVAL",
		"SOLANA_RPC_URL=ftp://x":        "SOLANA_RPC_URL",
		"INDEXER_MAX_TX_VERSION=v2":     "INDEXER_MAX_TX_VERSION",
		"INDEXER_OPS_ADDR=nope":         "INDEXER_OPS_ADDR",
		"NATS_URL=garbage":              "NATS_URL",
	} {
		k, v, _ := strings.Cut(vars, "=")
		_, err := LoadConfig(map[string]string{k: v})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to name %s", vars, err, want)
		}
	}
}
