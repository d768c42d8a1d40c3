package deploytest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
)

// loadCompose loads docker-compose.yml with the compose specification library: schema
// validation, interpolation and normalisation as `docker compose` does them. Interpolation sees
// only the values .env.example sets (a developer's own .env is not read), and the services'
// env_file is not resolved, so `environment` holds exactly what the file pins.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	root := repoRoot(t)
	var environ []string
	for k, v := range envExampleValues(t) {
		environ = append(environ, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(environ), cli.WithoutEnvironmentResolution)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

func TestComposeRunsEveryServiceFromItsDockerfile(t *testing.T) {
	p := loadCompose(t)
	root := repoRoot(t)
	for _, svc := range Services() {
		cs, ok := p.Services[svc.Name]
		if !ok {
			t.Errorf("compose has no service %s", svc.Name)
			continue
		}
		if cs.Build == nil {
			t.Errorf("%s: no build section", svc.Name)
			continue
		}
		if filepath.Clean(cs.Build.Context) != root {
			t.Errorf("%s: build context %s, want the repository root", svc.Name, cs.Build.Context)
		}
		df := cs.Build.Dockerfile
		if !filepath.IsAbs(df) {
			df = filepath.Join(cs.Build.Context, df)
		}
		if df != filepath.Join(root, "services", svc.Name, "Dockerfile") {
			t.Errorf("%s: dockerfile %s, want services/%s/Dockerfile", svc.Name, df, svc.Name)
		}
		if _, err := os.Stat(df); err != nil {
			t.Errorf("%s: %v", svc.Name, err)
		}
		for _, arg := range []string{"VERSION", "COMMIT"} {
			if v := cs.Build.Args[arg]; v == nil || *v == "" {
				t.Errorf("%s: build arg %s is not passed", svc.Name, arg)
			}
		}

		// Environment: only what the service reads; required ones set; LoadConfig accepts it.
		vars := map[string]string{}
		names := svc.Names()
		for k, v := range cs.Environment {
			if !names[k] {
				t.Errorf("%s: compose sets %s, which its config does not read", svc.Name, k)
			}
			if v != nil {
				vars[k] = *v
			}
		}
		for _, v := range svc.Vars {
			if v.Required && vars[v.Name] == "" {
				t.Errorf("%s: required %s is not set", svc.Name, v.Name)
			}
		}
		loaded, err := svc.Load(vars)
		if err != nil {
			t.Fatalf("%s: LoadConfig rejects compose's environment: %v", svc.Name, err)
		}
		if err := loaded.CheckLogger(); err != nil {
			t.Errorf("%s: the logger settings would stop the service: %v", svc.Name, err)
		}
		if !slices.ContainsFunc(cs.EnvFiles, func(e types.EnvFile) bool {
			return filepath.Base(e.Path) == ".env" && !bool(e.Required)
		}) {
			t.Errorf("%s: the operator's .env (optional) is not passed", svc.Name)
		}

		// The health check probes the ops port the service listens on, at a path it answers.
		ops, err := Port(loaded.OpsAddr)
		if err != nil {
			t.Fatal(err)
		}
		hc := cs.HealthCheck
		if hc == nil || len(hc.Test) != 3 || hc.Test[0] != "CMD" || hc.Test[1] != "/usr/local/bin/healthprobe" {
			t.Errorf("%s: health check must be [CMD /usr/local/bin/healthprobe URL], got %v", svc.Name, hc)
		} else if want := "http://127.0.0.1:" + ops + "/readyz"; hc.Test[2] != want || !servedOK(t, "/readyz") {
			t.Errorf("%s: health check probes %s, want %s", svc.Name, hc.Test[2], want)
		}

		// Dependencies: NATS (and Postgres for campaign) must be healthy first.
		needs := map[string]bool{"nats": true}
		if names["DATABASE_URL"] {
			needs["postgres"] = true
		}
		for dep := range needs {
			if d, ok := cs.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: must depend on %s being healthy", svc.Name, dep)
			}
		}
		for dep := range cs.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s: depends on unknown service %s", svc.Name, dep)
			}
		}
		if !cs.ReadOnly || !slices.Contains(cs.CapDrop, "ALL") {
			t.Errorf("%s: container must be read-only with all capabilities dropped", svc.Name)
		}
		if cs.StopGracePeriod == nil || time.Duration(*cs.StopGracePeriod).Seconds() <= loaded.ShutdownTimeout.Seconds() {
			t.Errorf("%s: stop_grace_period must exceed SHUTDOWN_TIMEOUT %s", svc.Name, loaded.ShutdownTimeout)
		}

		// The gateway's API is published on 8000, to the port it listens on.
		if loaded.HTTPAddr != "" {
			api, _ := Port(loaded.HTTPAddr)
			if !slices.ContainsFunc(cs.Ports, func(pc types.ServicePortConfig) bool {
				return pc.Published == "8000" && strconv.FormatUint(uint64(pc.Target), 10) == api
			}) {
				t.Errorf("%s: port 8000 is not published to the API port %s: %+v", svc.Name, api, cs.Ports)
			}
		} else if len(cs.Ports) > 0 {
			t.Errorf("%s: only the gateway is published, got %+v", svc.Name, cs.Ports)
		}
	}
}

// TestComposeDatabasesAreHealthyAndPersistent: Postgres and NATS have health checks, and
// NATS runs JetStream with its store on a named volume; the flags are parsed by nats-server.
func TestComposeDatabasesAreHealthyAndPersistent(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"postgres", "nats"} {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Disable {
			t.Errorf("%s: no health check", name)
		}
		if len(s.Volumes) == 0 || s.Volumes[0].Type != types.VolumeTypeVolume {
			t.Errorf("%s: data must be on a named volume", name)
		}
	}
	nats := p.Services["nats"]
	if want := "nats:" + natsServerVersion(t) + "-alpine"; nats.Image != want {
		t.Errorf("NATS image %q, want %q (the server version the tests run against)", nats.Image, want)
	}
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	opts, err := server.ConfigureOptions(fs, nats.Command, func() {}, func() {}, func() {})
	if err != nil {
		t.Fatalf("nats-server rejects the compose command %v: %v", nats.Command, err)
	}
	if !opts.JetStream || opts.StoreDir == "" {
		t.Fatalf("NATS runs without JetStream or a store dir: %v", nats.Command)
	}
	onVolume := slices.ContainsFunc(nats.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && (opts.StoreDir == v.Target || strings.HasPrefix(opts.StoreDir, v.Target+"/"))
	})
	if !onVolume {
		t.Errorf("the JetStream store %s is not on a named volume", opts.StoreDir)
	}
	if !strings.Contains(strings.Join(nats.HealthCheck.Test, " "), "js-enabled-only=true") {
		t.Errorf("the NATS health check must wait for JetStream: %v", nats.HealthCheck.Test)
	}
	pg := p.Services["postgres"]
	campaignEnv := p.Services["campaign"].Environment["DATABASE_URL"]
	if campaignEnv == nil || pg.Environment["POSTGRES_PASSWORD"] == nil ||
		!strings.Contains(*campaignEnv, ":"+*pg.Environment["POSTGRES_PASSWORD"]+"@postgres:5432/") {
		t.Errorf("campaign's DATABASE_URL does not match the postgres service's password/host")
	}
}
