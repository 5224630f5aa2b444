package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func scanStaged(t testing.TB, dir string) *Result {
	t.Helper()
	res, err := ScanStaged(context.Background(), dir, Options{})
	if err != nil {
		t.Fatalf("ScanStaged: %v", err)
	}
	for _, e := range res.Errors {
		t.Errorf("input error: %v", e)
	}
	return res
}

func TestStaged(t *testing.T) {
	r := newTestRepo(t)
	kOld, kNew, kAllowed := gitKey("old"), gitKey("new"), gitKey("allowed")
	r.commit("one", map[string]string{"app.env": "A=1\nK=" + kOld + "\n", "keep.txt": "x\n"})

	// Nothing staged: nothing to report.
	if res := scanStaged(t, r.dir); len(res.Findings) != 0 || res.Stats.Files != 0 {
		t.Fatalf("nothing staged: %+v", res)
	}

	r.write(map[string]string{
		"app.env":     "A=1\nB=2\nK=" + kOld + "\nN=" + kNew + "\n",
		"new/x.yaml":  "# x\nk: " + kAllowed + " # notifyscan:allow\n",
		"unstaged.md": kNew + "\n",
	})
	r.git("add", "app.env", "new/x.yaml")
	r.write(map[string]string{"app.env": "changed after staging, not scanned\n"})
	res := scanStaged(t, r.dir)
	if len(res.Findings) != 1 {
		t.Fatalf("want 1 finding (the new key), got\n%s", dump(res))
	}
	f := res.Findings[0]
	if f.Path != "app.env" || f.Line != 4 || f.Column != 3 || f.Fingerprint() != fpOf(t, kNew) || f.Git != nil {
		t.Errorf("staged finding: %s", describe(f))
	}
	if res.Ignored != 1 {
		t.Errorf("ignored: %d, want 1 (notifyscan:allow)", res.Ignored)
	}

	// From a subdirectory, paths stay relative to the repository.
	res = scanStaged(t, filepath.Join(r.dir, "new"))
	if len(res.Findings) != 1 || res.Findings[0].Path != "app.env" {
		t.Errorf("from a subdirectory:\n%s", dump(res))
	}

	// The ignore file of the work tree applies.
	r.write(map[string]string{".notifyscanignore": fpOf(t, kNew) + "\n"})
	if res := scanStaged(t, r.dir); len(res.Findings) != 0 || res.Ignored != 2 {
		t.Errorf("ignore file: %d findings, %d ignored", len(res.Findings), res.Ignored)
	}
}

func TestStagedNoCommits(t *testing.T) {
	r := newTestRepo(t)
	k := gitKey("first")
	r.write(map[string]string{"a.env": "K=" + k + "\n"})
	r.git("add", "a.env")
	res := scanStaged(t, r.dir)
	if f := one(t, res, k); f.Path != "a.env" || f.Line != 1 {
		t.Errorf("no HEAD: %s", describe(f))
	}
	empty := newTestRepo(t)
	if res := scanStaged(t, empty.dir); len(res.Findings) != 0 {
		t.Errorf("empty repository: %+v", res)
	}
}

func TestStagedErrors(t *testing.T) {
	needGit(t)
	ctx := context.Background()
	if _, err := ScanStaged(ctx, t.TempDir(), Options{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("not a repository: %v", err)
	}
	r := newTestRepo(t, "--bare")
	if _, err := ScanStaged(ctx, r.dir, Options{}); !errors.Is(err, ErrBareRepository) {
		t.Errorf("bare: %v", err)
	}
}

func TestStagedNotUTF8(t *testing.T) {
	r := newTestRepo(t)
	k := gitKey("bin")
	r.write(map[string]string{"bin.dat": "\xff\xfe\x00\x80 latin1 caf\xe9 " + k + "\x00\xc3\n"})
	r.git("add", "bin.dat")
	res := scanStaged(t, r.dir)
	if f := one(t, res, k); f.Path != "bin.dat" {
		t.Errorf("non-UTF-8: %s", describe(f))
	}
	r.git("commit", "-q", "-m", "bin \xff\xfe message")
	res = scanGit(t, r.dir, GitOptions{})
	one(t, res, k)
}

// TestStagedSpeed times a 10-file change in a repository with 20,000
// commits, built with git fast-import.
func TestStagedSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20,000-commit repository")
	}
	r := newTestRepo(t)
	var b strings.Builder
	const commits = 20000
	for i := range commits {
		content := fmt.Sprintf("line %d\n", i)
		fmt.Fprintf(&b, "commit refs/heads/main\nmark :%d\ncommitter Ada <ada@example.org> %d +0000\ndata 7\nchange\n", i+1, 1700000000+i)
		if i > 0 {
			fmt.Fprintf(&b, "from :%d\n", i)
		}
		fmt.Fprintf(&b, "M 100644 inline src/f%03d.txt\ndata %d\n%s\n", i%500, len(content), content)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = r.dir
	cmd.Env = gitEnv(r.date())
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	r.git("reset", "-q", "--hard", "main")
	k := gitKey("speed")
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("src/f%03d.txt", i)] = strings.Repeat("some text\n", 200)
	}
	files["src/f003.txt"] += "K=" + k + "\n"
	r.write(files)
	r.git("add", "-A")

	scanStaged(t, r.dir) // warm the page cache
	best := time.Hour
	for range 5 {
		start := time.Now()
		res := scanStaged(t, r.dir)
		best = min(best, time.Since(start))
		one(t, res, k)
	}
	limit := 50 * time.Millisecond
	if raceEnabled || os.Getenv("NOTIFYSCAN_SLOW_MACHINE") != "" {
		limit = 250 * time.Millisecond
	}
	t.Logf("staged scan of 10 files in a %d-commit repository: %v (limit %v)", commits, best, limit)
	if best > limit {
		t.Errorf("staged scan took %v, want under %v", best, limit)
	}

	// A 30-commit range costs what the range costs, not the history: far
	// less than one full scan.
	rangeTime, fullTime := time.Hour, time.Hour
	for range 3 {
		start := time.Now()
		res := scanGit(t, r.dir, GitOptions{Range: "HEAD~30..HEAD"})
		rangeTime = min(rangeTime, time.Since(start))
		if res.Stats.Commits != 30 {
			t.Fatalf("range: %d commits, want 30", res.Stats.Commits)
		}
	}
	start := time.Now()
	scanGit(t, r.dir, GitOptions{})
	fullTime = time.Since(start)
	t.Logf("30-commit range: %v; full history: %v", rangeTime, fullTime)
	if rangeTime > fullTime/4 {
		t.Errorf("a 30-commit range took %v, a quarter or more of the full scan (%v)", rangeTime, fullTime)
	}
}
