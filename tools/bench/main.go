// Command bench measures the backend on this machine against the real services (their
// production Run functions), the embedded NATS server, a real Postgres database and the chain
// simulator, next to baselines measured in the same run. Every figure is reported per run and as
// the median of the runs, as Markdown. docs/benchmarks.md has the results and the commands.
//
//	go run ./tools/bench [flags] detect|throughput|rest|fanout|rpc|backfill|all
//
// Every run is bounded in time and size and stops by itself; all traffic goes to 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags shared by every subcommand.
type options struct {
	runs     int
	duration time.Duration
	rate     int           // detect: payments per second
	slot     time.Duration // slot interval the bench drives the simulator at
	n        int           // throughput: payments per run
	conc     int           // rest: concurrent clients
	clients  int           // fanout: WebSocket clients
	events   int           // fanout: events per run
	steady   int           // rpc: payments at steady state
	cold     int           // rpc: historical payments at cold start
	backfill int           // backfill: historical payments
	rps      float64       // backfill: RPC requests per second
	verbose  bool
	cpuprof  string
	profiled *bool // the profile was taken
	memprof  string
	env      map[string]string // service configuration overrides (-env K=V,K=V)
	out      io.Writer
	log      *slog.Logger // services' logger
}

var commands = map[string]func(context.Context, options) (*table, error){
	"detect":     benchDetect,
	"throughput": benchThroughput,
	"rest":       benchREST,
	"fanout":     benchFanout,
	"rpc":        benchRPC,
	"backfill":   benchBackfill,
}

var order = []string{"detect", "throughput", "rest", "fanout", "rpc", "backfill"}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == fanoutClientsCmd {
		if err := fanoutClients(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench fanout clients:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), "usage: bench %s [flags]\n", strings.Join(append(order, "all"), "|"))
	fs.PrintDefaults()
}

func parse(args []string, out io.Writer) (cmd string, o options, err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 3, "runs per figure (the median is reported)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measuring time of one detect or rest run")
	fs.IntVar(&o.rate, "rate", 200, "detect: payments per second")
	fs.DurationVar(&o.slot, "slot", 400*time.Millisecond, "slot interval the bench advances the simulator at (mainnet: 400ms)")
	fs.IntVar(&o.n, "n", 10000, "throughput: payments per run")
	fs.IntVar(&o.conc, "concurrency", 64, "rest: concurrent keep-alive clients")
	fs.IntVar(&o.clients, "clients", 10000, "fanout: WebSocket clients subscribed to the campaign")
	fs.IntVar(&o.events, "events", 5, "fanout: events per run")
	fs.IntVar(&o.steady, "steady", 1000, "rpc: payments measured at steady state")
	fs.IntVar(&o.cold, "cold", 10000, "rpc: historical payments found at a cold start")
	fs.IntVar(&o.backfill, "backfill", 2000, "backfill: historical payments to catch up")
	fs.Float64Var(&o.rps, "rps", 50, "backfill: the indexer's RPC limit (SOLANA_RPC_RPS)")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the whole process (services included) during the first run's measured phase to this file")
	fs.StringVar(&o.memprof, "memprofile", "", "fanout: write a heap profile with every client connected to this file")
	var env string
	fs.StringVar(&env, "env", "", "service configuration overrides for every stack, e.g. INDEXER_FETCH_WORKERS=16,CAMPAIGN_LEDGER_BATCH=512")
	fs.BoolVar(&o.verbose, "v", false, "log the services at info level to stderr (default: warnings)")
	fs.SetOutput(out)
	fs.Usage = func() { usage(fs) }
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		usage(fs)
		return "", o, fmt.Errorf("name a subcommand")
	}
	cmd = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return "", o, err
	}
	if _, ok := commands[cmd]; !ok && cmd != "all" {
		usage(fs)
		return "", o, fmt.Errorf("unknown subcommand %q", cmd)
	}
	if o.runs < 1 || o.duration <= 0 || o.rate < 1 || o.slot <= 0 || o.n < 1 || o.conc < 1 || o.clients < 1 ||
		o.events < 1 || o.steady < 1 || o.cold < 1 || o.backfill < 1 || o.rps <= 0 {
		return "", o, fmt.Errorf("every count, duration and rate must be positive")
	}
	o.env = map[string]string{}
	for _, kv := range strings.Split(env, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return "", o, fmt.Errorf("-env: %q is not KEY=VALUE", kv)
		}
		o.env[k] = v
	}
	lvl := slog.LevelWarn
	if o.verbose {
		lvl = slog.LevelInfo
	}
	o.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	o.out = out
	o.profiled = new(bool)
	return cmd, o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	cmd, o, err := parse(args, out)
	if err != nil {
		return err
	}
	cmds := []string{cmd}
	if cmd == "all" {
		cmds = order
	}
	fmt.Fprintf(out, "# bench %s — %s, GOMAXPROCS=%d, %s\n", strings.Join(args, " "), time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), loadavg())
	var failed []string
	for _, c := range cmds {
		start := time.Now()
		t, err := commands[c](ctx, o)
		if t != nil {
			fmt.Fprint(out, t)
		}
		fmt.Fprintf(out, "\n_%s took %s; %s_\n", c, time.Since(start).Round(time.Second), loadavg())
		if err != nil {
			fmt.Fprintf(out, "\n**%s failed:** %v\n", c, err)
			failed = append(failed, c)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// loadavg reads the 1-minute load average, the measure of how much else used the cores.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + f[0] + " " + f[1] + " " + f[2]
}

// profile starts the CPU profile of the measured phase when -cpuprofile is set and none was
// taken yet; the returned stop ends it (safe to call when nothing was started).
func (o *options) profile() (stop func()) {
	if o.cpuprof == "" || o.profiled == nil || *o.profiled {
		return func() {}
	}
	f, err := os.Create(o.cpuprof)
	if err != nil {
		o.log.Warn("cpuprofile", "err", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		o.log.Warn("cpuprofile", "err", err)
		return func() {}
	}
	*o.profiled = true
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
