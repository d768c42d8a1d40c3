package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/jackc/pgx/v5"
	"github.com/solcrowd/backend/libs/fixtures"
	"github.com/solcrowd/backend/libs/natstest"
	"github.com/solcrowd/backend/libs/pgtest"
	"github.com/solcrowd/backend/libs/solana/soltest"
)

// usdcMint is a recorded mainnet mint the simulator serves with LoadFixtures, so the pricer can
// describe it.
const usdcMint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"

// stack is the whole backend for one test: the real NATS server and the chain simulator in the
// test process, a fresh database on the real PostgreSQL server, a replay of the recorded price
// APIs, and the four services as separate processes.
type stack struct {
	t      *testing.T
	nats   *natstest.Server
	dbURL  string
	sim    *soltest.Server
	market *httptest.Server
	wallet solana.PublicKey // WALLET: the default escrow
	api    string           // http://127.0.0.1:port of the gateway
	ws     string           // ws://127.0.0.1:port/ws
	logDir string

	mu    sync.Mutex
	procs map[string]*proc
	env   map[string]map[string]string // per service
}

// proc is one running service process.
type proc struct {
	name string
	cmd  *exec.Cmd
	ops  string // host:port of /readyz
	done chan struct{}
	err  error
}

// stackOptions tune newStack.
type stackOptions struct {
	SlotInterval time.Duration // 0: slots advance only when the test calls sim.Advance
	NoStart      bool          // build the infrastructure but start no service
	Env          map[string]string
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	s := &stack{t: t, procs: map[string]*proc{}, env: map[string]map[string]string{}, logDir: t.TempDir()}
	if dir := os.Getenv("E2E_LOG_DIR"); dir != "" {
		// Keep the services' logs after the test, one directory per test.
		s.logDir = filepath.Join(dir, t.Name())
		if err := os.MkdirAll(s.logDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.nats = natstest.Run(t)
	s.dbURL = pgtest.NewDatabase(t, "")
	s.sim = soltest.NewServer(t, soltest.Config{SlotInterval: o.SlotInterval, LoadFixtures: true})
	s.market = httptest.NewServer(fixtures.MarketReplay())
	t.Cleanup(s.market.Close)
	s.wallet = solana.NewWallet().PublicKey()

	gatewayPort := freePort(t)
	s.api = "http://127.0.0.1:" + gatewayPort
	s.ws = "ws://127.0.0.1:" + gatewayPort + "/ws"
	common := map[string]string{
		"NATS_URL":         s.nats.URL(),
		"LOG_FORMAT":       "json",
		"LOG_LEVEL":        "debug",
		"SHUTDOWN_TIMEOUT": "5s",
	}
	per := map[string]map[string]string{
		"campaign": {
			"CAMPAIGN_OPS_ADDR":           "127.0.0.1:" + freePort(t),
			"DATABASE_URL":                s.dbURL,
			"CAMPAIGN_CREATE_DATABASE":    "false",
			"WALLET":                      s.wallet.String(),
			"CAMPAIGN_SCHEDULER_INTERVAL": "200ms",
			"CAMPAIGN_OUTBOX_POLL":        "100ms",
			"CAMPAIGN_LEDGER_ACK_WAIT":    "2s",
			"CAMPAIGN_LEDGER_MAX_DELIVER": "1000",
			"CAMPAIGN_DB_MAX_CONNS":       "4",
		},
		"pricer": {
			"PRICER_OPS_ADDR":         "127.0.0.1:" + freePort(t),
			"SOLANA_RPC_URL":          s.sim.URL,
			"PRICER_SOLANA_RPC_RPS":   "200",
			"PRICE_SOURCES":           "pyth,coingecko",
			"COINGECKO_URL":           fixtures.MarketEnv(s.market.URL)["COINGECKO_URL"],
			"COINGECKO_RPS":           "50",
			"DEXSCREENER_URL":         fixtures.MarketEnv(s.market.URL)["DEXSCREENER_URL"],
			"DEXSCREENER_RPS":         "50",
			"JUPITER_URL":             fixtures.MarketEnv(s.market.URL)["JUPITER_URL"],
			"IPFS_GATEWAY":            s.market.URL,
			"PRICER_REFRESH_INTERVAL": "1s",
			"UPSTREAM_TIMEOUT":        "2s",
		},
		"indexer": {
			"INDEXER_OPS_ADDR":          "127.0.0.1:" + freePort(t),
			"SOLANA_RPC_URL":            s.sim.URL,
			"SOLANA_WS_URL":             s.sim.WSURL,
			"SOLANA_RPC_RPS":            "2000",
			"SOLANA_RPC_TIMEOUT":        "3s",
			"INDEXER_BACKFILL_INTERVAL": "3s",
			"INDEXER_POLL_INTERVAL":     "500ms",
			"INDEXER_STALE_AFTER":       "2s",
			"INDEXER_SUBSCRIBE_TIMEOUT": "2s",
			"INDEXER_RECONNECT_MIN":     "50ms",
			"INDEXER_RECONNECT_MAX":     "1s",
			"INDEXER_FINALITY_INTERVAL": "200ms",
			"INDEXER_WATCHLIST_RETRY":   "200ms",
		},
		"gateway": {
			"GATEWAY_OPS_ADDR":          "127.0.0.1:" + freePort(t),
			"HTTP_ADDR":                 "127.0.0.1:" + gatewayPort,
			"RATE_LIMIT_WRITES_PER_MIN": "0",
			"WS_PING_INTERVAL":          "1s",
			"REQUEST_TIMEOUT":           "3s",
		},
	}
	for name, vars := range per {
		for k, v := range common {
			vars[k] = v
		}
		for k, v := range o.Env {
			vars[k] = v
		}
		s.env[name] = vars
	}
	t.Cleanup(s.stopAll)
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpLogs()
		}
	})
	if !o.NoStart {
		s.startAll()
	}
	return s
}

// startAll starts the four services and waits until each reports ready.
func (s *stack) startAll() {
	s.t.Helper()
	for _, name := range services {
		s.start(name)
	}
	for _, name := range services {
		s.waitReady(name)
	}
}

// start execs the service's binary with its environment. Its output is appended to
// <logDir>/<name>.log across restarts. The working directory is empty so no .env is read.
func (s *stack) start(name string) {
	s.t.Helper()
	vars := s.env[name]
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.logDir}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	f, err := os.OpenFile(filepath.Join(s.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(f, "=== start %s at %s\n", name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(filepath.Join(binDir, name))
	cmd.Env = env
	cmd.Dir = s.logDir
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		s.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	for k, v := range vars {
		if strings.HasSuffix(k, "_OPS_ADDR") {
			p.ops = v
		}
	}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
}

// waitReady polls the service's /readyz until it answers 200, failing fast if the process exits.
func (s *stack) waitReady(name string) {
	s.t.Helper()
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			s.t.Fatalf("%s exited during start: %v\n%s", name, p.err, s.tail(name, 40))
		default:
		}
		resp, err := http.Get("http://" + p.ops + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
	s.t.Fatalf("%s not ready within 60s\n%s", name, s.tail(name, 40))
}

// kill9 sends SIGKILL to the service and waits for the process to be gone.
func (s *stack) kill9(name string) {
	s.t.Helper()
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the service gracefully (SIGTERM) and waits; it kills it after 15s.
func (s *stack) stop(name string) {
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		s.t.Errorf("%s did not stop within 15s of SIGTERM; killed", name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// restart starts a stopped or killed service again and waits until it is ready.
func (s *stack) restart(name string) {
	s.t.Helper()
	s.start(name)
	s.waitReady(name)
}

func (s *stack) stopAll() {
	for i := len(services) - 1; i >= 0; i-- {
		s.stop(services[i])
	}
}

// checkAlive fails the test when a service process has exited on its own.
func (s *stack) checkAlive() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, p := range s.procs {
		select {
		case <-p.done:
			s.t.Errorf("%s exited unexpectedly: %v\n%s", name, p.err, s.tail(name, 40))
		default:
		}
	}
}

// terminateDB ends every server connection to the test database except our own, as a failover or
// an operator's pg_terminate_backend would. It returns how many were ended.
func (s *stack) terminateDB(ctx context.Context) int {
	s.t.Helper()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) t`).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *stack) tail(name string, n int) string {
	f, err := os.Open(filepath.Join(s.logDir, name+".log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func (s *stack) dumpLogs() {
	for _, name := range services {
		s.t.Logf("---- last lines of %s ----\n%s", name, s.tail(name, 60))
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
