package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// repoRoot is the repository root: the directory holding go.work above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.work")); err != nil {
		t.Fatalf("repository root not found at %s: %v", dir, err)
	}
	return dir
}

func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}

// natsServerVersion is the nats-server release the workspace selects, the one every test of the
// project runs against; the deployed NATS image uses the same release.
func natsServerVersion(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m nats-server: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
}

func TestEveryServiceVariableIsFoundBothWays(t *testing.T) {
	for _, s := range Services() {
		if err := s.CheckNames(); err != nil {
			t.Error(err)
		}
		if len(s.Vars) == 0 {
			t.Errorf("%s reads no variables", s.Name)
		}
	}
}
