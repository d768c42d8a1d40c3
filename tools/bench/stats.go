package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// durations is a sample of latencies.
type durations []time.Duration

// pct returns the p-th percentile (0..100) by the nearest-rank method; 0 for an empty sample.
func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	return s[min(rank, len(s))-1]
}

// median of float64 values; NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// figure is one reported number: its value per run, and how it reads.
type figure struct {
	name string
	unit string
	runs []float64
}

// table collects the figures of one subcommand and prints them as Markdown.
type table struct {
	title   string
	figures []*figure
	notes   []string
}

func (t *table) add(name, unit string, v float64) {
	for _, f := range t.figures {
		if f.name == name {
			f.runs = append(f.runs, v)
			return
		}
	}
	t.figures = append(t.figures, &figure{name: name, unit: unit, runs: []float64{v}})
}

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s\n\n| figure | median | unit | runs |\n|---|---|---|---|\n", t.title)
	for _, f := range t.figures {
		runs := make([]string, len(f.runs))
		for i, v := range f.runs {
			runs[i] = num(v)
		}
		fmt.Fprintf(&b, "| %s | **%s** | %s | %s |\n", f.name, num(median(f.runs)), f.unit, strings.Join(runs, ", "))
	}
	for _, n := range t.notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	b.WriteString("\n")
	return b.String()
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
