package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// prScenario is a pull request in a repository made for a test: a bare
// "origin" with main and a feature branch, and a workspace cloned from it the
// way actions/checkout does for a pull request (the head, depth 1).
type prScenario struct {
	base    string
	origin  string
	ws      string
	env     []string
	baseSHA string
	headSHA string
	event   string // path of the pull_request payload
	secrets []string
}

// newPR makes the scenario; commits are the pull request's commits, each a
// set of files to write (an empty content removes the file).
func newPR(t *testing.T, commits ...map[string]string) *prScenario {
	t.Helper()
	tool(t, "git")
	s := &prScenario{base: t.TempDir()}
	s.origin = filepath.Join(s.base, "origin.git")
	s.env = gitEnv(filepath.Join(s.base, "home"))
	work := filepath.Join(s.base, "author")
	must(t, s.base, s.env, "git", "init", "-q", "--bare", s.origin)
	must(t, s.base, s.env, "git", "init", "-q", work)
	writeFile(t, work, "README.md", "# service\n")
	writeFile(t, work, "app/main.py", "import os\nKEY = os.environ['NOTIFY_API_KEY']\n")
	must(t, work, s.env, "git", "add", "-A")
	must(t, work, s.env, "git", "commit", "-q", "-m", "initial")
	must(t, work, s.env, "git", "checkout", "-q", "-b", "feature")
	for i, files := range commits {
		for name, content := range files {
			if content == "" {
				must(t, work, s.env, "git", "rm", "-q", name)
				continue
			}
			writeFile(t, work, name, content)
			must(t, work, s.env, "git", "add", name)
		}
		must(t, work, s.env, "git", "commit", "-q", "-m", fmt.Sprintf("feature %d", i+1))
	}
	// main moves on after the branch point, as it does while a PR is open.
	must(t, work, s.env, "git", "checkout", "-q", "main")
	writeFile(t, work, "CHANGELOG.md", "- later work on main\n")
	must(t, work, s.env, "git", "add", "-A")
	must(t, work, s.env, "git", "commit", "-q", "-m", "main moves on")
	must(t, work, s.env, "git", "push", "-q", s.origin, "main", "feature")
	s.baseSHA = must(t, work, s.env, "git", "rev-parse", "main")
	s.headSHA = must(t, work, s.env, "git", "rev-parse", "feature")

	s.ws = filepath.Join(s.base, "workspace")
	must(t, s.base, s.env, "git", "clone", "-q", "--depth", "1", "--branch", "feature", "file://"+s.origin, s.ws)
	payload := map[string]any{
		"action": "synchronize",
		"number": 1,
		"pull_request": map[string]any{
			"number":  1,
			"commits": len(commits),
			"base":    map[string]any{"sha": s.baseSHA, "ref": "main"},
			"head":    map[string]any{"sha": s.headSHA, "ref": "feature"},
		},
	}
	b, _ := json.Marshal(payload)
	s.event = filepath.Join(s.base, "event.json")
	writeFile(t, s.base, "event.json", string(b))
	return s
}

// actStubs writes local stand-ins for the remote actions the workflow and
// action.yml use, so act runs offline. The setup-go stub checks that the
// action handed it its own go.mod.
func actStubs(t *testing.T, dir string) map[string]string {
	t.Helper()
	writeFile(t, dir, "setup-go/action.yml", `name: setup-go stub
description: stands in for actions/setup-go; Go is on PATH already
inputs:
  go-version-file:
    description: go.mod
  cache-dependency-path:
    description: go.sum
runs:
  using: composite
  steps:
    - shell: bash
      env:
        GO_MOD: ${{ inputs.go-version-file }}
        GO_SUM: ${{ inputs.cache-dependency-path }}
      run: |
        grep -q '^module github.com/cds-snc/notifyscan$' "$GO_MOD"
        test -f "$GO_SUM"
        go version
`)
	writeFile(t, dir, "codeql-action/upload-sarif/action.yml", `name: upload-sarif stub
description: stands in for github/codeql-action/upload-sarif; checks the file is SARIF 2.1.0
inputs:
  sarif_file:
    description: the report
  category:
    description: unused
runs:
  using: composite
  steps:
    - shell: bash
      env:
        SARIF: ${{ inputs.sarif_file }}
      run: |
        grep -q '"version": *"2.1.0"' "$SARIF"
        echo "upload-sarif stub: $SARIF"
`)
	return map[string]string{
		"actions/setup-go@v5":     filepath.Join(dir, "setup-go"),
		"github/codeql-action@v3": filepath.Join(dir, "codeql-action"),
	}
}

// actWorkflow is the workflow a user would write, with the results of the
// action recorded to a file for the test.
const actWorkflow = `name: notifyscan e2e
on: pull_request
permissions:
  contents: read
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: notifyscan
        uses: cds-snc/notifyscan@main
        with:
          verify: "false"
          sarif-file: %s
      - if: always()
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: ${{ steps.notifyscan.outputs.sarif-file }}
      - if: always()
        shell: bash
        env:
          FINDINGS: ${{ steps.notifyscan.outputs.findings }}
          ACTIVE: ${{ steps.notifyscan.outputs.active }}
          SARIF: ${{ steps.notifyscan.outputs.sarif-file }}
          OUT: %s
        run: printf 'findings=%%s\nactive=%%s\nsarif-file=%%s\n' "$FINDINGS" "$ACTIVE" "$SARIF" >"$OUT"
`

type actResult struct {
	log     string
	code    int
	outputs map[string]string
	sarif   string
}

// runAct runs the workflow on the scenario's pull_request event under act's
// host mode ("-self-hosted": steps run as shell on this machine), offline,
// with every remote action replaced by a local directory.
func runAct(t *testing.T, s *prScenario) actResult {
	t.Helper()
	act := tool(t, "act")
	src, _ := snapshot(t)
	notifyscan(t) // fills the module cache the action's 'go build' reads
	stubs := actStubs(t, filepath.Join(s.base, "stubs"))
	sarif := filepath.Join(s.base, "out", "notifyscan.sarif") // the action makes the directory
	outFile := filepath.Join(s.base, "outputs.txt")
	writeFile(t, s.base, "wf/scan.yml", fmt.Sprintf(actWorkflow, sarif, outFile))
	args := []string{"pull_request",
		"-W", filepath.Join(s.base, "wf", "scan.yml"),
		"-e", s.event,
		"-P", "ubuntu-latest=-self-hosted",
		"--action-offline-mode",
		"--action-cache-path", filepath.Join(s.base, "act-cache"),
		"--no-cache-server",
		"--local-repository", "cds-snc/notifyscan@main=" + src,
	}
	for k, v := range stubs {
		args = append(args, "--local-repository", k+"="+v)
	}
	env := append(append([]string{}, s.env...),
		"ACT_DISABLE_VERSION_CHECK=1", // no call home
		"GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
		"GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOCACHE="+goEnv(t, "GOCACHE"))
	log, code := sh(t, s.ws, env, act, args...)
	res := actResult{log: log, code: code, outputs: map[string]string{}, sarif: readFile(t, sarif)}
	for _, l := range strings.Split(readFile(t, outFile), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			res.outputs[k] = v
		}
	}
	noSecrets(t, "act's log", log, s.secrets...)
	noSecrets(t, "the SARIF file", res.sarif, s.secrets...)
	if !strings.Contains(log, "pull request #1") {
		t.Errorf("the log does not say what was scanned:\n%s", log)
	}
	if res.outputs["sarif-file"] != sarif || !strings.Contains(res.sarif, `"2.1.0"`) {
		t.Errorf("sarif-file output %q, file %d bytes: want %s written", res.outputs["sarif-file"], len(res.sarif), sarif)
	}
	if !strings.Contains(log, "upload-sarif stub: "+sarif) {
		t.Errorf("upload-sarif did not get the report:\n%s", log)
	}
	return res
}

func TestActionUnderActPullRequest(t *testing.T) {
	tool(t, "act")
	t.Run("adds a key", func(t *testing.T) {
		key, secret := testKey("prod")
		s := newPR(t, map[string]string{"config/prod.env": "LOG=info\nNOTIFY_API_KEY=" + key + "\n"})
		s.secrets = []string{secret}
		r := runAct(t, s)
		if r.code == 0 {
			t.Fatalf("the job passed with a key in the pull request:\n%s", r.log)
		}
		if !strings.Contains(r.log, "::error file=config/prod.env,line=2,") {
			t.Errorf("no error annotation on config/prod.env line 2:\n%s", r.log)
		}
		if r.outputs["findings"] != "1" || r.outputs["active"] != "0" {
			t.Errorf("outputs = %v, want findings=1 active=0", r.outputs)
		}
		summaryShows(t, r.log, key, "config/prod.env:2")
	})
	t.Run("clean", func(t *testing.T) {
		s := newPR(t, map[string]string{"app/util.py": "def f():\n    return 1\n"}, map[string]string{"app/util.py": "def f():\n    return 2\n"})
		r := runAct(t, s)
		if r.code != 0 {
			t.Fatalf("a clean pull request failed: exit %d\n%s", r.code, r.log)
		}
		if r.outputs["findings"] != "0" || !strings.Contains(r.log, "2 commits") {
			t.Errorf("outputs = %v, want findings=0 after scanning 2 commits\n%s", r.outputs, r.log)
		}
	})
	t.Run("key added then removed", func(t *testing.T) {
		key, secret := testKey("staging")
		s := newPR(t,
			map[string]string{"deploy/secrets.env": "NOTIFY_API_KEY=" + key + "\n"},
			map[string]string{"deploy/secrets.env": ""})
		s.secrets = []string{secret}
		r := runAct(t, s)
		if r.code == 0 {
			t.Fatalf("the job passed although a commit of the pull request adds a key:\n%s", r.log)
		}
		if !strings.Contains(r.log, "::error file=deploy/secrets.env,line=1,") {
			t.Errorf("no error annotation on deploy/secrets.env line 1:\n%s", r.log)
		}
		if r.outputs["findings"] != "1" {
			t.Errorf("outputs = %v, want findings=1", r.outputs)
		}
		summaryShows(t, r.log, key, "deploy/secrets.env:1")
	})
}

// summaryShows checks the job summary, which act prints ("Summary - ...").
func summaryShows(t *testing.T, log, key, location string) {
	t.Helper()
	i := strings.Index(log, "Summary - ")
	if i < 0 {
		t.Errorf("no job summary in act's log:\n%s", log)
		return
	}
	for _, want := range []string{"| Key | Rule | Status | Commit | Author | Date |", key[:len(key)-32], "notify-api-key", "Ada Lovelace", location, "pull request #1"} {
		if !strings.Contains(log[i:], want) {
			t.Errorf("the job summary lacks %q:\n%s", want, log[i:])
		}
	}
}
