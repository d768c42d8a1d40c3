package api

import (
	"encoding/json"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/money"
)

func (s *Server) tokenRoutes(api *gin.RouterGroup) {
	api.GET("/token/:contract_address", s.token)
}

// token is the seed's token lookup. total_supply is the supply in whole tokens as an exact
// decimal string; total_supply_raw is the integer in base units. Unknown market figures are null.
func (s *Server) token(c *gin.Context) {
	mint, err := parseAddress("contract_address", c.Param("contract_address"))
	if err != nil {
		fail(c, err)
		return
	}
	t, err := s.b.TokenInfo(c.Request.Context(), mint)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{
		"status": "success",
		"data": gin.H{
			"contract_address": mint,
			"name":             t.Name,
			"symbol":           t.Symbol,
			"decimals":         t.Decimals,
			"price_usd":        decimalOrNull(t.PriceUSD),
			"total_supply":     money.FormatUnits(t.Supply, t.Decimals),
			"holders_count":    t.HoldersCount,
			"total_supply_raw": money.FormatUnits(t.Supply, 0),
			"image_url":        emptyNull(t.ImageURL),
			"liquidity_usd":    decimalOrNull(t.LiquidityUSD),
			"market_cap_usd":   decimalOrNull(t.MarketCapUSD),
			"volume_24h_usd":   decimalOrNull(t.Volume24hUSD),
			"token_program":    emptyNull(t.TokenProgram),
			"launchpad":        emptyNull(t.Launchpad),
			"source":           emptyNull(t.Source),
			"stale":            t.Stale,
		},
	})
}

// decimalOrNull renders a decimal string as an exact JSON number, or null when it is empty or
// not a plain decimal.
func decimalOrNull(s string) *json.Number {
	if s == "" {
		return nil
	}
	n, err := money.DecimalNumber(s)
	if err != nil {
		return nil
	}
	return &n
}

func emptyNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
