package scanner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/rules"
)

// testRepo is a git repository built by a test with the git binary, with
// fixed identities and dates: the n-th commit is dated n minutes after
// 2024-01-01.
type testRepo struct {
	t   testing.TB
	dir string
	n   int
}

func needGit(t testing.TB) {
	t.Helper()
	if gitBinary() == "" {
		t.Skip("git is not installed")
	}
}

func newTestRepo(t testing.TB, args ...string) *testRepo {
	t.Helper()
	needGit(t)
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git(append([]string{"init", "-q", "-b", "main"}, args...)...)
	return r
}

// gitEnv is the environment of test git commands: no user or system
// configuration, fixed names.
func gitEnv(date string) []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Ada Tester", "GIT_AUTHOR_EMAIL=ada@example.org",
		"GIT_COMMITTER_NAME=Ada Tester", "GIT_COMMITTER_EMAIL=ada@example.org",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
	)
}

func (r *testRepo) date() string {
	return time.Date(2024, 1, 1, 0, r.n, 0, 0, time.UTC).Format(time.RFC3339)
}

// git runs git in the repository and returns its trimmed output.
func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	out, err := r.gitErr(args...)
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// gitCmd is a git command in the repository, not yet run.
func (r *testRepo) gitCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = gitEnv(r.date())
	return cmd
}

func (r *testRepo) gitErr(args ...string) (string, error) {
	cmd := r.gitCmd(args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// write writes files in the work tree; "" removes one.
func (r *testRepo) write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// commit writes files, stages everything and commits; it returns the new
// commit's id.
func (r *testRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.n++
	r.write(files)
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// gitKey is a fresh current-format key; it lives only in the test.
func gitKey(name string) string {
	return "gcntfy-" + name + "-" + rules.NewUUID() + "-" + rules.NewUUID()
}

func fpOf(t testing.TB, key string) string {
	t.Helper()
	k, err := rules.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint()
}

func scanGit(t testing.TB, dir string, opts GitOptions) *Result {
	t.Helper()
	res, err := ScanGit(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("ScanGit: %v", err)
	}
	for _, e := range res.Errors {
		t.Errorf("input error: %v", e)
	}
	return res
}

// byFP returns the findings of a key.
func byFP(res *Result, fp string) []rules.Finding {
	var out []rules.Finding
	for _, f := range res.Findings {
		if f.Fingerprint() == fp {
			out = append(out, f)
		}
	}
	return out
}

// describe is a finding in one line, for test failures.
func describe(f rules.Finding) string {
	s := fmt.Sprintf("%s:%d:%d %s", f.Path, f.Line, f.Column, f.Key.Redacted())
	if g := f.Git; g != nil {
		s += fmt.Sprintf(" commit=%.7s commits=%d refs=%v atHead=%v msg=%v", g.Commit, len(g.Commits), g.Refs, g.AtHead, g.Message)
	}
	return s
}

func dump(res *Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		b.WriteString(describe(f) + "\n")
	}
	return b.String()
}

// one asserts that a key has exactly one finding and returns it.
func one(t testing.TB, res *Result, key string) rules.Finding {
	t.Helper()
	fs := byFP(res, fpOf(t, key))
	if len(fs) != 1 {
		t.Fatalf("want 1 finding for the key, got %d; all findings:\n%s", len(fs), dump(res))
	}
	return fs[0]
}

func noSecrets(t testing.TB, res *Result, keys ...string) {
	t.Helper()
	s := fmt.Sprintf("%+v %#v", res, res)
	for _, k := range keys {
		kk, _ := rules.ParseKey(k)
		if strings.Contains(s, kk.Secret()) {
			t.Fatal("a secret leaked into the result's printed form")
		}
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// damage flips the bytes at offsets of a (read-only) object or pack file.
func damage(t testing.TB, path string, offsets ...int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range offsets {
		b[i] ^= 0xff
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// span lists the offsets from i up to (not including) j.
func span(i, j int) []int {
	var o []int
	for ; i < j; i++ {
		o = append(o, i)
	}
	return o
}
