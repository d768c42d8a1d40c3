// Command healthprobe is the container health check of the service images. The runtime image is
// distroless (no shell, no curl), so docker compose runs this static binary instead:
//
//	healthprobe http://127.0.0.1:9101/readyz
//
// It exits 0 when the URL answers 2xx within the timeout and 1 otherwise, printing why. Kubernetes
// does not need it: its probes call the same endpoints over HTTP.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	timeout := flag.Duration("timeout", 3*time.Second, "give up after this long")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: healthprobe [-timeout 3s] http://127.0.0.1:PORT/readyz")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := probe(ctx, http.DefaultClient, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "healthprobe:", err)
		os.Exit(1)
	}
}

// probe GETs rawURL and succeeds only on a 2xx answer before ctx ends.
func probe(ctx context.Context, c *http.Client, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http(s) URL, got " + rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s %s", u, res.Status, body)
	}
	return nil
}
