package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

// cpuMeter measures the CPU time the whole bench process (services, simulator, NATS, clients)
// used over a span, in cores: 2.0 means both cores of this machine all the time.
type cpuMeter struct {
	wall time.Time
	cpu  time.Duration
	wait time.Duration
}

func startCPU() cpuMeter { return cpuMeter{wall: time.Now(), cpu: processCPU(), wait: runQueueWait()} }

func (m cpuMeter) cores() float64 {
	return float64(processCPU()-m.cpu) / float64(time.Since(m.wall))
}

// waiting is the time the process's threads were runnable but waiting for a CPU (the kernel's
// run-queue delay), in cores: a measure of how much the other users of the machine held us back.
func (m cpuMeter) waiting() float64 {
	return float64(runQueueWait()-m.wait) / float64(time.Since(m.wall))
}

// runQueueWait sums the run-queue delay of the process's threads (/proc/self/task/*/schedstat,
// second field, nanoseconds). Threads that ended meanwhile are not counted.
func runQueueWait() time.Duration {
	dirs, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	var total int64
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) >= 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				total += v
			}
		}
	}
	return time.Duration(total)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
