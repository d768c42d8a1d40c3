// Package pricer is the pricer service. Pricer answers what a token is and what it is worth.
//
// Run wires the service from its Config; the binary in cmd/pricer and the development stack
// (make run) both call it, so development runs exactly the production code.
package pricer

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/bus"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/libs/solana/solrpc"
	"github.com/solcrowd/backend/services/pricer/market"
	"golang.org/x/sync/errgroup"
)

// Run starts the service and blocks until ctx ends, then shuts down in reverse order of start.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	reg := observe.NewRegistry()
	health := observe.NewHealth()

	conn, err := bus.Connect(ctx, bus.ConnectConfig{URL: cfg.NATSURL, Name: events.ServicePricer}, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnsureTopology(ctx, bus.Topology{Replicas: cfg.NATSReplicas}); err != nil {
		return err
	}
	health.Add("nats", conn.Check)
	kv, err := conn.KV(ctx, events.BucketPrices)
	if err != nil {
		return err
	}

	svc := NewService(cfg, log)
	svc.metrics = newMetrics(reg)
	svc.SOL.metrics = svc.metrics
	svc.KV = kv
	svc.WatchList = func(ctx context.Context) ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		reply, err := bus.Request[events.WatchListReply](ctx, conn, events.SubjectCampaignWatch, events.WatchListRequest{})
		if err != nil {
			return nil, err
		}
		var mints []string
		for _, e := range reply.Entries {
			if e.Status == events.StatusActive || e.Status == events.StatusFunded {
				mints = append(mints, e.Mint)
			}
		}
		return mints, nil
	}

	micro, err := conn.NewService(events.ServicePricer, cfg.Version, log)
	if err != nil {
		return err
	}
	defer micro.Stop()
	if err := bus.Handle(micro, "token", events.SubjectPricerToken, svc.TokenInfo); err != nil {
		return err
	}
	if err := bus.Handle(micro, "solprice", events.SubjectPricerSOLPrice, svc.SOLPrice); err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return observe.Serve(ctx, cfg.OpsAddr, observe.Handler(health, reg), cfg.ShutdownTimeout, log, nil)
	})
	g.Go(func() error { return svc.RunRefresh(ctx, cfg.RefreshInterval) })
	log.Info("pricer running", "ops", cfg.OpsAddr, "sources", cfg.Sources(), "version", cfg.Version)
	if err := g.Wait(); err != nil {
		return fmt.Errorf("pricer: %w", err)
	}
	return nil
}

// NewService builds the pricer's sources and caches from cfg, without NATS (KV and WatchList are
// left for the caller). cfg must be valid.
func NewService(cfg Config, log *slog.Logger) *Service {
	rpcc := solrpc.New(cfg.SolanaRPCURL, solrpc.Options{RPS: cfg.SolanaRPCRPS, Timeout: cfg.UpstreamTimeout, MaxAttempts: 3})
	httpc := &http.Client{}
	client := func(name string, rps float64, maxBody int64) *market.Client {
		return market.NewClient(market.ClientConfig{Name: name, Timeout: cfg.UpstreamTimeout, RPS: rps, MaxBody: maxBody, HTTP: httpc})
	}

	var sources []SOLSource
	for _, name := range cfg.Sources() {
		switch name {
		case "pyth":
			var feed [32]byte
			b, _ := hex.DecodeString(strings.TrimPrefix(cfg.PythFeedID, "0x"))
			copy(feed[:], b)
			sources = append(sources, PythSource{
				RPC: rpcc, Account: solana.MustPublicKeyFromBase58(cfg.PythAccount),
				Owner: solana.MustPublicKeyFromBase58(cfg.PythProgram), FeedID: feed, MaxAge: cfg.PythMaxAge,
			})
		case "coingecko":
			sources = append(sources, market.CoinGecko{Client: client("coingecko", cfg.CoinGeckoRPS, 0),
				BaseURL: cfg.CoinGeckoURL, APIKey: cfg.CoinGeckoAPIKey.Reveal()})
		case "jupiter":
			if cfg.JupiterAPIKey == "" {
				log.Info("jupiter price source skipped: JUPITER_API_KEY is not set")
				continue
			}
			sources = append(sources, market.Jupiter{Client: client("jupiter", cfg.JupiterRPS, 0),
				URL: cfg.JupiterURL, APIKey: cfg.JupiterAPIKey.Reveal()})
		}
	}
	dex := market.DexScreener{Client: client("dexscreener", cfg.DexScreenerRPS, 4<<20), BaseURL: cfg.DexScreenerURL}
	meta := market.Metadata{Client: client("metadata", cfg.MetadataRPS, cfg.MetadataMaxBytes), Gateway: cfg.IPFSGateway}
	tokens := NewTokens(rpcc, dex, meta, TokenConfig{
		MetadataTTL: cfg.MetadataTTL, MarketTTL: cfg.MarketTTL, HoldersTTL: cfg.HoldersTTL, NotFoundTTL: cfg.NotFoundTTL,
		Holders: cfg.HoldersEnabled, Timeout: 4 * cfg.UpstreamTimeout,
	}, log)
	return &Service{
		SOL: NewSOLPrices(sources, log), Tokens: tokens, Log: log,
		RecentWindow: cfg.RecentWindow, MaxTracked: cfg.MaxTracked,
	}
}
