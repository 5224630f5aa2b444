package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/cds-snc/notifyscan"

// deps lists the module-internal and third-party packages pkg depends on.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", mod+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var ds []string
	for _, d := range strings.Fields(string(out)) {
		if d != mod+"/"+pkg {
			ds = append(ds, d)
		}
	}
	return ds
}

func TestRulesUseOnlyTheStandardLibrary(t *testing.T) {
	if ds := deps(t, "rules"); len(ds) != 0 {
		t.Fatalf("rules imports %v; it must use the standard library only", ds)
	}
}

// scanner, verify and report never import each other; only cmd wires them.
func TestDependenciesPointOneWay(t *testing.T) {
	forbidden := map[string][]string{
		"scanner":         {"internal/verify", "internal/report", "internal/revoke", "cmd/"},
		"internal/verify": {"scanner", "internal/report", "cmd/"},
		"internal/report": {"scanner", "internal/verify", "internal/revoke", "cmd/"},
		"internal/revoke": {"scanner", "internal/report", "cmd/"},
		"internal/ignore": {"scanner", "cmd/"},
		"rules":           {"scanner", "internal/", "cmd/"},
	}
	for pkg, bad := range forbidden {
		for _, d := range deps(t, pkg) {
			for _, b := range bad {
				if strings.HasPrefix(d, mod+"/"+b) {
					t.Errorf("%s imports %s", pkg, d)
				}
			}
		}
	}
}
