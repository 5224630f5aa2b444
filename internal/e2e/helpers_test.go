package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/rules"
)

// Set by TestMain: the module's root and a scratch directory shared by the
// tests (the notifyscan binary, the snapshot of the work tree).
var (
	moduleRoot string
	scratch    string
)

func TestMain(m *testing.M) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "go.mod"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot find the module root:", err)
		os.Exit(2)
	}
	moduleRoot = root
	if scratch, err = os.MkdirTemp("", "notifyscan-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// strict is set in CI: a missing tool fails instead of skipping.
func strict() bool { return os.Getenv("NOTIFYSCAN_E2E") == "1" }

// toolsBin is where install-tools.sh puts the tools.
func toolsBin() string {
	dir := os.Getenv("NOTIFYSCAN_TOOLS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "notifyscan-tools")
	}
	return filepath.Join(dir, "bin")
}

// tool finds an end-to-end tool, in install-tools.sh's directory first,
// then on PATH. A missing tool skips the test, or fails it in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(toolsBin(), name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed: run internal/e2e/install-tools.sh (it installs into %s)", name, toolsBin())
	if strict() {
		t.Fatal(msg + "; NOTIFYSCAN_E2E=1 makes a missing tool a failure")
	}
	t.Skip(msg)
	return ""
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// notifyscan builds the command once and returns the binary's path. It
// also gets every module the module's packages need into the module cache,
// so that the builds the tools run (pre-commit's 'go install ./...', the
// action's 'go build') work with GOPROXY=off.
func notifyscan(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		builtBin = filepath.Join(scratch, "bin", "notifyscan")
		for _, args := range [][]string{{"build", "-o", builtBin, "./cmd/notifyscan"}, {"list", "-deps", "./..."}} {
			cmd := exec.Command("go", args...)
			cmd.Dir = moduleRoot
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

var (
	snapOnce sync.Once
	snapDir  string
	snapRev  string
	snapErr  error
)

// snapshot is a git repository holding the module's work tree as it is now
// (tracked files and untracked ones git does not ignore) in one commit, so
// that pre-commit and act test the code under test even before it is
// committed. It returns the repository and the commit.
func snapshot(t *testing.T) (dir, rev string) {
	t.Helper()
	snapOnce.Do(func() {
		snapDir = filepath.Join(scratch, "notifyscan-src")
		snapRev, snapErr = copyWorkTree(moduleRoot, snapDir)
	})
	if snapErr != nil {
		t.Fatal(snapErr)
	}
	return snapDir, snapRev
}

func copyWorkTree(src, dst string) (string, error) {
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return "", fmt.Errorf("listing the work tree: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		from := filepath.Join(src, filepath.FromSlash(name))
		fi, err := os.Lstat(from)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		to := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return "", err
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
			return "", err
		}
	}
	env := gitEnv(filepath.Join(scratch, "home"))
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "notifyscan work tree for the end-to-end tests"},
	} {
		cmd := exec.Command("git", append([]string{"-C", dst}, args...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	rev, err := exec.Command("git", "-C", dst, "rev-parse", "HEAD").Output()
	return strings.TrimSpace(string(rev)), err
}

// gitEnv is the environment for git and the tools: the machine's, with git's
// global and system configuration replaced by a fixed identity.
func gitEnv(home string, extra ...string) []string {
	if err := os.MkdirAll(home, 0o755); err != nil {
		panic(err)
	}
	cfg := filepath.Join(home, "gitconfig")
	if _, err := os.Stat(cfg); err != nil {
		_ = os.WriteFile(cfg, []byte("[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n"), 0o644)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "NOTIFYSCAN_E2E" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_DATE=2025-03-04T05:06:07Z", "GIT_COMMITTER_DATE=2025-03-04T05:06:07Z")
	return append(env, extra...)
}

// sh runs a command in dir with env and returns its combined output and
// exit code; it fails the test only if the command cannot start.
func sh(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		}
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out.String(), 0
}

// must runs a command that has to succeed and returns its output.
func must(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, code := sh(t, dir, env, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return strings.TrimSpace(out)
}

// writeFile writes a file under dir, making its directories.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testKey is a fresh, well-formed GC Notify key and its secret.
func testKey(name string) (key, secret string) {
	secret = rules.NewUUID()
	return "gcntfy-" + name + "-" + rules.NewUUID() + "-" + secret, secret
}

// noSecrets fails the test if any output holds one of the secrets.
func noSecrets(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) || strings.Contains(out, s[4:]) {
			t.Errorf("%s shows a secret:\n%s", what, out)
		}
	}
}

// median times f n times and returns the median duration.
func median(n int, f func()) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		f()
		ds[i] = time.Since(start)
	}
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j] < ds[j-1]; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
	return ds[len(ds)/2]
}

// readFile returns a file's content, or "" if it does not exist.
func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
