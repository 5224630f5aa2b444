package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestActionlintExampleWorkflows(t *testing.T) {
	lint := tool(t, "actionlint")
	files := exampleWorkflows(t)
	if out, code := sh(t, moduleRoot, os.Environ(), lint, append([]string{"-no-color"}, files...)...); code != 0 {
		t.Errorf("actionlint on the example workflows: exit %d\n%s", code, out)
	}

	// Again with the action as a local action ("uses: ./"), so that
	// actionlint checks each workflow's inputs against action.yml.
	dir := t.TempDir()
	must(t, dir, gitEnv(filepath.Join(t.TempDir(), "home")), "git", "init", "-q")
	writeFile(t, dir, "action.yml", readFile(t, filepath.Join(moduleRoot, "action.yml")))
	for _, f := range files {
		wf := strings.ReplaceAll(readFile(t, f), "uses: cds-snc/notifyscan@main", "uses: ./")
		if !strings.Contains(wf, "uses: ./\n") {
			t.Fatalf("%s does not use cds-snc/notifyscan@main", f)
		}
		writeFile(t, dir, ".github/workflows/"+filepath.Base(f), wf)
	}
	if out, code := sh(t, dir, os.Environ(), lint, "-no-color"); code != 0 {
		t.Errorf("actionlint with the local action: exit %d\n%s", code, out)
	}
	// A typo in an input name is caught: the check above does check inputs.
	writeFile(t, dir, ".github/workflows/typo.yml", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          fail_on: any\n")
	if out, code := sh(t, dir, os.Environ(), lint, "-no-color", ".github/workflows/typo.yml"); code == 0 || !strings.Contains(out, "fail_on") {
		t.Errorf("actionlint did not check inputs against action.yml: exit %d\n%s", code, out)
	}
}
