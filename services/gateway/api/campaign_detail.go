package api

import (
	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/events"
)

func (s *Server) campaignDetailRoutes(api *gin.RouterGroup) {
	api.GET("/campaign-detail/:contract_address", s.campaignDetail)
}

// campaignDetail answers the seed's lookup by token mint: the open campaign for the mint, else
// the most recent one.
func (s *Server) campaignDetail(c *gin.Context) {
	mint, err := parseAddress("contract_address", c.Param("contract_address"))
	if err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.GetCampaign(c.Request.Context(), events.GetCampaignRequest{Mint: mint})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, campaignEnvelope{Success: true, Campaign: viewCampaign(rep.Campaign)})
}
