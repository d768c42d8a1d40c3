package main

import (
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/solcrowd/backend/libs/fixtures"
)

// startMarketReplay serves the recorded price-API responses on a local port, so the pricer shows
// real recorded figures without reaching the internet. Every token lookup gets the recorded
// DexScreener response (its pair is SOL/USDC), every price lookup the recorded CoinGecko and
// Jupiter bodies.
func startMarketReplay(log *slog.Logger) (string, *http.Server, error) {
	mux := http.NewServeMux()
	serve := func(name string) http.HandlerFunc {
		body := fixtures.Market(name)
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	}
	mux.Handle("/coingecko/", serve("coingecko-simple-price-solana.json"))
	mux.Handle("/dexscreener/", serve("dexscreener-tokens-v1-solana-wsol.json"))
	mux.Handle("/jupiter", serve("jupiter-price-v3-docs-example.json")) // JUPITER_URL is the endpoint itself
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Debug("market replay", "path", r.URL.Path)
		if !strings.HasPrefix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}
