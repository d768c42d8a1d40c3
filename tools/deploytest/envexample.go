package deploytest

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// composeVarRef matches an interpolation in docker-compose.yml: ${NAME}, ${NAME:-default},
// ${NAME-default}, ${NAME:?message}.
var composeVarRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// ComposeVars returns the variables docker-compose.yml interpolates, with their defaults.
func ComposeVars(compose []byte) map[string]string {
	out := map[string]string{}
	for _, m := range composeVarRef.FindAllSubmatch(compose, -1) {
		name, def := string(m[1]), ""
		if strings.HasSuffix(string(m[2]), "-") {
			def = string(m[3])
		}
		if old, ok := out[name]; !ok || old == "" {
			out[name] = def
		}
	}
	return out
}

// RenderEnvExample writes .env.example: every variable of every service with its default,
// commented out, grouped by the service that reads it, with its doc (from docs, by name), and the
// variables docker-compose.yml interpolates for itself. Required variables are left uncommented
// and empty.
func RenderEnvExample(svcs []Service, compose []byte, docs map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString(`# Every environment variable of the backend, with its default. Copy this file to .env and
# uncomment what you change: the services read .env from their working directory (make run), and
# docker compose passes .env to every service container (docker-compose.yml then pins NATS_URL,
# DATABASE_URL and the listen addresses for the container network). docs/deploy.md explains more.
#
# Generated from the services' Config structs; do not edit by hand. Regenerate with
#   cd tools && go test ./deploytest -run TestEnvExample -update
`)
	readers := map[string][]Service{}
	var order []string
	for _, s := range svcs {
		for _, v := range s.Vars {
			if readers[v.Name] == nil {
				order = append(order, v.Name)
			}
			readers[v.Name] = append(readers[v.Name], s)
		}
	}
	byName := func(s Service, name string) Var {
		for _, v := range s.Vars {
			if v.Name == name {
				return v
			}
		}
		return Var{}
	}

	// Variables docker-compose.yml reads for itself (not read by any service).
	cv := ComposeVars(compose)
	var composeOnly []string
	for name := range cv {
		if readers[name] == nil {
			composeOnly = append(composeOnly, name)
		}
	}
	sort.Strings(composeOnly)
	if len(composeOnly) > 0 {
		b.WriteString("\n# ---- docker compose only (used in docker-compose.yml, not read by the services)\n")
		for _, name := range composeOnly {
			fmt.Fprintf(&b, "# %s=%s\n", name, cv[name])
		}
	}

	section := func(title string, names []string, owner func(string) []Service) {
		if len(names) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n# ---- %s\n", title)
		for _, name := range names {
			rs := owner(name)
			v := byName(rs[0], name)
			var notes []string
			if v.Required {
				notes = append(notes, "required")
			}
			if v.Secret {
				notes = append(notes, "secret")
			}
			if len(rs) > 1 && len(rs) < len(svcs) {
				var others []string
				for _, r := range rs[1:] {
					others = append(others, r.Name)
				}
				notes = append(notes, "also read by "+strings.Join(others, ", "))
			}
			for _, r := range rs[1:] {
				if d := byName(r, name).Default; d != v.Default {
					notes = append(notes, fmt.Sprintf("%s's default is %q", r.Name, d))
				}
			}
			switch d := docs[name]; {
			case d != "" && len(notes) > 0:
				fmt.Fprintf(&b, "# %s (%s)\n", d, strings.Join(notes, "; "))
			case d != "":
				fmt.Fprintf(&b, "# %s\n", d)
			case len(notes) > 0:
				fmt.Fprintf(&b, "# (%s)\n", strings.Join(notes, "; "))
			}
			if v.Required {
				fmt.Fprintf(&b, "%s=\n", name)
			} else {
				fmt.Fprintf(&b, "# %s=%s\n", name, v.Default)
			}
		}
	}
	var shared []string
	for _, name := range order {
		if len(readers[name]) == len(svcs) {
			shared = append(shared, name)
		}
	}
	sort.Strings(shared)
	section("every service", shared, func(n string) []Service { return readers[n] })
	for _, s := range svcs {
		var names []string
		for _, v := range s.Vars {
			rs := readers[v.Name]
			if len(rs) < len(svcs) && rs[0].Name == s.Name {
				names = append(names, v.Name)
			}
		}
		section(s.Name, names, func(n string) []Service { return readers[n] })
	}
	return b.Bytes()
}
