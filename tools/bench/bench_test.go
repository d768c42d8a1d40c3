package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the fan-out client process, as the bench binary does.
func TestMain(m *testing.M) {
	if len(os.Args) >= 2 && os.Args[1] == fanoutClientsCmd {
		if err := fanoutClients(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPercentilesAndMedian(t *testing.T) {
	var d durations
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := d.pct(50); got != 50*time.Millisecond {
		t.Errorf("p50 = %v", got)
	}
	if got := d.pct(99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v", got)
	}
	if got := d.pct(100); got != 100*time.Millisecond {
		t.Errorf("p100 = %v", got)
	}
	if got := (durations{}).pct(99); got != 0 {
		t.Errorf("empty p99 = %v", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("even median = %v", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

func TestConfirmedSignature(t *testing.T) {
	frame := []byte(`{"type":"event","channel":"campaign:x","stream":"CONTRIBUTIONS","seq":7,"subject":"contribution.confirmed","event":{"version":1,"signature":"5sig"}}`)
	if sig, ok := confirmedSignature(frame); !ok || sig != "5sig" {
		t.Errorf("got %q %v", sig, ok)
	}
	other := bytes.Replace(frame, []byte("contribution.confirmed"), []byte("campaign.progress"), 1)
	if _, ok := confirmedSignature(other); ok {
		t.Error("a campaign.progress frame was taken for a contribution")
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"-runs", "1"}, {"detect", "-runs", "0"}, {"rest", "-concurrency", "-1"}} {
		var out bytes.Buffer
		if _, _, err := parse(args, &out); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
	cmd, o, err := parse([]string{"backfill", "-backfill", "10", "-rps", "5"}, &bytes.Buffer{})
	if err != nil || cmd != "backfill" || o.backfill != 10 || o.rps != 5 || o.runs != 3 {
		t.Errorf("parse: %q %+v %v", cmd, o, err)
	}
}

// TestSubcommandsSmoke runs every subcommand with tiny numbers and a fast slot clock, against the
// real services, NATS, Postgres and simulator.
func TestSubcommandsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	for _, args := range [][]string{
		{"throughput", "-runs", "1", "-n", "40", "-slot", "20ms"},
		{"rpc", "-runs", "1", "-steady", "10", "-cold", "30", "-slot", "20ms"},
		{"backfill", "-runs", "1", "-backfill", "20", "-rps", "200", "-slot", "20ms"},
		{"detect", "-runs", "1", "-rate", "40", "-duration", "500ms", "-slot", "50ms"},
		{"rest", "-runs", "1", "-concurrency", "4", "-duration", "1s", "-slot", "50ms"},
		{"fanout", "-runs", "1", "-clients", "20", "-events", "2", "-slot", "50ms"},
	} {
		t.Run(args[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			var out bytes.Buffer
			if err := run(ctx, args, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "| **") {
				t.Errorf("no figures reported:\n%s", out.String())
			}
		})
	}
}
