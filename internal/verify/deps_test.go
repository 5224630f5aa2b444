package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps verify at the bottom of the tree: it may import
// rules, the standard library and golang.org/x/sync only.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case !strings.Contains(strings.SplitN(p, "/", 2)[0], "."): // standard library
		case p == "github.com/cds-snc/notifyscan/internal/verify", p == "github.com/cds-snc/notifyscan/rules":
		case strings.HasPrefix(p, "golang.org/x/sync/"):
		default:
			t.Errorf("verify depends on %s", p)
		}
	}
}
