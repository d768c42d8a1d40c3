// Package config loads a service's typed configuration from environment variables and an optional
// .env file, and prints it safely. The service's main reads the process environment and hands it
// in; nothing here calls os.Getenv, so tests pass any environment they like.
//
// Precedence: a variable set in the process environment wins over the same name in .env; an unset
// variable takes its `envDefault`. A value that does not parse is a startup error that names the
// variable, e.g. `config: NATS_URL: ...`.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// Environ merges the process environment (as from os.Environ) over the variables of dotenvPath.
// A missing .env file is not an error; an unreadable or malformed one is.
func Environ(environ []string, dotenvPath string) (map[string]string, error) {
	out := map[string]string{}
	if dotenvPath != "" {
		vals, err := godotenv.Read(dotenvPath)
		switch {
		case err == nil:
			for k, v := range vals {
				out[k] = v
			}
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("config: read %s: %w", dotenvPath, err)
		}
	}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			out[k] = v
		}
	}
	return out, nil
}

// Parse fills dst, a pointer to a struct with `env` tags, from vars. When dst embeds Common, the
// shared settings are checked too. Errors name the variable.
func Parse(dst any, vars map[string]string) error {
	err := env.ParseWithOptions(dst, env.Options{Environment: vars})
	if err == nil {
		if c, ok := dst.(interface{ Shared() Common }); ok {
			return c.Shared().check()
		}
		return nil
	}
	names := envNames(reflect.TypeOf(dst).Elem(), "")
	var agg env.AggregateError
	if errors.As(err, &agg) {
		var msgs []string
		for _, e := range agg.Errors {
			msgs = append(msgs, describe(e, names))
		}
		return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
	}
	return fmt.Errorf("config: %s", describe(err, names))
}

func describe(err error, names map[string]string) string {
	var pe env.ParseError
	if errors.As(err, &pe) {
		if name, ok := names[pe.Name]; ok {
			return fmt.Sprintf("%s: invalid value: %v", name, pe.Err)
		}
	}
	var ns env.VarIsNotSetError
	if errors.As(err, &ns) {
		return fmt.Sprintf("%s: required but not set", ns.Key)
	}
	var ev env.EmptyVarError
	if errors.As(err, &ev) {
		return fmt.Sprintf("%s: must not be empty", ev.Key)
	}
	return err.Error()
}

// envNames maps struct field names to their variable names (nested structs included).
func envNames(t reflect.Type, prefix string) map[string]string {
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			for k, v := range envNames(ft, prefix+f.Tag.Get("envPrefix")) {
				out[k] = v
			}
			continue
		}
		if tag != "" && tag != "-" {
			out[f.Name] = prefix + tag
		}
	}
	return out
}

// Names lists every variable a config struct reads, with the Go field it fills. Deployment tests
// use it to check that compose files and manifests set only variables a service reads.
func Names(cfg any) []string {
	t := reflect.TypeOf(cfg)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for _, v := range envNames(t, "") {
		out = append(out, v)
	}
	return out
}

// Secret is a configuration value that must never be printed: its String and MarshalJSON return
// a mask. Use Reveal where the value is really needed.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String masks the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "****"
}

// MarshalJSON masks the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue masks the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
