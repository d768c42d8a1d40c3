// Package deploytest checks the deployment files against the code: the Dockerfiles against the
// Makefile, docker-compose.yml and .env.example against the services' config structs, and the
// Kubernetes overlays against the Kubernetes API types and the services' ports, paths and
// variables. Its tests need no container engine and no cluster; they run in `make test`.
//
// Nothing here lists variables by hand: they come from each service's Config struct, so a
// variable added to a service is checked (and must be documented) at once.
package deploytest

import (
	"fmt"
	"io"
	"net"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/solcrowd/backend/libs/config"
	"github.com/solcrowd/backend/libs/observe"
	"github.com/solcrowd/backend/services/campaign"
	"github.com/solcrowd/backend/services/gateway"
	"github.com/solcrowd/backend/services/indexer"
	"github.com/solcrowd/backend/services/pricer"
)

// Var is one environment variable a service reads.
type Var struct {
	Name     string
	Default  string // the envDefault tag; "" when there is none
	Required bool   // the tag carries ,required (or ,notEmpty)
	Secret   bool   // the field is a config.Secret
}

// Loaded is what the deployment checks need from a service's effective configuration.
type Loaded struct {
	OpsAddr         string
	HTTPAddr        string // gateway only
	ShutdownTimeout time.Duration
	LogFormat       string
	LogLevel        string
}

// Service describes one of the four services for the deployment checks.
type Service struct {
	Name string
	// Vars lists every variable the Config struct reads, in field order.
	Vars []Var
	// Load runs the service's own LoadConfig over vars, exactly as its main does. Its main then
	// builds the logger from LogFormat and LogLevel; CheckLogger does the same.
	Load func(vars map[string]string) (Loaded, error)
	// zero is the zero Config, for config.Names.
	zero any
}

// loaded picks the common fields; the caller adds the service's own.
func loaded(c config.Common, ops string) Loaded {
	return Loaded{OpsAddr: ops, ShutdownTimeout: c.ShutdownTimeout, LogFormat: c.LogFormat, LogLevel: c.LogLevel}
}

// Services returns the four services in a fixed order.
func Services() []Service {
	return []Service{
		newService("campaign", campaign.Config{}, func(v map[string]string) (Loaded, error) {
			c, err := campaign.LoadConfig(v)
			return loaded(c.Common, c.OpsAddr), err
		}),
		newService("indexer", indexer.Config{}, func(v map[string]string) (Loaded, error) {
			c, err := indexer.LoadConfig(v)
			return loaded(c.Common, c.OpsAddr), err
		}),
		newService("pricer", pricer.Config{}, func(v map[string]string) (Loaded, error) {
			c, err := pricer.LoadConfig(v)
			return loaded(c.Common, c.OpsAddr), err
		}),
		newService("gateway", gateway.Config{}, func(v map[string]string) (Loaded, error) {
			c, err := gateway.LoadConfig(v)
			l := loaded(c.Common, c.OpsAddr)
			l.HTTPAddr = c.HTTPAddr
			return l, err
		}),
	}
}

func newService(name string, cfg any, load func(map[string]string) (Loaded, error)) Service {
	t := reflect.TypeOf(cfg)
	vars := structVars(t, "")
	return Service{Name: name, Vars: vars, Load: load, zero: cfg}
}

// Names returns the service's variable names as a set.
func (s Service) Names() map[string]bool {
	out := make(map[string]bool, len(s.Vars))
	for _, v := range s.Vars {
		out[v.Name] = true
	}
	return out
}

// Reads reports whether the service reads the variable name.
func (s Service) Reads(name string) bool { return s.Names()[name] }

// CheckNames compares the variables found here with config.Names, the library's own list, so
// the two readings of the struct tags cannot drift apart.
func (s Service) CheckNames() error {
	var want []string
	for _, n := range config.Names(s.zero) {
		// config.Names reports a field tagged env:"-" (not read) under the name "-".
		if n != "-" {
			want = append(want, n)
		}
	}
	sort.Strings(want)
	var got []string
	for _, v := range s.Vars {
		got = append(got, v.Name)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return fmt.Errorf("%s: struct tags give %v, config.Names gives %v", s.Name, got, want)
	}
	return nil
}

var secretType = reflect.TypeOf(config.Secret(""))

// structVars mirrors config's reading of `env`, `envDefault` and `envPrefix` tags.
func structVars(t reflect.Type, prefix string) []Var {
	var out []Var
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("env")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			out = append(out, structVars(f.Type, prefix+f.Tag.Get("envPrefix"))...)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		v := Var{Name: prefix + name, Default: f.Tag.Get("envDefault"), Secret: f.Type == secretType}
		for _, o := range strings.Split(opts, ",") {
			if o == "required" || o == "notEmpty" {
				v.Required = true
			}
		}
		out = append(out, v)
	}
	return out
}

// Port returns the numeric port of a listen address such as ":9101" or "0.0.0.0:8000".
func Port(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	return port, nil
}

// CheckLogger fails when the service's main would reject LOG_FORMAT or LOG_LEVEL.
func (l Loaded) CheckLogger() error {
	_, err := observe.NewLogger(io.Discard, l.LogFormat, l.LogLevel)
	return err
}
