package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests run 'notifyscan action' as action.yml's scan step does, with
// the variables the runner sets, against real repositories: every event the
// action plans for, without act.

// history is a remote with three branches, each adding its own key:
//
//	main:  A - B(main key)
//	other: A - O(other key)
//	topic: B - C(topic key) - M(merge other) - D
type history struct {
	base, origin string
	env          []string
	sha          map[string]string // A, B, O, C, D
	keys         map[string]string // branch -> key
	secrets      []string
}

func newHistory(t *testing.T) *history {
	t.Helper()
	tool(t, "git")
	h := &history{base: t.TempDir(), sha: map[string]string{}, keys: map[string]string{}}
	h.origin = filepath.Join(h.base, "origin.git")
	h.env = gitEnv(filepath.Join(h.base, "home"))
	w := filepath.Join(h.base, "author")
	git := func(args ...string) string { return must(t, w, h.env, "git", args...) }
	commit := func(name, file, content string) {
		writeFile(t, w, file, content)
		git("add", file)
		git("commit", "-q", "-m", name)
		h.sha[name] = git("rev-parse", "HEAD")
	}
	for _, b := range []string{"main", "other", "topic"} {
		k, s := testKey(b)
		h.keys[b], h.secrets = k, append(h.secrets, s)
	}
	must(t, h.base, h.env, "git", "init", "-q", "--bare", h.origin)
	must(t, h.base, h.env, "git", "init", "-q", w)
	commit("A", "README.md", "# service\n")
	commit("B", "config/main.env", "NOTIFY_API_KEY="+h.keys["main"]+"\n")
	git("checkout", "-q", "-b", "other", h.sha["A"])
	commit("O", "other/notify.env", "NOTIFY_API_KEY="+h.keys["other"]+"\n")
	git("checkout", "-q", "-b", "topic", h.sha["B"])
	commit("C", "topic/settings.py", "NOTIFY_API_KEY = '"+h.keys["topic"]+"'\n")
	git("merge", "-q", "--no-edit", "other")
	commit("D", "topic/notes.md", "done\n")
	git("push", "-q", h.origin, "main", "other", "topic")
	return h
}

// checkout clones one branch at depth 1, as actions/checkout does.
func (h *history) checkout(t *testing.T, branch string) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	must(t, h.base, h.env, "git", "clone", "-q", "--depth", "1", "--branch", branch, "file://"+h.origin, ws)
	return ws
}

type actionRun struct {
	stdout, stderr string
	code           int
	outputs        map[string]string
	summary        string
	sarif          string
}

// runActionCommand runs the scan step of action.yml in ws for an event.
func runActionCommand(t *testing.T, env []string, ws, event string, payload any, inputs ...string) actionRun {
	t.Helper()
	bin := notifyscan(t)
	dir := t.TempDir()
	b, _ := json.Marshal(payload)
	writeFile(t, dir, "event.json", string(b))
	env = append(append([]string{}, env...),
		"GITHUB_EVENT_NAME="+event,
		"GITHUB_EVENT_PATH="+filepath.Join(dir, "event.json"),
		"GITHUB_OUTPUT="+filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary.md"),
		"RUNNER_TEMP="+dir,
		"INPUT_VERIFY=false")
	env = append(env, inputs...)
	var stdout, stderr strings.Builder
	cmdOut, code := sh(t, ws, env, "sh", "-c", `"$0" action 2>"$1"`, bin, filepath.Join(dir, "stderr"))
	stdout.WriteString(cmdOut)
	stderr.WriteString(readFile(t, filepath.Join(dir, "stderr")))
	r := actionRun{stdout: stdout.String(), stderr: stderr.String(), code: code,
		summary: readFile(t, filepath.Join(dir, "summary.md")), outputs: map[string]string{}}
	// The runner's reading of the output file: name<<DELIMITER, lines, DELIMITER.
	ls := strings.Split(readFile(t, filepath.Join(dir, "output")), "\n")
	for i := 0; i < len(ls); i++ {
		name, d, ok := strings.Cut(ls[i], "<<")
		if !ok {
			continue
		}
		end := slices.Index(ls[i+1:], d)
		if end < 0 {
			t.Fatalf("output %s is not terminated", name)
		}
		r.outputs[name] = strings.Join(ls[i+1:i+1+end], "\n")
		i += end + 1
	}
	if p := r.outputs["sarif-file"]; p != "" {
		r.sarif = readFile(t, p)
	}
	return r
}

// check verifies what every run must show: the outputs action.yml declares,
// no secret anywhere, and findings annotated.
func (r actionRun) check(t *testing.T, wantCode int, wantFindings string, secrets []string) {
	t.Helper()
	if r.code != wantCode {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, wantCode, r.stdout, r.stderr)
	}
	var got []string
	for k := range r.outputs {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, actionOutputs) {
		t.Errorf("outputs %v, want action.yml's %v", got, actionOutputs)
	}
	if r.outputs["findings"] != wantFindings {
		t.Errorf("findings = %q, want %s\nstdout:\n%s\nstderr:\n%s", r.outputs["findings"], wantFindings, r.stdout, r.stderr)
	}
	if !strings.Contains(r.sarif, `"version": "2.1.0"`) {
		t.Errorf("no SARIF 2.1.0 report at %q", r.outputs["sarif-file"])
	}
	for what, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "summary": r.summary, "SARIF": r.sarif} {
		noSecrets(t, what, s, secrets...)
	}
	if n := strings.Count(r.stdout, "::error "); wantFindings != "0" && n == 0 {
		t.Errorf("no annotations:\n%s", r.stdout)
	}
}

func TestActionCommandPushEvents(t *testing.T) {
	h := newHistory(t)
	zero := strings.Repeat("0", 40)

	t.Run("new branch: only its own commits", func(t *testing.T) {
		ws := h.checkout(t, "topic")
		r := runActionCommand(t, h.env, ws, "push", map[string]any{"ref": "refs/heads/topic", "before": zero, "after": h.sha["D"]})
		r.check(t, 1, "1", h.secrets)
		if !strings.Contains(r.stdout, "file=topic/settings.py,line=1") || strings.Contains(r.stdout, "main.env") || strings.Contains(r.stdout, "other/") {
			t.Errorf("want the topic key only:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "3 commits on no other branch") {
			t.Errorf("stderr does not say what was scanned:\n%s", r.stderr)
		}
	})
	t.Run("before..after", func(t *testing.T) {
		ws := h.checkout(t, "main")
		r := runActionCommand(t, h.env, ws, "push", map[string]any{"ref": "refs/heads/main", "before": h.sha["A"], "after": h.sha["B"]})
		r.check(t, 1, "1", h.secrets)
		if !strings.Contains(r.stdout, "file=config/main.env,line=1") {
			t.Errorf("want the main key:\n%s", r.stdout)
		}
		// Markdown job summary: the table GitHub shows.
		for _, want := range []string{"| Key | Rule | Status | Commit | Author | Date |", h.keys["main"][:len(h.keys["main"])-32],
			"notify-api-key", h.sha["B"][:7], "Ada Lovelace", "2025-03-04", "config/main.env", "push to main: 1 commit"} {
			if !strings.Contains(r.summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.summary)
			}
		}
	})
	t.Run("clean push", func(t *testing.T) {
		ws := h.checkout(t, "topic")
		r := runActionCommand(t, h.env, ws, "push", map[string]any{"ref": "refs/heads/topic", "before": h.sha["C"], "after": h.sha["D"]},
			"INPUT_FAIL_ON=any")
		// C..D holds the merge of other, which brings other's key.
		r.check(t, 1, "1", h.secrets)
		r = runActionCommand(t, h.env, ws, "push", map[string]any{"ref": "refs/heads/topic", "before": h.sha["D"], "after": h.sha["D"]})
		r.check(t, 0, "0", h.secrets)
	})
	t.Run("deleted branch", func(t *testing.T) {
		ws := h.checkout(t, "main")
		r := runActionCommand(t, h.env, ws, "push", map[string]any{"ref": "refs/heads/gone", "before": h.sha["B"], "after": zero})
		r.check(t, 0, "0", h.secrets)
		if !strings.Contains(r.stderr, "nothing to scan") || !strings.Contains(r.summary, "nothing to scan") {
			t.Errorf("the run does not say it had nothing to scan:\n%s\n%s", r.stderr, r.summary)
		}
	})
}

func TestActionCommandFullHistoryAndSARIF(t *testing.T) {
	h := newHistory(t)
	ws := h.checkout(t, "main")
	sarif := filepath.Join(t.TempDir(), "reports", "scan.sarif")
	r := runActionCommand(t, h.env, ws, "schedule", map[string]any{"schedule": "17 6 * * *"}, "INPUT_SARIF_FILE="+sarif)
	r.check(t, 1, "3", h.secrets)
	if r.outputs["sarif-file"] != sarif {
		t.Errorf("sarif-file = %q, want %s", r.outputs["sarif-file"], sarif)
	}
	for _, f := range []string{"config/main.env", "other/notify.env", "topic/settings.py"} {
		if !strings.Contains(r.stdout, "file="+f+",") {
			t.Errorf("no annotation on %s (every branch's history):\n%s", f, r.stdout)
		}
	}
	validateSARIF(t, sarif)

	// Bad inputs fail the step before anything else.
	bad := runActionCommand(t, h.env, ws, "schedule", map[string]any{}, "INPUT_FAIL_ON=active")
	if bad.code != 2 || !strings.Contains(bad.stderr, "needs --verify") {
		t.Errorf("fail-on active without verify: exit %d\n%s", bad.code, bad.stderr)
	}
	bad = runActionCommand(t, h.env, ws, "schedule", map[string]any{}, "INPUT_EXTRA_ARGS=--format text")
	if bad.code != 2 {
		t.Errorf("extra-args --format: exit %d\n%s", bad.code, bad.stderr)
	}
}

// validateSARIF runs Microsoft's SARIF validator with GitHub's ingestion
// rules. It exits 0 whatever it finds, so its own SARIF output is read.
func validateSARIF(t *testing.T, path string) {
	t.Helper()
	mt := tool(t, "sarif-multitool")
	out := filepath.Join(t.TempDir(), "validation.sarif")
	log, code := sh(t, filepath.Dir(path), os.Environ(), mt, "validate", path, "--rule-kind", "Gh;Sarif", "--output", out, "--log", "ForceOverwrite")
	if code != 0 {
		t.Fatalf("sarif-multitool: exit %d\n%s", code, log)
	}
	var v struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					ID        string   `json:"id"`
					Arguments []string `json:"arguments"`
				} `json:"message"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the validator wrote no report: %v\n%s", err, log)
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Runs) != 1 || len(v.Runs[0].Invocations) == 0 {
		t.Fatalf("cannot read the validator's report (%v):\n%s", err, b)
	}
	if !v.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Errorf("the validator did not run successfully:\n%s", log)
	}
	for _, res := range v.Runs[0].Results {
		// "level" defaults to "warning" in SARIF; errors are what GitHub rejects.
		if res.Level == "error" {
			t.Errorf("SARIF %s: %s %v", res.RuleID, res.Message.ID, res.Message.Arguments)
		} else {
			t.Logf("SARIF %s (%s): %s %v", res.RuleID, cmpOr(res.Level, "warning"), res.Message.ID, res.Message.Arguments)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestActionCommandPullRequestThatMergesItsBase(t *testing.T) {
	// main gets a key after the pull request's branch forked (main's own
	// checks report it there); the branch then merges main ("Update branch")
	// and adds a clean commit. The pull request adds no key: it passes.
	h := newHistory(t)
	w := filepath.Join(h.base, "author")
	git := func(args ...string) string { return must(t, w, h.env, "git", args...) }
	git("checkout", "-q", "-b", "feature", h.sha["A"])
	writeFile(t, w, "app/main.py", "print('feature')\n")
	git("add", "-A")
	git("commit", "-q", "-m", "feature work")
	git("merge", "-q", "--no-edit", "main")
	writeFile(t, w, "app/main.py", "print('feature, updated')\n")
	git("commit", "-q", "-am", "more feature work")
	git("push", "-q", h.origin, "feature")
	head := git("rev-parse", "HEAD")

	ws := h.checkout(t, "feature")
	r := runActionCommand(t, h.env, ws, "pull_request", map[string]any{"number": 9, "pull_request": map[string]any{
		"number": 9, "commits": 3, "base": map[string]any{"sha": h.sha["B"], "ref": "main"}, "head": map[string]any{"sha": head, "ref": "feature"}}})
	r.check(t, 0, "0", h.secrets)
	if !strings.Contains(r.stderr, "pull request #9: 3 commits") {
		t.Errorf("stderr does not say what was scanned:\n%s", r.stderr)
	}
}
