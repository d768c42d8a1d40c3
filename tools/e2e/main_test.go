package e2e

import (
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
	// The same flags as GO_BUILD_FLAGS in the Makefile.
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e -X main.commit=test", "-o", dir + string(os.PathSeparator)}
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
