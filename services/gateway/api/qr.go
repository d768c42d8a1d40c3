package api

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solanapay"
)

// QR image bounds: each module is drawn as an integral square of at least MinModulePixels so
// phone cameras read it, and the image never exceeds the size a version-40 code reaches at
// MaxModulePixels.
const (
	MinModulePixels     = 3
	MaxModulePixels     = 10
	defaultModulePixels = 8
)

func (s *Server) qrRoutes(api *gin.RouterGroup) {
	api.GET("/campaigns/:campaign_id/qr", s.campaignQR)
}

// campaignQR renders the Solana Pay transfer request of a campaign: its escrow, the optional
// exact amount, its reference (so the indexer attributes the payment), a label and a message.
// ?format=png answers the raw PNG; otherwise the seed's JSON with a base64 data URI.
func (s *Server) campaignQR(c *gin.Context) {
	id := c.Param("campaign_id")
	if err := checkID("campaign_id", id); err != nil {
		fail(c, err)
		return
	}
	var amount string
	var lamports *string
	if a, ok := c.GetQuery("amount"); ok {
		l, err := parseSOLAmount("amount", a)
		if err != nil {
			fail(c, err)
			return
		}
		amount = l.SOL()
		lamports = strPtr(l.String())
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "png" {
		fail(c, apperr.InvalidField("format", "must be json or png"))
		return
	}
	px := defaultModulePixels
	if v, ok := c.GetQuery("module_px"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinModulePixels || n > MaxModulePixels {
			fail(c, apperr.InvalidField("module_px", "must be a whole number between %d and %d", MinModulePixels, MaxModulePixels))
			return
		}
		px = n
	}
	rep, err := s.b.GetCampaign(c.Request.Context(), events.GetCampaignRequest{ID: id})
	if err != nil {
		fail(c, err)
		return
	}
	cp := rep.Campaign
	if cp.Status == events.StatusCancelled {
		fail(c, apperr.Conflictf("campaign %s is cancelled and takes no contributions", cp.ID))
		return
	}
	uri, err := PaymentURI(cp, amount, s.o.QRLabel)
	if err != nil {
		fail(c, err)
		return
	}
	png, err := QRPNG(uri, px)
	if err != nil {
		fail(c, err)
		return
	}
	if format == "png" {
		c.Header("Cache-Control", "no-store")
		c.Data(200, "image/png", png)
		return
	}
	c.JSON(200, gin.H{
		"qr_code":         "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		"solana_pay_uri":  uri,
		"escrow_address":  cp.WalletAddress,
		"reference":       cp.Reference,
		"amount_lamports": lamports,
		"campaign_id":     cp.ID,
	})
}

// PaymentURI builds the Solana Pay transfer request for a contribution to cp. amount is a
// canonical SOL decimal or "" to let the wallet ask.
func PaymentURI(cp events.Campaign, amount, label string) (string, error) {
	req := solanapay.TransferRequest{
		Recipient: cp.WalletAddress,
		Amount:    amount,
		Label:     label,
		Message:   paymentMessage(cp),
	}
	if cp.Reference != "" {
		req.References = []string{cp.Reference}
	}
	uri, err := req.URI()
	if err != nil {
		return "", fmt.Errorf("campaign %s: build solana pay uri: %w", cp.ID, err)
	}
	return uri, nil
}

// paymentMessage names the campaign's token for the wallet's confirmation screen: by name and
// symbol, else whichever is known, else by its shortened mint (tokens without metadata exist).
func paymentMessage(cp events.Campaign) string {
	switch {
	case cp.Name != "" && cp.Symbol != "":
		return "Contribute to " + cp.Name + " (" + cp.Symbol + ")"
	case cp.Name != "":
		return "Contribute to " + cp.Name
	case cp.Symbol != "":
		return "Contribute to " + cp.Symbol
	case len(cp.ContractAddress) > 8:
		return "Contribute to token " + cp.ContractAddress[:4] + "…" + cp.ContractAddress[len(cp.ContractAddress)-4:]
	}
	return "Contribute to token " + cp.ContractAddress
}

// QRPNG encodes content as a QR code PNG with every module exactly modulePx pixels square
// (clamped to MinModulePixels..MaxModulePixels) and the standard four-module quiet zone.
func QRPNG(content string, modulePx int) ([]byte, error) {
	modulePx = min(max(modulePx, MinModulePixels), MaxModulePixels)
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr encode: %w", err)
	}
	// A negative size makes the library draw each module as exactly -size pixels.
	return q.PNG(-modulePx)
}
