package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goEnv reads one of the go command's settings.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// preCommitProject is a repository whose .pre-commit-config.yaml points at
// the snapshot of this repository, with pre-commit's hooks installed.
type preCommitProject struct {
	dir string
	env []string
	src string // the hook repository (the snapshot)
	rev string
}

func newPreCommitProject(t *testing.T, hookID string) *preCommitProject {
	t.Helper()
	tool(t, "git")
	pc := tool(t, "pre-commit")
	notifyscan(t) // builds the module once, which also fills the module cache the hook's build uses
	src, rev := snapshot(t)
	base := t.TempDir()
	p := &preCommitProject{dir: filepath.Join(base, "project"), src: src, rev: rev}
	p.env = gitEnv(filepath.Join(base, "home"),
		"PRE_COMMIT_HOME="+filepath.Join(base, "pre-commit-cache"),
		// The hook's 'go install' uses the machine's module and build caches
		// (pre-commit points GOPATH at its environment), filled by the build
		// above, and no network.
		"GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOCACHE="+goEnv(t, "GOCACHE"), "GOTOOLCHAIN=local", "GOPROXY=off",
		"PRE_COMMIT_COLOR=never", "TERM=dumb")
	must(t, base, p.env, "git", "init", "-q", p.dir)
	writeFile(t, p.dir, "README.md", "# project\n")
	writeFile(t, p.dir, ".pre-commit-config.yaml", fmt.Sprintf(
		"repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: %s\n", src, rev, hookID))
	must(t, p.dir, p.env, "git", "add", "-A")
	must(t, p.dir, p.env, "git", "commit", "-q", "-m", "initial")
	must(t, p.dir, p.env, pc, "install")
	return p
}

func (p *preCommitProject) head(t *testing.T) string {
	return must(t, p.dir, p.env, "git", "rev-parse", "HEAD")
}

// commit stages a file and runs a real 'git commit' (so the installed hook
// runs), returning the output and exit code. A failed commit leaves the
// file unstaged and removed, ready for the next case.
func (p *preCommitProject) commit(t *testing.T, file, content string) (string, int) {
	t.Helper()
	writeFile(t, p.dir, file, content)
	must(t, p.dir, p.env, "git", "add", file)
	out, code := sh(t, p.dir, p.env, "git", "commit", "-m", "change "+file)
	if code != 0 {
		must(t, p.dir, p.env, "git", "rm", "-q", "--cached", "--", file)
		os.Remove(filepath.Join(p.dir, file))
	}
	return out, code
}

func TestPreCommitHookBlocksKeys(t *testing.T) {
	p := newPreCommitProject(t, "notifyscan")

	// The first commit builds the hook ('go install' of the snapshot).
	start := time.Now()
	out, code := p.commit(t, "docs/intro.md", "Welcome.\n")
	if code != 0 || !strings.Contains(out, "notifyscan") || !strings.Contains(out, "Passed") {
		t.Fatalf("clean commit (and hook install): exit %d\n%s", code, out)
	}
	t.Logf("first commit, with the hook's install: %v", time.Since(start).Round(time.Millisecond))

	key, secret := testKey("prod")
	before := p.head(t)
	out, code = p.commit(t, "config/prod.env", "LOG_LEVEL=info\nNOTIFY_API_KEY="+key+"\n")
	if code == 0 {
		t.Fatalf("a staged key did not block the commit:\n%s", out)
	}
	if p.head(t) != before {
		t.Fatal("the commit happened")
	}
	for _, want := range []string{"Failed", "config/prod.env:2:", "notify-api-key", key[:len(key)-32], "notifyscan: hint:"} {
		if !strings.Contains(out, want) {
			t.Errorf("blocked commit's output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "the hook's output", out, secret)

	allowed, _ := testKey("example")
	if out, code := p.commit(t, "docs/example.env", "NOTIFY_API_KEY="+allowed+" # notifyscan:allow\n"); code != 0 {
		t.Errorf("an allowed line blocked the commit: exit %d\n%s", code, out)
	}
	if out, code := p.commit(t, "src/app.py", "print('hello')\n"); code != 0 {
		t.Errorf("a clean change was blocked: exit %d\n%s", code, out)
	}

	// A key in a file pre-commit's own filters would skip still blocks:
	// the hook reads the index itself.
	key2, _ := testKey("bin")
	if out, code := p.commit(t, "assets/blob.bin", "\x00\x01NOTIFY="+key2+"\x00"); code == 0 {
		t.Errorf("a key in a binary file did not block the commit:\n%s", out)
	}

	// 'git commit -a' and 'git commit PATH' commit through a temporary index
	// (GIT_INDEX_FILE): the hook must read that one.
	key3, _ := testKey("tracked")
	writeFile(t, p.dir, "src/app.py", "print('hello')\nKEY = '"+key3+"'\n")
	for _, args := range [][]string{{"commit", "-a", "-m", "all"}, {"commit", "-m", "path", "--", "src/app.py"}} {
		if out, code := sh(t, p.dir, p.env, "git", args...); code == 0 || !strings.Contains(out, "src/app.py:2:") {
			t.Errorf("git %s with a key in a tracked file: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	must(t, p.dir, p.env, "git", "checkout", "--", "src/app.py")

	// The hook's wall time on a clean commit, installed: 'git commit' with
	// the hook, against the same commit without it.
	n := 0
	edit := func() {
		n++
		writeFile(t, p.dir, "src/app.py", fmt.Sprintf("print(%d)\n", n))
		must(t, p.dir, p.env, "git", "add", "src/app.py")
	}
	with := median(7, func() {
		edit()
		must(t, p.dir, p.env, "git", "commit", "-q", "-m", "timed")
	})
	without := median(7, func() {
		edit()
		must(t, p.dir, p.env, "git", "commit", "-q", "--no-verify", "-m", "timed")
	})
	// median times the edit too; it is the same in both.
	hook := with - without
	t.Logf("clean commit: %v with the hook, %v without: the hook (pre-commit and notifyscan staged) takes %v",
		with.Round(time.Millisecond), without.Round(time.Millisecond), hook.Round(time.Millisecond))
	if hook > 2*time.Second {
		t.Errorf("the hook takes %v on a clean commit; the target is under 0.5 s", hook)
	}
}

func TestPreCommitTryRepo(t *testing.T) {
	p := newPreCommitProject(t, "notifyscan")
	pc := tool(t, "pre-commit")
	try := func(hook string, env []string) (string, int) {
		return sh(t, p.dir, env, pc, "try-repo", p.src, hook, "--ref", p.rev)
	}
	stage := func(file, content string) {
		writeFile(t, p.dir, file, content)
		must(t, p.dir, p.env, "git", "add", file)
	}
	unstage := func(file string) {
		must(t, p.dir, p.env, "git", "rm", "-q", "--cached", "-f", "--", file)
		os.Remove(filepath.Join(p.dir, file))
	}

	key, secret := testKey("try")
	stage("settings.py", "NOTIFY_API_KEY = '"+key+"'\n")
	out, code := try("notifyscan", p.env)
	if code == 0 || !strings.Contains(out, "settings.py:1:") {
		t.Errorf("try-repo with a staged key: exit %d\n%s", code, out)
	}
	noSecrets(t, "try-repo's output", out, secret)

	// The system hook runs the notifyscan on PATH, and fails loudly without one.
	withBin := append(append([]string{}, p.env...), "PATH="+filepath.Dir(notifyscan(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, code := try("notifyscan-system", withBin); code == 0 || !strings.Contains(out, "settings.py:1:") {
		t.Errorf("try-repo notifyscan-system with a staged key: exit %d\n%s", code, out)
	}
	if _, err := exec.LookPath("notifyscan"); err != nil {
		if out, code := try("notifyscan-system", p.env); code == 0 {
			t.Errorf("notifyscan-system without notifyscan on PATH passed:\n%s", out)
		}
	}
	unstage("settings.py")

	allowed, _ := testKey("doc")
	stage("docs/example.md", "Use `"+allowed+"` <!-- notifyscan:allow -->\n")
	if out, code := try("notifyscan", p.env); code != 0 {
		t.Errorf("try-repo with an allowed line: exit %d\n%s", code, out)
	}
	unstage("docs/example.md")

	stage("main.go", "package main\n")
	if out, code := try("notifyscan", p.env); code != 0 {
		t.Errorf("try-repo with a clean change: exit %d\n%s", code, out)
	}
	if out, code := try("notifyscan-system", withBin); code != 0 {
		t.Errorf("try-repo notifyscan-system with a clean change: exit %d\n%s", code, out)
	}
}
