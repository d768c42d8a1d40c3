package api

import (
	"encoding/json"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
)

func (s *Server) campaignRoutes(api *gin.RouterGroup, limit, operator gin.HandlerFunc) {
	api.POST("/campaigns", limit, s.createCampaign)
	api.GET("/campaigns", s.listCampaigns)
	api.GET("/campaigns/:campaign_id", s.getCampaign)
	api.PATCH("/campaigns/:campaign_id", limit, operator, s.updateCampaign)
	api.DELETE("/campaigns/:campaign_id", limit, operator, s.cancelCampaign)
}

// createCampaignBody is the seed's request body, plus the optional campaign_type and
// wallet_address (the escrow; the campaign service's default WALLET when absent).
type createCampaignBody struct {
	ContractAddress *string         `json:"contract_address"`
	GoalAmount      json.RawMessage `json:"goal_amount"`
	ExpiresAt       *string         `json:"expires_at"`
	SocialTwitter   *string         `json:"social_twitter"`
	SocialWebsite   *string         `json:"social_website"`
	Description     *string         `json:"description"`
	CampaignType    *string         `json:"campaign_type"`
	WalletAddress   *string         `json:"wallet_address"`
}

// amountText returns the exact decimal text of a JSON number or numeric string, never going
// through a float.
func amountText(field string, raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", apperr.InvalidField(field, "is required")
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return "", apperr.InvalidField(field, "must be a number")
		}
		return str, nil
	}
	if s[0] == '{' || s[0] == '[' || s == "true" || s == "false" {
		return "", apperr.InvalidField(field, "must be a number")
	}
	return s, nil
}

func (s *Server) createCampaign(c *gin.Context) {
	var body createCampaignBody
	if err := decodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	req, err := s.validateCreate(c, body)
	if err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.CreateCampaign(c.Request.Context(), req)
	if err != nil {
		fail(c, err)
		return
	}
	v := viewCampaign(rep.Campaign)
	c.JSON(200, gin.H{
		"success":        true,
		"campaign_id":    rep.Campaign.ID,
		"escrow_address": rep.Campaign.WalletAddress,
		"error":          nil,
		"campaign":       v,
		"reference":      rep.Campaign.Reference,
		"created":        rep.Created,
	})
}

func (s *Server) validateCreate(c *gin.Context, b createCampaignBody) (events.CreateCampaignRequest, error) {
	var req events.CreateCampaignRequest
	if b.ContractAddress == nil {
		return req, apperr.InvalidField("contract_address", "is required")
	}
	mint, err := parseAddress("contract_address", *b.ContractAddress)
	if err != nil {
		return req, err
	}
	goal, err := amountText("goal_amount", b.GoalAmount)
	if err != nil {
		return req, err
	}
	if _, err := parseSOLAmount("goal_amount", goal); err != nil {
		return req, err
	}
	if b.ExpiresAt == nil {
		return req, apperr.InvalidField("expires_at", "is required")
	}
	exp, err := parseTime("expires_at", *b.ExpiresAt)
	if err != nil {
		return req, err
	}
	if !exp.After(s.now()) {
		return req, apperr.InvalidField("expires_at", "must be in the future")
	}
	if err := checkURL("social_twitter", b.SocialTwitter); err != nil {
		return req, err
	}
	if err := checkURL("social_website", b.SocialWebsite); err != nil {
		return req, err
	}
	if err := checkText("description", b.Description, 4000); err != nil {
		return req, err
	}
	if err := checkText("campaign_type", b.CampaignType, 64); err != nil {
		return req, err
	}
	if b.WalletAddress != nil {
		if _, err := parseAddress("wallet_address", *b.WalletAddress); err != nil {
			return req, err
		}
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return req, apperr.InvalidField("Idempotency-Key", "must be at most 128 printable ASCII characters")
	}
	return events.CreateCampaignRequest{
		ContractAddress: mint,
		GoalAmount:      goal,
		ExpiresAt:       *b.ExpiresAt,
		Description:     b.Description,
		SocialTwitter:   b.SocialTwitter,
		SocialWebsite:   b.SocialWebsite,
		CampaignType:    b.CampaignType,
		WalletAddress:   b.WalletAddress,
		IdempotencyKey:  key,
	}, nil
}

func (s *Server) listCampaigns(c *gin.Context) {
	var req events.ListCampaignsRequest
	if st := c.Query("status"); st != "" {
		if !events.CampaignStatus(st).Valid() {
			fail(c, apperr.InvalidField("status", "must be one of active, funded, completed, expired, cancelled"))
			return
		}
		req.Status = st
	}
	var err error
	if m := c.Query("mint"); m != "" {
		if req.Mint, err = parseAddress("mint", m); err != nil {
			fail(c, err)
			return
		}
	}
	if e := c.Query("escrow"); e != "" {
		if req.Escrow, err = parseAddress("escrow", e); err != nil {
			fail(c, err)
			return
		}
	}
	if req.Cursor, err = queryCursor(c); err != nil {
		fail(c, err)
		return
	}
	if req.Limit, err = queryLimit(c, 50, 200); err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.ListCampaigns(c.Request.Context(), req)
	if err != nil {
		fail(c, err)
		return
	}
	views := make([]*campaignView, 0, len(rep.Campaigns))
	for _, cp := range rep.Campaigns {
		views = append(views, viewCampaign(cp))
	}
	var next *string
	if rep.NextCursor != "" {
		next = strPtr(rep.NextCursor)
	}
	c.JSON(200, gin.H{"success": true, "campaigns": views, "count": len(views), "next_cursor": next})
}

func (s *Server) getCampaign(c *gin.Context) {
	id := c.Param("campaign_id")
	if err := checkID("campaign_id", id); err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.GetCampaign(c.Request.Context(), events.GetCampaignRequest{ID: id})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, campaignEnvelope{Success: true, Campaign: viewCampaign(rep.Campaign)})
}

type updateCampaignBody struct {
	Description   *string `json:"description"`
	SocialTwitter *string `json:"social_twitter"`
	SocialWebsite *string `json:"social_website"`
	ExpiresAt     *string `json:"expires_at"`
}

func (s *Server) updateCampaign(c *gin.Context) {
	id := c.Param("campaign_id")
	if err := checkID("campaign_id", id); err != nil {
		fail(c, err)
		return
	}
	var body updateCampaignBody
	if err := decodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	if body.Description == nil && body.SocialTwitter == nil && body.SocialWebsite == nil && body.ExpiresAt == nil {
		fail(c, apperr.InvalidField("body", "name at least one of description, social_twitter, social_website, expires_at"))
		return
	}
	for _, chk := range []error{
		checkText("description", body.Description, 4000),
		checkURL("social_twitter", body.SocialTwitter),
		checkURL("social_website", body.SocialWebsite),
	} {
		if chk != nil {
			fail(c, chk)
			return
		}
	}
	if body.ExpiresAt != nil {
		if _, err := parseTime("expires_at", *body.ExpiresAt); err != nil {
			fail(c, err)
			return
		}
	}
	rep, err := s.b.UpdateCampaign(c.Request.Context(), events.UpdateCampaignRequest{
		ID: id, Description: body.Description, SocialTwitter: body.SocialTwitter,
		SocialWebsite: body.SocialWebsite, ExpiresAt: body.ExpiresAt,
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, campaignEnvelope{Success: true, Campaign: viewCampaign(rep.Campaign)})
}

func (s *Server) cancelCampaign(c *gin.Context) {
	id := c.Param("campaign_id")
	if err := checkID("campaign_id", id); err != nil {
		fail(c, err)
		return
	}
	reason := c.Query("reason")
	if err := checkText("reason", &reason, 500); err != nil {
		fail(c, err)
		return
	}
	rep, err := s.b.CancelCampaign(c.Request.Context(), events.CancelCampaignRequest{ID: id, Reason: reason})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, campaignEnvelope{Success: true, Campaign: viewCampaign(rep.Campaign)})
}
