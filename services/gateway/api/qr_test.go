package api_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/solcrowd/backend/libs/events"
	"github.com/solcrowd/backend/libs/solanapay"
	"github.com/solcrowd/backend/services/gateway/api"
)

func decodeQR(t *testing.T, pngBytes []byte) (string, image.Image) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("QR does not decode: %v", err)
	}
	return res.GetText(), img
}

// modulePixels measures the width of the top-left finder pattern's outer ring (7 modules) after
// the 4-module quiet zone, giving the pixels per module.
func modulePixels(t *testing.T, img image.Image) int {
	t.Helper()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				run := 0
				for xx := x; xx < b.Max.X; xx++ {
					if r, _, _, _ := img.At(xx, y).RGBA(); r >= 0x8000 {
						break
					}
					run++
				}
				return run / 7
			}
		}
	}
	t.Fatal("no dark pixel")
	return 0
}

func TestQRDecodesToExactURI(t *testing.T) {
	e := newEnv(t, envOpts{})
	id := createSeedCampaign(t, e)["campaign_id"].(string)
	e.stubs.mu.Lock()
	cp := e.stubs.campaigns[id]
	cp.Name = "Karen Ünïcode 🚀"
	e.stubs.campaigns[id] = cp
	e.stubs.mu.Unlock()

	for _, tc := range []struct{ query, amount string }{
		{"", ""},
		{"?amount=1.5", "1.5"},
		{"?amount=0.000000001", "0.000000001"},
		{"?amount=1.50", "1.5"},
		{"?amount=1000000000", "1000000000"},
		{"?amount=999999999.999999999", "999999999.999999999"},
	} {
		r := e.do("GET", "/api/campaigns/"+id+"/qr"+tc.query, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.query, r.status, r.body)
		}
		m := r.json(t)
		uri := m["solana_pay_uri"].(string)
		pngBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(m["qr_code"].(string), "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		got, img := decodeQR(t, pngBytes)
		if got != uri {
			t.Fatalf("QR holds %q, response says %q", got, uri)
		}
		if px := modulePixels(t, img); px < api.MinModulePixels {
			t.Fatalf("module is %d px", px)
		}
		if w := img.Bounds().Dx(); w > 185*api.MaxModulePixels {
			t.Fatalf("image %d px wide", w)
		}
		req, err := solanapay.Parse(uri)
		if err != nil {
			t.Fatalf("uri does not parse: %v", err)
		}
		tr := req.(*solanapay.TransferRequest)
		if tr.Recipient != seedWallet || tr.Amount != tc.amount || len(tr.References) != 1 || tr.References[0] != cp.Reference ||
			tr.Label != "SolCrowd Café" || tr.Message != "Contribute to Karen Ünïcode 🚀 (KAREN)" {
			t.Fatalf("transfer request: %+v", tr)
		}
		if strings.ContainsAny(uri, " +é🚀") {
			t.Fatalf("text not percent-encoded: %s", uri)
		}
	}

	// The raw PNG form holds the same URI, and module_px sets the module size exactly.
	res, err := http.Get(e.url + "/api/campaigns/" + id + "/qr?amount=2&format=png&module_px=3")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	got, img := decodeQR(t, buf.Bytes())
	if !strings.HasPrefix(got, "solana:"+seedWallet+"?amount=2&reference="+cp.Reference+"&label=SolCrowd%20Caf%C3%A9&message=") {
		t.Fatalf("png uri: %s", got)
	}
	if px := modulePixels(t, img); px != 3 {
		t.Fatalf("module_px=3 drew %d px modules", px)
	}
}

func TestQRPNGLongestURI(t *testing.T) {
	// A campaign name near the URI limit still yields a decodable, bounded image.
	cp := events.Campaign{ID: "c", Name: strings.Repeat("é", 280), Symbol: "X", WalletAddress: seedWallet, Reference: payer1}
	uri, err := api.PaymentURI(cp, "1", "SolCrowd")
	if err != nil {
		t.Fatal(err)
	}
	png, err := api.QRPNG(uri, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, img := decodeQR(t, png)
	if got != uri || img.Bounds().Dx() > 185*api.MaxModulePixels {
		t.Fatalf("got %d chars, %d px", len(got), img.Bounds().Dx())
	}
	if _, err := api.PaymentURI(events.Campaign{ID: "c", Name: strings.Repeat("é", 400), WalletAddress: seedWallet}, "", "x"); err == nil {
		t.Fatal("a URI over 2048 characters must be refused")
	}
}

func TestPaymentMessageNamesTokensWithoutMetadata(t *testing.T) {
	cases := []struct {
		name, symbol, want string
	}{
		{"Karen", "KAREN", "Contribute to Karen (KAREN)"},
		{"Karen", "", "Contribute to Karen"},
		{"", "KAREN", "Contribute to KAREN"},
		{"", "", "Contribute to token EPjF…Dt1v"},
	}
	for _, c := range cases {
		cp := events.Campaign{Name: c.name, Symbol: c.symbol, ContractAddress: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
			WalletAddress: "9o24Px7asSDJ1ZLyQhZd7vehm9kX4VuTeJh7VGryjXkm"}
		uri, err := api.PaymentURI(cp, "", "")
		if err != nil {
			t.Fatal(err)
		}
		req, err := solanapay.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.(*solanapay.TransferRequest).Message; got != c.want {
			t.Errorf("%q/%q: got %q, want %q", c.name, c.symbol, got, c.want)
		}
	}
}
