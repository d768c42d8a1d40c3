package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// services are the four binaries, in the order they are started.
var services = []string{"campaign", "pricer", "indexer", "gateway"}

// binDir holds the binaries built by TestMain.
var binDir string

// TestMain builds the four service binaries once, exactly as `make build` does (CGO off,
// -trimpath, stripped, version-stamped), so every test runs the production binaries.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test skips itself; nothing to build
	}
	dir, err := os.MkdirTemp("", "e2e-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	if err := buildServices(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		return 1
	}
	return m.Run()
}

// repoRoot is the directory holding go.work.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", err
	}
	w := strings.TrimSpace(string(out))
	if w == "" || w == "off" {
		return "", fmt.Errorf("not inside the go.work workspace")
	}
	return filepath.Dir(w), nil
}

func buildServices(dir string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	flags, err := makeBuildFlags(filepath.Join(root, "Makefile"))
	if err != nil {
		return err
	}
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", dir+string(os.PathSeparator))
	for _, s := range services {
		args = append(args, "./services/"+s+"/cmd/"+s)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

// makeBuildFlags reads GO_BUILD_FLAGS from the Makefile, so the tests build exactly as `make build`
// does, with version "e2e" and commit "test" stamped in. Double quotes group words, as in make's shell.
func makeBuildFlags(makefile string) ([]string, error) {
	b, err := os.ReadFile(makefile)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, "GO_BUILD_FLAGS :=")
		if !ok {
			continue
		}
		v = strings.NewReplacer("$(VERSION)", "e2e", "$(COMMIT)", "test").Replace(v)
		var out []string
		var cur strings.Builder
		quoted, inWord := false, false
		for _, r := range v {
			switch {
			case r == '"':
				quoted, inWord = !quoted, true
			case (r == ' ' || r == '\t') && !quoted:
				if inWord {
					out = append(out, cur.String())
					cur.Reset()
					inWord = false
				}
			default:
				cur.WriteRune(r)
				inWord = true
			}
		}
		if inWord {
			out = append(out, cur.String())
		}
		if quoted || strings.Contains(strings.Join(out, " "), "$(") {
			return nil, fmt.Errorf("%s: cannot read GO_BUILD_FLAGS %q", makefile, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: no GO_BUILD_FLAGS", makefile)
}
