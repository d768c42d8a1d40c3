package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/solcrowd/backend/libs/events"
)

// fanoutClientsCmd is the hidden subcommand the fan-out benchmark re-executes itself with to
// hold the WebSocket clients in a separate process, so that the server's memory per connection
// is measured alone and each process stays within the open-file limit.
const fanoutClientsCmd = "fanout-clients"

// benchFanout measures fan-out: o.clients WebSocket clients (in a child process) subscribe to one
// campaign on the gateway; for each of o.events payments, the time from contribution.confirmed
// passing through NATS (seen by a core subscription in the bench process) until each client
// receives it; and the gateway process's resident memory per connection.
func benchFanout(ctx context.Context, o options) (*table, error) {
	t := &table{title: fmt.Sprintf("WebSocket fan-out (%d clients on one campaign, %d events per run)", o.clients, o.events)}
	if err := raiseNoFile(); err != nil {
		return t, err
	}
	for r := range o.runs {
		if err := fanoutRun(ctx, o, t); err != nil {
			return t, fmt.Errorf("run %d: %w", r+1, err)
		}
	}
	t.note("target: p99 ≤ 250 ms; latency runs from the event passing through NATS (a core subscription on contribution.confirmed in the bench process) to each client reading its frame")
	t.note("the clients run in a child process of the bench (same machine, same 2 cores); resident memory is the bench process's VmRSS (gateway, the other services, NATS and the simulator share it) after GC, with and without the connections")
	return t, nil
}

func raiseNoFile() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// rss is the process's resident memory after a full collection that returns freed memory to
// the OS, and the Go runtime's own count of memory in use (heap and stacks).
func rss() (resident, goInUse uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			resident = kb << 10
		}
	}
	return resident, m.HeapInuse + m.StackInuse
}

// clientReport is one line the child writes: ready (with its own RSS) or one event's receipts.
type clientReport struct {
	Ready     bool    `json:"ready,omitempty"`
	RSS       uint64  `json:"rss,omitempty"`
	Connected int     `json:"connected,omitempty"`
	Signature string  `json:"signature,omitempty"`
	Times     []int64 `json:"times,omitempty"` // UnixNano per client that received it
	Missing   int     `json:"missing,omitempty"`
}

func fanoutRun(ctx context.Context, o options, t *table) error {
	st, err := startServingStack(ctx, o)
	if err != nil {
		return err
	}
	defer st.close()
	// When each event passes through NATS.
	var mu sync.Mutex
	published := map[string]time.Time{}
	sub, err := st.bus.NC.Subscribe(events.SubjectContributionConfirmed, func(m *nats.Msg) {
		now := time.Now()
		var c events.Contribution
		if json.Unmarshal(m.Data, &c) == nil {
			mu.Lock()
			published[c.Signature] = now
			mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	// The server must know of the subscription before the first event is published.
	if err := st.bus.NC.Flush(); err != nil {
		return err
	}
	payers := fundPayers(st.sim, 1)
	ps, err := signPayments(st.sim, payers, st.escrow, st.reference, o.events, 1_000_000)
	if err != nil {
		return err
	}
	before, goBefore := rss()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	limit := 5*time.Minute + time.Duration(o.events)*30*time.Second
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, self, fanoutClientsCmd,
		"-url", strings.Replace(st.api, "http://", "ws://", 1)+"/ws",
		"-channel", "campaign:"+st.campaignID,
		"-n", strconv.Itoa(o.clients), "-events", strconv.Itoa(o.events),
		"-timeout", limit.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewReaderSize(out, 1<<20)
	read := func() (clientReport, error) {
		var rep clientReport
		b, err := lines.ReadBytes('\n')
		if err != nil {
			return rep, fmt.Errorf("fan-out clients ended: %w", err)
		}
		return rep, json.Unmarshal(b, &rep)
	}
	connStart := time.Now()
	rep, err := read()
	if err != nil {
		return err
	}
	if !rep.Ready {
		return errors.New("fan-out clients: expected ready")
	}
	connectTime := time.Since(connStart)
	after, goAfter := rss()
	if o.memprof != "" {
		if err := writeHeapProfile(o.memprof); err != nil {
			return err
		}
	}
	t.add("connect and subscribe all clients", "s", connectTime.Seconds())
	t.add("server resident memory per connection (VmRSS delta / clients)", "KiB", float64(int64(after)-int64(before))/float64(o.clients)/1024)
	t.add("server Go heap + stacks per connection", "KiB", float64(int64(goAfter)-int64(goBefore))/float64(o.clients)/1024)
	t.add("client process resident memory per connection", "KiB", float64(rep.RSS)/float64(o.clients)/1024)

	var p50s, p99s, maxs []float64
	stopProfile := o.profile()
	defer stopProfile()
	for i, p := range ps {
		time.Sleep(500 * time.Millisecond)
		if err := submit(st.sim, p); err != nil {
			return err
		}
		rep, err := read()
		if err != nil {
			return err
		}
		if rep.Signature != p.sig.String() {
			return fmt.Errorf("event %d: clients reported %s, want %s", i, rep.Signature, p.sig)
		}
		// The clients can report before this process's subscription callback has run: both
		// receive the event from NATS independently. Wait for the callback, within a deadline.
		var t0 time.Time
		ok := false
		for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); {
			mu.Lock()
			t0, ok = published[rep.Signature]
			mu.Unlock()
			if !ok {
				time.Sleep(5 * time.Millisecond) // polling interval of a deadline-bounded wait
			}
		}
		if !ok {
			return fmt.Errorf("event %d: not seen on NATS", i)
		}
		var d durations
		for _, ns := range rep.Times {
			d = append(d, time.Unix(0, ns).Sub(t0))
		}
		if rep.Missing > 0 {
			t.note("event %d: %d clients did not receive it", i+1, rep.Missing)
		}
		p50s = append(p50s, ms(d.pct(50)))
		p99s = append(p99s, ms(d.pct(99)))
		maxs = append(maxs, ms(d.pct(100)))
	}
	t.add("event to all clients p50 (median over the run's events)", "ms", median(p50s))
	t.add("event to all clients p99 (median over the run's events)", "ms", median(p99s))
	t.add("event to the last client (median over the run's events)", "ms", median(maxs))
	return nil
}

// fanoutClients is the child process: it opens n clients, subscribes each to channel, reports
// ready, then reports for each contribution.confirmed event when every client received it.
func fanoutClients(args []string) error {
	fs := flag.NewFlagSet(fanoutClientsCmd, flag.ContinueOnError)
	url := fs.String("url", "", "gateway WebSocket URL")
	channel := fs.String("channel", "", "channel to subscribe")
	n := fs.Int("n", 100, "clients")
	nEvents := fs.Int("events", 1, "events to wait for")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := raiseNoFile(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	type receipt struct {
		sig string
		at  int64
	}
	recv := make(chan receipt, 4096)
	conns := make([]io.Closer, *n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var dialErr error
	var errOnce sync.Once
	for i := range *n {
		sem <- struct{}{}
		if dialErr != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialGateway(ctx, *url, *channel)
			if err != nil {
				errOnce.Do(func() { dialErr = fmt.Errorf("client %d: %w", i, err) })
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if dialErr != nil {
		return dialErr
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	enc := json.NewEncoder(os.Stdout)
	res, _ := rss()
	if err := enc.Encode(clientReport{Ready: true, RSS: res, Connected: *n}); err != nil {
		return err
	}
	for i := range *n {
		c := conns[i].(interface {
			ReadMessage() (int, []byte, error)
		})
		go func() {
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				at := time.Now().UnixNano()
				// A cheap scan rather than a full decode: 10,000 clients share two cores with
				// the server, and the client's own parsing must not dominate what is measured.
				sig, ok := confirmedSignature(data)
				if !ok {
					continue
				}
				select {
				case recv <- receipt{sig, at}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	got := map[string][]int64{}
	var order []string
	done := 0
	for done < *nEvents {
		var r receipt
		select {
		case r = <-recv:
		case <-ctx.Done():
			// Report what arrived so the parent can say who missed it.
			for _, s := range order {
				if len(got[s]) < *n {
					_ = enc.Encode(clientReport{Signature: s, Times: got[s], Missing: *n - len(got[s])})
				}
			}
			return ctx.Err()
		}
		if _, ok := got[r.sig]; !ok {
			order = append(order, r.sig)
		}
		got[r.sig] = append(got[r.sig], r.at)
		if len(got[r.sig]) == *n {
			if err := enc.Encode(clientReport{Signature: r.sig, Times: got[r.sig]}); err != nil {
				return err
			}
			done++
		}
	}
	return nil
}

// confirmedSignature returns the signature of a contribution.confirmed event frame.
func confirmedSignature(frame []byte) (string, bool) {
	if !bytes.Contains(frame, []byte(`"subject":"contribution.confirmed"`)) {
		return "", false
	}
	const key = `"signature":"`
	i := bytes.Index(frame, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := frame[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
