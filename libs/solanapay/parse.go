package solanapay

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/solcrowd/backend/libs/solana/address"
)

// Parse reads a Solana Pay URI and returns a *TransferRequest or a
// *TransactionRequest. See the package doc for the parse policy.
// Errors are *Error.
func Parse(uri string) (Request, error) {
	if len(uri) > MaxURILength {
		return nil, &Error{Field: "uri", Reason: fmt.Sprintf("%d characters, at most %d", len(uri), MaxURILength)}
	}
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return nil, &Error{Field: "uri", Reason: `must start with "solana:"`}
	}
	rest := uri[len(scheme):]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, &Error{Field: "uri", Reason: "has a fragment"}
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return nil, &Error{Field: "uri", Reason: "missing recipient or link"}
	}
	if strings.ContainsAny(path, ":%") {
		return parseTransaction(path, query)
	}
	return parseTransfer(path, query)
}

func parseTransaction(path, query string) (Request, error) {
	link, err := unescape(path, false)
	if err != nil {
		return nil, &Error{Field: "link", Reason: err.Error()}
	}
	// The spec defines no parameters of its own for a transaction request
	// URI other than the link's; a query outside the (encoded) link is
	// ambiguous, so it is rejected.
	if query != "" {
		return nil, &Error{Field: "link", Reason: "query must be percent-encoded inside the link"}
	}
	if err := checkLink(link); err != nil {
		return nil, err
	}
	return &TransactionRequest{Link: link}, nil
}

func parseTransfer(path, query string) (Request, error) {
	r := &TransferRequest{Recipient: path}
	if _, err := address.Parse(path); err != nil {
		return nil, ferr("recipient", err)
	}
	seen := map[string]bool{}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "amount", "spl-token", "label", "message", "memo":
				if seen[k] {
					return nil, &Error{Field: k, Reason: "given more than once"}
				}
				seen[k] = true
			}
			switch k {
			case "amount":
				if v == "" {
					return nil, &Error{Field: "amount", Reason: "empty"}
				}
				r.Amount = v // checked below, once spl-token is known
			case "spl-token":
				if v == "" {
					return nil, &Error{Field: "spl-token", Reason: "empty"}
				}
				r.SPLToken = v
			case "reference":
				r.References = append(r.References, v)
			case "label", "message", "memo":
				t, err := unescape(v, true)
				if err != nil {
					return nil, &Error{Field: k, Reason: err.Error()}
				}
				switch k {
				case "label":
					r.Label = t
				case "message":
					r.Message = t
				default:
					r.Memo = t
				}
			}
		}
	}
	if r.Amount != "" {
		c, err := checkAmount(r.Amount, r.SPLToken == "")
		if err != nil {
			return nil, err
		}
		r.Amount = c
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// unescape decodes %XX escapes strictly and checks the result is UTF-8.
// With plusSpace, a raw '+' decodes to a space (form encoding, as wallets
// read query values).
func unescape(s string, plusSpace bool) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("not valid UTF-8")
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("invalid percent escape at byte %d", i)
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plusSpace:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return "", fmt.Errorf("not valid UTF-8")
	}
	return out, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
