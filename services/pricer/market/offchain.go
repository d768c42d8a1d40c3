package market

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Metadata fetches a token's off-chain metadata JSON (the Metaplex / Token-2022 URI) for its image.
type Metadata struct {
	Client *Client
	// Gateway replaces IPFS locations: ipfs://CID/x and https://any.host/ipfs/CID/x both become
	// <Gateway>/ipfs/CID/x, so one trusted, configurable gateway serves every IPFS read.
	Gateway string // e.g. https://ipfs.io
}

// Image fetches uri (after the IPFS rewrite) and returns the "image" field, rewritten the same way.
// Only http(s) URIs are fetched.
func (m Metadata) Image(ctx context.Context, uri string) (string, error) {
	src := m.Rewrite(uri)
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("metadata uri %q is not http(s)", uri)
	}
	var doc struct {
		Image json.RawMessage `json:"image"`
	}
	if err := m.Client.GetJSON(ctx, src, nil, &doc); err != nil {
		return "", err
	}
	var img string
	if json.Unmarshal(doc.Image, &img) != nil {
		return "", nil
	}
	img = m.Rewrite(clean(img, 2048))
	if iu, err := url.Parse(img); err != nil || (iu.Scheme != "http" && iu.Scheme != "https") || iu.Host == "" {
		return "", nil
	}
	return img, nil
}

// Rewrite maps IPFS locations to the configured gateway and leaves anything else as it is.
func (m Metadata) Rewrite(uri string) string {
	gw := strings.TrimRight(m.Gateway, "/")
	if gw == "" {
		return uri
	}
	if rest, ok := strings.CutPrefix(uri, "ipfs://"); ok {
		rest = strings.TrimPrefix(rest, "ipfs/")
		return gw + "/ipfs/" + rest
	}
	if u, err := url.Parse(uri); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if i := strings.Index(u.Path, "/ipfs/"); i >= 0 {
			out := gw + u.Path[i:]
			if u.RawQuery != "" {
				out += "?" + u.RawQuery
			}
			return out
		}
	}
	return uri
}

// clean drops control characters and caps the length of upstream text.
func clean(s string, maxRunes int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == maxRunes {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
