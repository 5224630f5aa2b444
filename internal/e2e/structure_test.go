package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// These tests need nothing but Go: they read action.yml, the pre-commit
// hooks, the example workflows and the README sections.

func loadYAML(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseYAML(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func asMap(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not a mapping: %#v", what, v)
	}
	return m
}

func asSeq(t *testing.T, v any, what string) []any {
	t.Helper()
	s, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is not a sequence: %#v", what, v)
	}
	return s
}

func str(v any) string { s, _ := v.(string); return s }

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// The action's documented interface (issue 5).
var (
	actionInputs  = []string{"api-url", "extra-args", "fail-on", "range", "sarif-file", "verify", "version"}
	actionOutputs = []string{"active", "findings", "sarif-file"}
)

var (
	exprRe       = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	inputRefRe   = regexp.MustCompile(`\binputs\.([A-Za-z0-9_-]+)`)
	stepOutputRe = regexp.MustCompile(`^\$\{\{ steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+) \}\}$`)
	pinnedRe     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$`)
)

func TestActionStructure(t *testing.T) {
	action := asMap(t, loadYAML(t, filepath.Join(moduleRoot, "action.yml")), "action.yml")
	for _, k := range []string{"name", "description", "author"} {
		if strings.TrimSpace(str(action[k])) == "" {
			t.Errorf("action.yml has no %s", k)
		}
	}
	runs := asMap(t, action["runs"], "runs")
	if str(runs["using"]) != "composite" {
		t.Fatalf("runs.using = %q, want composite", runs["using"])
	}

	inputs := asMap(t, action["inputs"], "inputs")
	if got := keys(inputs); !slices.Equal(got, actionInputs) {
		t.Errorf("inputs = %v, want %v", got, actionInputs)
	}
	for name, v := range inputs {
		in := asMap(t, v, "input "+name)
		if len(strings.TrimSpace(str(in["description"]))) < 20 {
			t.Errorf("input %s: no real description", name)
		}
		if str(in["required"]) == "true" {
			t.Errorf("input %s is required: every input has a default", name)
		}
		if _, ok := in["default"]; !ok {
			t.Errorf("input %s has no default", name)
		}
	}

	steps := asSeq(t, runs["steps"], "runs.steps")
	ids := map[string]map[string]any{}
	used := map[string]bool{}
	for i, v := range steps {
		st := asMap(t, v, "step")
		name := str(st["name"])
		if name == "" {
			t.Errorf("step %d has no name", i)
		}
		if id := str(st["id"]); id != "" {
			ids[id] = st
		}
		run, isRun := st["run"]
		uses, isUses := st["uses"]
		switch {
		case isRun == isUses:
			t.Errorf("step %q must have exactly one of run and uses", name)
		case isRun:
			if str(st["shell"]) == "" {
				t.Errorf("step %q runs a script without a shell", name)
			}
			if strings.Contains(str(run), "${{") {
				t.Errorf("step %q has ${{ }} in its run body: pass values through env", name)
			}
		case isUses:
			if !pinnedRe.MatchString(str(uses)) {
				t.Errorf("step %q uses %q: want owner/repo@vN or a commit id", name, uses)
			}
		}
		// Inputs reach steps only through env: and with: values.
		for _, field := range []string{"env", "with"} {
			if st[field] == nil {
				continue
			}
			for k, val := range asMap(t, st[field], name+" "+field) {
				for _, m := range inputRefRe.FindAllStringSubmatch(str(val), -1) {
					if _, ok := inputs[m[1]]; !ok {
						t.Errorf("step %q %s %s uses undeclared input %s", name, field, k, m[1])
					}
					used[m[1]] = true
				}
				if field == "env" && strings.HasPrefix(k, "INPUT_") {
					want := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "INPUT_"), "_", "-"))
					if str(val) != "${{ inputs."+want+" }}" {
						t.Errorf("step %q env %s = %q, want ${{ inputs.%s }}", name, k, val, want)
					}
				}
			}
		}
		for _, field := range []string{"name", "if", "working-directory"} {
			if inputRefRe.MatchString(str(st[field])) {
				t.Errorf("step %q uses an input in %s", name, field)
			}
		}
	}
	for name := range inputs {
		if !used[name] {
			t.Errorf("input %s is declared but no step reads it", name)
		}
	}

	outputs := asMap(t, action["outputs"], "outputs")
	if got := keys(outputs); !slices.Equal(got, actionOutputs) {
		t.Errorf("outputs = %v, want %v", got, actionOutputs)
	}
	for name, v := range outputs {
		out := asMap(t, v, "output "+name)
		if strings.TrimSpace(str(out["description"])) == "" {
			t.Errorf("output %s has no description", name)
		}
		m := stepOutputRe.FindStringSubmatch(str(out["value"]))
		if m == nil {
			t.Errorf("output %s = %q, want ${{ steps.ID.outputs.NAME }}", name, out["value"])
			continue
		}
		if ids[m[1]] == nil {
			t.Errorf("output %s reads step %q, which does not exist", name, m[1])
		}
		if m[2] != name {
			t.Errorf("output %s reads output %s of step %s: keep the names equal", name, m[2], m[1])
		}
	}
	// Outputs that steps read from other steps are written by those steps.
	for _, v := range steps {
		st := asMap(t, v, "step")
		if st["env"] == nil {
			continue
		}
		for k, val := range asMap(t, st["env"], "env") {
			if m := regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`).FindStringSubmatch(str(val)); m != nil {
				src := ids[m[1]]
				if src == nil {
					t.Errorf("env %s reads step %q, which does not exist", k, m[1])
				} else if run := str(src["run"]); run != "" && !strings.Contains(run, m[2]+"=") {
					t.Errorf("env %s reads output %s, which step %s does not write", k, m[2], m[1])
				}
			}
		}
	}
	// Every expression reads only contexts a composite action has.
	b, _ := os.ReadFile(filepath.Join(moduleRoot, "action.yml"))
	for _, m := range exprRe.FindAllStringSubmatch(string(b), -1) {
		if !regexp.MustCompile(`^(inputs|steps|github)\.`).MatchString(m[1]) {
			t.Errorf("expression %q reads an unexpected context", m[0])
		}
	}
}

func TestPreCommitHooksStructure(t *testing.T) {
	hooks := asSeq(t, loadYAML(t, filepath.Join(moduleRoot, ".pre-commit-hooks.yaml")), ".pre-commit-hooks.yaml")
	want := map[string]string{"notifyscan": "golang", "notifyscan-system": "system"}
	seen := map[string]bool{}
	for _, v := range hooks {
		h := asMap(t, v, "hook")
		id := str(h["id"])
		seen[id] = true
		lang, ok := want[id]
		if !ok {
			t.Errorf("unexpected hook %q", id)
			continue
		}
		checks := map[string]string{"language": lang, "entry": "notifyscan staged", "pass_filenames": "false", "always_run": "true"}
		for k, v := range checks {
			if str(h[k]) != v {
				t.Errorf("hook %s: %s = %q, want %q", id, k, h[k], v)
			}
		}
		if str(h["name"]) == "" || str(h["description"]) == "" {
			t.Errorf("hook %s needs a name and a description", id)
		}
		// Debian 12 ships pre-commit 3.0.4, which knows neither the stage
		// names of 3.2 and later nor anything a higher minimum would allow.
		if _, ok := h["stages"]; ok {
			t.Errorf("hook %s sets stages: pre-commit 3.0 and current releases disagree on their names", id)
		}
		min := str(h["minimum_pre_commit_version"])
		if !regexp.MustCompile(`^3\.0\.[0-4]$`).MatchString(min) {
			t.Errorf("hook %s: minimum_pre_commit_version = %q, want 3.0.x (at most Debian's 3.0.4)", id, min)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("hook %s is missing", id)
		}
	}
}

// exampleWorkflows are the copy-paste workflows for the README.
func exampleWorkflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(moduleRoot, "internal", "e2e", "workflows", "*.yml"))
	if err != nil || len(files) != 3 {
		t.Fatalf("want 3 example workflows, have %v (%v)", files, err)
	}
	return files
}

func TestExampleWorkflowsStructure(t *testing.T) {
	action := asMap(t, loadYAML(t, filepath.Join(moduleRoot, "action.yml")), "action.yml")
	inputs := asMap(t, action["inputs"], "inputs")
	events := map[string]bool{}
	for _, f := range exampleWorkflows(t) {
		wf := asMap(t, loadYAML(t, f), f)
		for ev := range asMap(t, wf["on"], f+" on") {
			events[ev] = true
		}
		perms := asMap(t, wf["permissions"], f+" permissions")
		if str(perms["contents"]) != "read" {
			t.Errorf("%s: permissions.contents = %q, want read", f, perms["contents"])
		}
		scans := 0
		for jobName, j := range asMap(t, wf["jobs"], f+" jobs") {
			job := asMap(t, j, jobName)
			var scanID string
			for _, s := range asSeq(t, job["steps"], jobName+" steps") {
				st := asMap(t, s, "step")
				uses := str(st["uses"])
				switch {
				case strings.HasPrefix(uses, "cds-snc/notifyscan@"):
					scans++
					scanID = str(st["id"])
					if st["with"] != nil {
						for k := range asMap(t, st["with"], "with") {
							if _, ok := inputs[k]; !ok {
								t.Errorf("%s: input %s is not an input of the action", f, k)
							}
						}
					}
				case strings.HasPrefix(uses, "github/codeql-action/upload-sarif@"):
					if str(perms["security-events"]) != "write" {
						t.Errorf("%s: upload-sarif needs permissions security-events: write", f)
					}
					if !strings.Contains(str(st["if"]), "always()") {
						t.Errorf("%s: upload-sarif must run with if: always() to upload when keys were found", f)
					}
					with := asMap(t, st["with"], "upload-sarif with")
					if scanID == "" || str(with["sarif_file"]) != "${{ steps."+scanID+".outputs.sarif-file }}" {
						t.Errorf("%s: sarif_file = %q, want the notifyscan step's sarif-file output", f, with["sarif_file"])
					}
				}
			}
		}
		if scans != 1 {
			t.Errorf("%s: %d notifyscan steps, want 1", f, scans)
		}
	}
	for _, ev := range []string{"pull_request", "push", "schedule", "workflow_dispatch"} {
		if !events[ev] {
			t.Errorf("no example workflow runs on %s", ev)
		}
	}
}

func TestSnippetsMatchFiles(t *testing.T) {
	doc := readFile(t, filepath.Join(moduleRoot, "README.md"))
	for _, f := range exampleWorkflows(t) {
		body := readFile(t, f)
		if !strings.Contains(doc, "```yaml\n"+body+"```\n") {
			t.Errorf("README.md does not show %s as it is", filepath.Base(f))
		}
	}
	for _, name := range actionInputs {
		if !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("README.md does not document input %s", name)
		}
	}
	for _, name := range actionOutputs {
		if !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("README.md does not document output %s", name)
		}
	}
}
