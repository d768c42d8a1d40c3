package solanapay

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/solcrowd/backend/libs/money"
)

const (
	escrow = "AjWkS35VV8eptekzw59fAyXXQRXjcwanPezL4EDQfSd8"
	usdc   = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
	ref1   = "web3xFMwEPrc92NeeXdAigni95NDnnd2NPuajTirao2"
	ref2   = "buffaAJKmNLao65TDTUGq8oB9HgxkfPLGqPMFQapotJ"
)

func TestURI(t *testing.T) {
	tests := []struct {
		name string
		r    TransferRequest
		want string
	}{
		{"recipient only", TransferRequest{Recipient: escrow}, "solana:" + escrow},
		{"seed shape", TransferRequest{Recipient: escrow, Amount: "1.5"}, "solana:" + escrow + "?amount=1.5"},
		{"amount from lamports", TransferRequest{Recipient: escrow, Amount: money.Lamports(1).SOL()}, "solana:" + escrow + "?amount=0.000000001"},
		{"zero amount", TransferRequest{Recipient: escrow, Amount: "0"}, "solana:" + escrow + "?amount=0"},
		{
			"all fields in spec order, references kept in order",
			TransferRequest{Recipient: escrow, Amount: "0.01", SPLToken: usdc, References: []string{ref2, ref1},
				Label: "Café ☕ fund", Message: "Thanks 100% + more", Memo: "CFP #4115716"},
			"solana:" + escrow + "?amount=0.01&spl-token=" + usdc + "&reference=" + ref2 + "&reference=" + ref1 +
				"&label=Caf%C3%A9%20%E2%98%95%20fund&message=Thanks%20100%25%20%2B%20more&memo=CFP%20%234115716",
		},
		{"unreserved left alone", TransferRequest{Recipient: escrow, Label: "a-b.c_d~e"}, "solana:" + escrow + "?label=a-b.c_d~e"},
		{"reserved encoded", TransferRequest{Recipient: escrow, Memo: "a&b=c?d/e:f"}, "solana:" + escrow + "?memo=a%26b%3Dc%3Fd%2Fe%3Af"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.URI()
			if err != nil || got != tt.want {
				t.Fatalf("URI() = %q, %v\nwant %q", got, err, tt.want)
			}
			if strings.Contains(got, "+") {
				t.Fatalf("URI contains '+': %q", got)
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(back, &tt.r) {
				t.Fatalf("round trip: got %+v, want %+v", back, tt.r)
			}
		})
	}
}

func TestURIRejects(t *testing.T) {
	tests := []struct {
		name  string
		r     TransferRequest
		field string
	}{
		{"no recipient", TransferRequest{}, "recipient"},
		{"bad recipient", TransferRequest{Recipient: "0x1234"}, "recipient"},
		{"lowercased recipient", TransferRequest{Recipient: strings.ToLower(escrow)}, "recipient"},
		{"bad token", TransferRequest{Recipient: escrow, SPLToken: "USDC"}, "spl-token"},
		{"bad reference", TransferRequest{Recipient: escrow, References: []string{ref1, "nope"}}, "reference"},
		{"amount sign", TransferRequest{Recipient: escrow, Amount: "-1"}, "amount"},
		{"amount exponent", TransferRequest{Recipient: escrow, Amount: "1e9"}, "amount"},
		{"amount leading dot", TransferRequest{Recipient: escrow, Amount: ".5"}, "amount"},
		{"amount trailing dot", TransferRequest{Recipient: escrow, Amount: "5."}, "amount"},
		{"amount not canonical", TransferRequest{Recipient: escrow, Amount: "1.50"}, "amount"},
		{"amount too many SOL decimals", TransferRequest{Recipient: escrow, Amount: "0.1000000001"}, "amount"},
		{"amount overflows lamports", TransferRequest{Recipient: escrow, Amount: "18446744074"}, "amount"},
		{"label not UTF-8", TransferRequest{Recipient: escrow, Label: "\xff"}, "label"},
		{"too long", TransferRequest{Recipient: escrow, Message: strings.Repeat("é", 400)}, "uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.URI()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("URI() = %q, %v; want *Error", got, err)
			}
			if e.Field != tt.field {
				t.Fatalf("field %q (%v), want %q", e.Field, e, tt.field)
			}
		})
	}
	// An SPL amount may have more than 9 decimals (the mint decides).
	r := TransferRequest{Recipient: escrow, SPLToken: usdc, Amount: "0.0000000001"}
	if _, err := r.URI(); err != nil {
		t.Fatalf("SPL amount with 10 decimals: %v", err)
	}
}

func TestLengthBoundary(t *testing.T) {
	base := "solana:" + escrow + "?label="
	r := TransferRequest{Recipient: escrow, Label: strings.Repeat("a", MaxURILength-len(base))}
	u, err := r.URI()
	if err != nil || len(u) != MaxURILength {
		t.Fatalf("exactly %d: len %d, %v", MaxURILength, len(u), err)
	}
	if _, err := Parse(u); err != nil {
		t.Fatalf("Parse at the limit: %v", err)
	}
	r.Label += "a"
	if _, err := r.URI(); err == nil {
		t.Fatalf("%d characters accepted", MaxURILength+1)
	}
	if _, err := Parse(u + "a"); err == nil {
		t.Fatalf("Parse accepted %d characters", MaxURILength+1)
	}
	// A multi-byte character counts as its encoded length (3 bytes → 9).
	r.Label = strings.Repeat("a", MaxURILength-len(base)-9) + "☕"
	if u, err := r.URI(); err != nil || len(u) != MaxURILength {
		t.Fatalf("with ☕ at the limit: len %d, %v", len(u), err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Request
	}{
		{"solana:" + escrow, &TransferRequest{Recipient: escrow}},
		{"SOLANA:" + escrow + "?amount=1.50", &TransferRequest{Recipient: escrow, Amount: "1.5"}},
		{"solana:" + escrow + "?label=a+b%2Bc", &TransferRequest{Recipient: escrow, Label: "a b+c"}},
		{"solana:" + escrow + "?label=Caf%c3%a9", &TransferRequest{Recipient: escrow, Label: "Café"}},
		{"solana:" + escrow + "?foo=bar&amount=2&x", &TransferRequest{Recipient: escrow, Amount: "2"}},
		{"solana:" + escrow + "?reference=" + ref1 + "&amount=1&reference=" + ref2,
			&TransferRequest{Recipient: escrow, Amount: "1", References: []string{ref1, ref2}}},
		{"solana:https://example.com/api/pay", &TransactionRequest{Link: "https://example.com/api/pay"}},
		{"solana:https%3A%2F%2Fexample.com%2Fapi%2Fpay%3Fcampaign%3D7%26x%3Da%2520b",
			&TransactionRequest{Link: "https://example.com/api/pay?campaign=7&x=a%20b"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ in, field string }{
		{"", "uri"},
		{"bitcoin:" + escrow, "uri"},
		{"solana:", "uri"},
		{"solana:?amount=1", "uri"},
		{"solana:" + escrow + "#frag", "uri"},
		{"solana:" + strings.ToLower(escrow), "recipient"},
		{"solana:" + escrow + "?amount=1&amount=2", "amount"},
		{"solana:" + escrow + "?amount=", "amount"},
		{"solana:" + escrow + "?amount=-1", "amount"},
		{"solana:" + escrow + "?amount=1e3", "amount"},
		{"solana:" + escrow + "?amount=.5", "amount"},
		{"solana:" + escrow + "?amount=0.0000000001", "amount"},
		{"solana:" + escrow + "?spl-token=" + usdc + "&spl-token=" + usdc, "spl-token"},
		{"solana:" + escrow + "?spl-token=xyz0", "spl-token"},
		{"solana:" + escrow + "?reference=abc", "reference"},
		{"solana:" + escrow + "?label=%zz", "label"},
		{"solana:" + escrow + "?label=%4", "label"},
		{"solana:" + escrow + "?message=%ff", "message"},
		{"solana:" + escrow + "?memo=a&memo=b", "memo"},
		{"solana:http://example.com/pay", "link"},
		{"solana:https%3A%2F%2F", "link"},
		{"solana:https://example.com/pay?x=1", "link"},
		{"solana:%zz", "link"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %+v, %v; want *Error", tt.in, got, err)
			continue
		}
		if e.Field != tt.field {
			t.Errorf("Parse(%q) field %q (%v), want %q", tt.in, e.Field, e, tt.field)
		}
	}
}

func TestTransactionRequestURI(t *testing.T) {
	for _, link := range []string{"https://example.com/api/pay", "https://example.com/api/pay?campaign=7&label=a%20b"} {
		u, err := TransactionRequest{Link: link}.URI()
		if err != nil {
			t.Fatalf("URI(%q): %v", link, err)
		}
		if strings.Contains(u, "+") || strings.Count(u, "?") > 0 {
			t.Fatalf("URI(%q) = %q: query must be encoded", link, u)
		}
		back, err := Parse(u)
		if err != nil || !reflect.DeepEqual(back, &TransactionRequest{Link: link}) {
			t.Fatalf("Parse(%q) = %+v, %v", u, back, err)
		}
	}
	for _, link := range []string{"", "http://example.com", "/relative", "https://", "https://exa mple.com"} {
		if u, err := (TransactionRequest{Link: link}).URI(); err == nil {
			t.Errorf("URI(%q) = %q, want error", link, u)
		}
	}
}

// TestRoundTripProperty builds many requests from a deterministic generator
// and checks Parse(URI(r)) == r for each.
func TestRoundTripProperty(t *testing.T) {
	texts := []string{"", "a", " ", "+", "%", "&", "=", "?", "#", "Café ☕ fund", "日本語", "a+b c", "100%", "\t\n", "~-._", "🙂"}
	refs := []string{ref1, ref2, usdc, escrow, "11111111111111111111111111111111"}
	n := 0
	for i := range 400 {
		r := TransferRequest{Recipient: refs[i%len(refs)]}
		if i%3 != 0 {
			r.Amount = money.FormatUnits(uint64(i)*7919*uint64(i%11+1)*1_000_003, 9)
		}
		if i%4 == 1 {
			r.SPLToken = usdc
		}
		for j := range i % 4 {
			r.References = append(r.References, refs[(i+j)%len(refs)])
		}
		r.Label = texts[i%len(texts)]
		r.Message = texts[(i/3)%len(texts)] + texts[(i/7)%len(texts)]
		r.Memo = texts[(i/5)%len(texts)]
		u, err := r.URI()
		if err != nil {
			t.Fatalf("URI(%+v): %v", r, err)
		}
		back, err := Parse(u)
		if err != nil || !reflect.DeepEqual(back, &r) {
			t.Fatalf("round trip of %+v via %q = %+v, %v", r, u, back, err)
		}
		n++
	}
	if n != 400 {
		t.Fatal("generator skipped cases")
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(escrow, "1.5", "", ref1, ref2, "Café ☕ fund", "m", "memo", uint8(2))
	f.Add(escrow, "", usdc, "", "", "", "", "", uint8(0))
	f.Add(ref1, "0.000000001", "", ref2, "", "a+b %", "&=?", "#", uint8(1))
	f.Fuzz(func(t *testing.T, recipient, amount, token, r1, r2, label, message, memo string, nref uint8) {
		r := TransferRequest{Recipient: recipient, Amount: amount, SPLToken: token, Label: label, Message: message, Memo: memo}
		switch nref % 3 {
		case 1:
			r.References = []string{r1}
		case 2:
			r.References = []string{r1, r2}
		}
		u, err := r.URI()
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("URI error %T is not *Error", err)
			}
			return
		}
		if len(u) > MaxURILength || strings.ContainsAny(u, "+ #") {
			t.Fatalf("bad URI %q", u)
		}
		back, err := Parse(u)
		if err != nil {
			t.Fatalf("Parse(%q): %v", u, err)
		}
		if !reflect.DeepEqual(back, &r) {
			t.Fatalf("round trip: %+v -> %q -> %+v", r, u, back)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("solana:" + escrow + "?amount=1.5&reference=" + ref1 + "&label=Caf%C3%A9")
	f.Add("solana:https%3A%2F%2Fexample.com%2Fpay%3Fa%3D1")
	f.Add("solana:" + escrow + "?label=%zz&amount=.5")
	f.Fuzz(func(t *testing.T, s string) {
		req, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		// Whatever parses renders, and the rendering parses to the same
		// request (canonical form is a fixed point).
		u, err := req.URI()
		if err != nil {
			t.Fatalf("Parse(%q) = %+v but URI fails: %v", s, req, err)
		}
		again, err := Parse(u)
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, req, u, again, err)
		}
	})
}

func BenchmarkURI(b *testing.B) {
	r := TransferRequest{Recipient: escrow, Amount: "1.5", References: []string{ref1}, Label: "Café ☕ fund", Message: "Thanks"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.URI(); err != nil {
			b.Fatal(err)
		}
	}
}
