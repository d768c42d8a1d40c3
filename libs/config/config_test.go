package config_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/solcrowd/backend/libs/config"
)

type sample struct {
	config.Common
	DatabaseURL string        `env:"DATABASE_URL" envDefault:"postgres://postgres@localhost/x"`
	Port        int           `env:"PORT" envDefault:"8000"`
	Interval    time.Duration `env:"INTERVAL" envDefault:"5s"`
	APIKey      config.Secret `env:"API_KEY"`
	Required    string        `env:"MUST_HAVE,required"`
	Version     string        `env:"-"`
}

func writeDotenv(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessEnvironmentWinsOverDotenv(t *testing.T) {
	p := writeDotenv(t, "PORT=9000\nAPI_KEY=from-dotenv\nMUST_HAVE=x\nINTERVAL=1m\n")
	vars, err := config.Environ([]string{"PORT=9100", "NATS_URL=nats://n:4222"}, p)
	if err != nil {
		t.Fatal(err)
	}
	var c sample
	if err := config.Parse(&c, vars); err != nil {
		t.Fatal(err)
	}
	if c.Port != 9100 {
		t.Errorf("PORT = %d, want process value 9100", c.Port)
	}
	if c.APIKey.Reveal() != "from-dotenv" || c.Interval != time.Minute {
		t.Errorf(".env values not used: %+v", c)
	}
	if c.NATSURL != "nats://n:4222" || c.LogLevel != "info" || c.ShutdownTimeout != 20*time.Second {
		t.Errorf("common defaults/env wrong: %+v", c.Common)
	}
}

func TestMissingDotenvIsFine(t *testing.T) {
	vars, err := config.Environ([]string{"MUST_HAVE=1"}, filepath.Join(t.TempDir(), "absent.env"))
	if err != nil {
		t.Fatal(err)
	}
	var c sample
	if err := config.Parse(&c, vars); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	cases := map[string][]string{
		"PORT":      {"MUST_HAVE=1", "PORT=eighty"},
		"INTERVAL":  {"MUST_HAVE=1", "INTERVAL=soon"},
		"MUST_HAVE": {},
	}
	for name, env := range cases {
		vars, _ := config.Environ(env, "")
		var c sample
		err := config.Parse(&c, vars)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v does not name the variable", name, err)
		}
	}
}

func TestSecretsAreMaskedWhenLogged(t *testing.T) {
	vars, _ := config.Environ([]string{"MUST_HAVE=1", "API_KEY=sk-live-123", "DATABASE_URL=postgres://u:pa55@db:5432/x"}, "")
	var c sample
	if err := config.Parse(&c, vars); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", config.Attrs(c)...)
	out := b.String() + fmt.Sprint(c.APIKey) + fmt.Sprintf("%v", c.APIKey)
	for _, leak := range []string{"sk-live-123", "pa55"} {
		if strings.Contains(out, leak) {
			t.Errorf("secret %q leaked: %s", leak, out)
		}
	}
	if !strings.Contains(out, "API_KEY=****") || !strings.Contains(out, "DATABASE_URL=postgres://u:xxxxx@db:5432/x") {
		t.Errorf("unexpected masked form: %s", out)
	}
}

func TestNormalizeDatabaseURL(t *testing.T) {
	good := map[string]string{
		"postgresql+asyncpg://user:pw@host:5432/db": "postgres://user:pw@host:5432/db",
		"postgresql://host/db?sslmode=disable":      "postgres://host/db?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/x":      "postgres://postgres@127.0.0.1:5432/x",
	}
	for in, want := range good {
		got, err := config.NormalizeDatabaseURL(in)
		if err != nil || got != want {
			t.Errorf("%s → %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "mysql://h/db", "postgres:///nohost", "::::"} {
		if _, err := config.NormalizeDatabaseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDeriveWSURL(t *testing.T) {
	cases := map[string]string{
		"http://127.0.0.1:8899":               "ws://127.0.0.1:8900",
		"https://api.mainnet-beta.solana.com": "wss://api.mainnet-beta.solana.com",
		"https://rpc.example.com:8443/key":    "wss://rpc.example.com:8443/key",
		"http://localhost:18899":              "ws://localhost:18899",
	}
	for in, want := range cases {
		got, err := config.DeriveWSURL(in)
		if err != nil || got != want {
			t.Errorf("%s → %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "not a url"} {
		if _, err := config.DeriveWSURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNamesListsEveryVariable(t *testing.T) {
	got := strings.Join(config.Names(sample{}), ",")
	if strings.Contains(","+got+",", ",-,") {
		t.Errorf("Names lists an env:\"-\" field: %s", got)
	}
	for _, want := range []string{"NATS_URL", "LOG_LEVEL", "DATABASE_URL", "PORT", "API_KEY", "MUST_HAVE", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(got, want) {
			t.Errorf("Names misses %s: %s", want, got)
		}
	}
}

func TestSharedSettingsAreChecked(t *testing.T) {
	cases := map[string]string{
		"NATS_URL":         "garbage",
		"SHUTDOWN_TIMEOUT": "-1s",
		"NATS_REPLICAS":    "0",
		"LOG_LEVEL":        "loud",
		"LOG_FORMAT":       "xml",
	}
	for name, val := range cases {
		vars, _ := config.Environ([]string{"MUST_HAVE=1", name + "=" + val}, "")
		var c sample
		if err := config.Parse(&c, vars); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v does not name the variable", name, val, err)
		}
	}
	for _, bad := range []string{"garbage", "nats://127.0.0.1:notaport", "http://h:4222", "nats://:4222", "nats://h:99999", ""} {
		if err := config.CheckNATSURL(bad); err == nil {
			t.Errorf("NATS URL %q accepted", bad)
		}
	}
	for _, good := range []string{"nats://127.0.0.1:4222", "nats://a:1,nats://b:2", "tls://nats.example.com", "nats://user:pw@h:4222"} {
		if err := config.CheckNATSURL(good); err != nil {
			t.Errorf("NATS URL %q rejected: %v", good, err)
		}
	}
}

func TestCheckListenAddr(t *testing.T) {
	for _, good := range []string{":8000", "127.0.0.1:0", "[::1]:9000", "0.0.0.0:65535"} {
		if err := config.CheckListenAddr(good); err != nil {
			t.Errorf("%q rejected: %v", good, err)
		}
	}
	for _, bad := range []string{"nope", ":99999", "8000", ":-1", "a b:80", ""} {
		if err := config.CheckListenAddr(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
