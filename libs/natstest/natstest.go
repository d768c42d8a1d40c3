// Package natstest runs a real, embedded nats-server with JetStream for tests and for the
// development stack: a random port, storage in a temporary directory, shut down and removed when
// the test ends. It is the real server, not a mock; only the process boundary is missing.
package natstest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is a running embedded NATS server.
type Server struct {
	*server.Server
	opts *server.Options
}

// Options configures Start. Zero values pick a random port and a fresh temporary directory.
type Options struct {
	Host     string // default 127.0.0.1
	Port     int    // 0 = random free port
	StoreDir string // JetStream storage; "" = a new temporary directory
	Name     string // server name
}

// Start runs a server and waits until it accepts connections. The caller must Shutdown it.
func Start(o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		p, err := freePort(o.Host)
		if err != nil {
			return nil, err
		}
		o.Port = p
	}
	if o.StoreDir == "" {
		dir, err := os.MkdirTemp("", "natstest-*")
		if err != nil {
			return nil, err
		}
		o.StoreDir = dir
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		// Large enough for benchmark bursts; JetStream limits are otherwise defaults.
		MaxPayload: 8 << 20,
	}
	s, err := run(opts)
	if err != nil {
		return nil, err
	}
	return &Server{Server: s, opts: opts}, nil
}

func run(opts *server.Options) (*server.Server, error) {
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server not ready on %s:%d", opts.Host, opts.Port)
	}
	return s, nil
}

// Run starts a server for the test and registers its shutdown and the removal of its storage.
func Run(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	s, err := Start(Options{StoreDir: dir})
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the client URL of the server.
func (s *Server) URL() string {
	return "nats://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
}

// StoreDir is where JetStream keeps its data.
func (s *Server) StoreDir() string { return s.opts.StoreDir }

// Stop shuts the server down and waits for it to finish.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart stops the server and starts a new one on the same port and storage, as a real NATS
// restart would: clients reconnect and JetStream state survives.
func (s *Server) Restart() error {
	s.Stop()
	opts := *s.opts
	ns, err := run(&opts)
	if err != nil {
		return err
	}
	s.Server = ns
	return nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
