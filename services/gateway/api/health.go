package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/events"
)

func (s *Server) healthRoutes(api *gin.RouterGroup) {
	api.GET("/health", s.health)
}

// seedTimestamp is the seed's timestamp format (Python's isoformat with microseconds).
const seedTimestamp = "2006-01-02T15:04:05.000000-07:00"

// health is the seed's health check: 200 when the database (through the campaign service) and
// the Solana RPC (through the indexer) answer, else 503 with the seed's unhealthy shape. An
// unknown SOL price does not make the API unhealthy; sol_price is then null.
func (s *Server) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	var (
		wg       sync.WaitGroup
		stats    events.StatsReply
		statsErr error
		chain    events.ChainHealthReply
		chainErr error
		price    events.SOLPrice
		priceErr error
	)
	wg.Go(func() { stats, statsErr = s.b.CampaignStats(ctx) })
	wg.Go(func() { chain, chainErr = s.b.ChainHealth(ctx) })
	wg.Go(func() { price, priceErr = s.b.SOLPrice(ctx) })
	wg.Wait()

	db, rpc := "ok", "ok"
	var reason string
	switch {
	case statsErr != nil:
		s.log.Warn("health: campaign service", "request_id", requestID(c), "err", statsErr)
		db, reason = "unreachable", "Database connection failed"
	case !stats.DatabaseOK:
		db, reason = "down", "Database connection failed"
	}
	switch {
	case chainErr != nil:
		s.log.Warn("health: indexer", "request_id", requestID(c), "err", chainErr)
		rpc = "unreachable"
	case !chain.OK:
		rpc = "down"
	}
	if rpc != "ok" && reason == "" {
		reason = "Solana RPC connection failed"
	}
	checks := gin.H{"database": db, "solana_rpc": rpc}
	if reason != "" {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unhealthy", "error": reason, "checks": checks})
		return
	}
	var solPrice *json.Number
	if priceErr == nil {
		solPrice = decimalOrNull(price.USD)
	}
	c.JSON(http.StatusOK, gin.H{
		"status":              "healthy",
		"timestamp":           s.now().UTC().Format(seedTimestamp),
		"sol_price":           solPrice,
		"monitored_campaigns": stats.MonitoredCampaigns,
		"checks":              checks,
		"version":             s.o.Version,
	})
}
