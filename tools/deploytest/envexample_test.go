package deploytest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

var update = flag.Bool("update", false, "rewrite .env.example from the services' Config structs")

// envExampleValues returns the variables .env.example sets (uncommented lines).
func envExampleValues(t *testing.T) map[string]string {
	t.Helper()
	vals, err := godotenv.Parse(bytes.NewReader(readFile(t, ".env.example")))
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	return vals
}

var envLine = regexp.MustCompile(`^#? ?([A-Z][A-Z0-9_]*)=(.*)$`)

// envSkeleton keeps the section headers and variable lines of an env file.
func envSkeleton(b []byte) string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "# ---- ") || envLine.MatchString(line) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestEnvExampleListsEveryVariable: .env.example is exactly what RenderEnvExample makes from the
// Config structs and docker-compose.yml, so it names every variable with its current default.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	root := repoRoot(t)
	want := RenderEnvExample(Services(), readFile(t, "docker-compose.yml"), FieldDocs(root, Services()))
	path := filepath.Join(root, ".env.example")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readFile(t, ".env.example")
	// The variables, their defaults, order and sections must match exactly; a reworded doc
	// comment only asks for a regeneration, so a comment edit elsewhere does not fail make test.
	if g, w := envSkeleton(got), envSkeleton(want); g != w {
		t.Errorf(".env.example is out of date with the Config structs (variables or defaults): %s; run:\n  cd tools && go test ./deploytest -run TestEnvExample -update", firstDiff(g, w))
	} else if !bytes.Equal(got, want) {
		t.Logf(".env.example's comments differ from the Config structs' docs; regenerate with -update")
	}

	// Independently of the renderer: every variable of every service appears once, and
	// nothing else but docker compose's own variables.
	listed := map[string]int{}
	for _, line := range strings.Split(string(got), "\n") {
		if m := envLine.FindStringSubmatch(line); m != nil {
			listed[m[1]]++
		}
	}
	composeVars := ComposeVars(readFile(t, "docker-compose.yml"))
	for _, s := range Services() {
		for _, v := range s.Vars {
			if listed[v.Name] != 1 {
				t.Errorf("%s (%s) is listed %d times", v.Name, s.Name, listed[v.Name])
			}
		}
	}
	for name := range listed {
		read := false
		for _, s := range Services() {
			read = read || s.Reads(name)
		}
		if _, ok := composeVars[name]; !read && !ok {
			t.Errorf(".env.example lists %s, which nothing reads", name)
		}
	}
	for name := range composeVars {
		if listed[name] == 0 {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not list", name)
		}
	}

	// The file as an operator would use it: uncommenting every line gives each service a
	// configuration its LoadConfig accepts (the listed defaults are valid).
	all := map[string]string{}
	for _, line := range strings.Split(string(got), "\n") {
		if m := envLine.FindStringSubmatch(line); m != nil {
			all[m[1]] = m[2]
		}
	}
	for _, s := range Services() {
		vars := map[string]string{}
		for _, v := range s.Vars {
			if val := all[v.Name]; val != "" {
				vars[v.Name] = val
			} else if v.Required {
				t.Logf("%s: required %s has no example value", s.Name, v.Name)
			}
		}
		if _, err := s.Load(vars); err != nil && !hasRequired(s) {
			t.Errorf("%s: the defaults in .env.example do not load: %v", s.Name, err)
		}
	}
}

func hasRequired(s Service) bool {
	for _, v := range s.Vars {
		if v.Required {
			return true
		}
	}
	return false
}

func TestRenderEnvExampleMarksRequiredSecretAndShared(t *testing.T) {
	svcs := []Service{
		{Name: "a", Vars: []Var{{Name: "LOG_LEVEL", Default: "info"}, {Name: "KEY", Secret: true}, {Name: "RPC", Default: "https://x"}}},
		{Name: "b", Vars: []Var{{Name: "LOG_LEVEL", Default: "info"}, {Name: "MUST", Required: true}, {Name: "RPC", Default: "https://y"}}},
		{Name: "c", Vars: []Var{{Name: "LOG_LEVEL", Default: "info"}}},
	}
	out := string(RenderEnvExample(svcs, []byte("image: x:${VERSION:-dev}\nenv: ${LOG_LEVEL:-debug} ${PW:?set it}"), map[string]string{"RPC": "Where RPC goes."}))
	for _, want := range []string{
		"# ---- docker compose only", "# PW=\n", "# VERSION=dev\n",
		"# ---- every service\n# LOG_LEVEL=info\n",
		"# ---- a\n# (secret)\n# KEY=\n# Where RPC goes. (also read by b; b's default is \"https://y\")\n# RPC=https://x\n",
		"# ---- b\n# (required)\nMUST=\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "# ---- c") {
		t.Errorf("service c reads only shared variables and needs no section:\n%s", out)
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("has %q where the code gives %q", gl, wl)
		}
	}
	return "no difference"
}
