package ghaction

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repo is a git repository made for a test.
type repo struct {
	t   *testing.T
	dir string
	n   int // commits made, for distinct dates
}

// gitEnv isolates git from the machine's configuration and fixes identities.
func gitEnv(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
		"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
		"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.file.allow", "GIT_CONFIG_VALUE_0": "always",
	} {
		t.Setenv(k, v)
	}
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GIT_AUTHOR_DATE=2024-01-01T00:%02d:00Z", r.n%60), fmt.Sprintf("GIT_COMMITTER_DATE=2024-01-01T00:%02d:00Z", r.n%60))
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes a file and commits it, returning the commit id.
func (r *repo) commit(file, content string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, file), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.n++
	r.git("add", file)
	r.git("commit", "-q", "-m", file+" "+fmt.Sprint(r.n))
	return r.git("rev-parse", "HEAD")
}

// commits makes n commits and returns the last.
func (r *repo) commits(prefix string, n int) string {
	var last string
	for i := range n {
		last = r.commit(fmt.Sprintf("%s%d.txt", prefix, i), prefix)
	}
	return last
}

// clone makes a shallow (depth > 0) or full clone of branch.
func (r *repo) clone(branch string, depth int) *repo {
	r.t.Helper()
	c := &repo{t: r.t, dir: filepath.Join(r.t.TempDir(), "ws")}
	args := []string{"clone", "-q", "--branch", branch}
	if depth > 0 {
		args = append(args, "--depth", fmt.Sprint(depth))
	}
	out, err := exec.Command("git", append(args, "file://"+r.dir, c.dir)...).CombinedOutput()
	if err != nil {
		r.t.Fatalf("clone: %v\n%s", err, out)
	}
	return c
}

func (r *repo) shallow() bool { return r.git("rev-parse", "--is-shallow-repository") == "true" }

func prepare(t *testing.T, ws *repo, ev *Event, rng string) (*Plan, string, error) {
	t.Helper()
	var log strings.Builder
	p, err := Prepare(context.Background(), &Git{Dir: ws.dir, Log: &log}, ev, rng)
	return p, log.String(), err
}

func mustPrepare(t *testing.T, ws *repo, ev *Event, rng string) *Plan {
	t.Helper()
	p, log, err := prepare(t, ws, ev, rng)
	if err != nil {
		t.Fatalf("Prepare: %v\nlog:\n%s", err, log)
	}
	return p
}

// revs is the commits of a..b, newest first, as the origin sees them.
func (r *repo) revs(spec ...string) []string {
	out := r.git(append([]string{"rev-list"}, spec...)...)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestPullRequestInShallowCheckout(t *testing.T) {
	gitEnv(t)
	steps := deepenSteps
	deepenSteps = []int{2, 4}
	t.Cleanup(func() { deepenSteps = steps })
	origin := newRepo(t)
	origin.commits("old", 8)
	fork := origin.git("rev-parse", "HEAD")
	origin.git("checkout", "-q", "-b", "feature")
	head := origin.commits("pr", 3)
	origin.git("checkout", "-q", "main")
	base := origin.commits("main", 9) // the merge base is out of reach of both deepen steps

	ws := origin.clone("feature", 1)
	ev := &Event{Name: "pull_request", PR: &PullRequest{Number: 7, Commits: 3, BaseSHA: base, HeadSHA: head, BaseRef: "main"}}
	p, log, err := prepare(t, ws, ev, "")
	if err != nil {
		t.Fatalf("Prepare: %v\n%s", err, log)
	}
	for _, step := range []string{"fetching pull request base", "2 more commits", "4 more commits", "the whole history"} {
		if !strings.Contains(log, step) {
			t.Errorf("log does not show %q:\n%s", step, log)
		}
	}
	if p.Full || p.Nothing() {
		t.Fatalf("plan = %+v, want a range", p)
	}
	if want := fork + ".." + head; p.Range != want {
		t.Errorf("Range = %s, want %s", p.Range, want)
	}
	if want := origin.revs(head, "^"+fork); !slices.Equal(p.Commits, want) {
		t.Errorf("Commits = %v, want %v", p.Commits, want)
	}
	if !strings.Contains(p.What, "pull request #7: 3 commits") {
		t.Errorf("What = %q", p.What)
	}
}

func TestPullRequestCheckoutOfMergeCommit(t *testing.T) {
	// actions/checkout's default for pull_request: refs/pull/N/merge at depth 1,
	// which has neither the base nor the head commit.
	gitEnv(t)
	origin := newRepo(t)
	origin.commits("old", 3)
	origin.git("checkout", "-q", "-b", "feature")
	head := origin.commits("pr", 2)
	origin.git("checkout", "-q", "main")
	base := origin.commits("main", 2)
	origin.git("checkout", "-q", "-b", "merge")
	origin.git("merge", "-q", "--no-edit", "feature")
	ws := origin.clone("merge", 1)
	if ws.git("cat-file", "-t", ws.git("rev-parse", "HEAD")) != "commit" || !ws.shallow() {
		t.Fatal("setup: want a shallow clone")
	}
	p := mustPrepare(t, ws, &Event{Name: "pull_request_target", PR: &PullRequest{Number: 1, BaseSHA: base, HeadSHA: head}}, "")
	if len(p.Commits) != 2 || p.Commits[0] != head {
		t.Errorf("Commits = %v, want the 2 commits of the pull request", p.Commits)
	}
}

func TestPushRangeAndNewBranch(t *testing.T) {
	gitEnv(t)
	origin := newRepo(t)
	before := origin.commits("a", 5)
	after := origin.commits("b", 4)

	t.Run("push", func(t *testing.T) {
		ws := origin.clone("main", 1)
		p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/main", Before: before, After: after}, "")
		if p.Range != before+".."+after || len(p.Commits) != 4 {
			t.Errorf("plan = %s with %d commits, want %s..%s with 4", p.Range, len(p.Commits), short(before), short(after))
		}
	})

	origin.git("checkout", "-q", "-b", "topic")
	tip := origin.commits("t", 2)
	origin.git("checkout", "-q", "main")
	t.Run("new branch", func(t *testing.T) {
		ws := origin.clone("topic", 1)
		p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/topic", Before: zeroSHA, After: tip}, "")
		if p.Range != zeroSHA+".."+tip || len(p.Commits) != 2 {
			t.Errorf("plan = %+v, want 0000..%s, 2 commits", p, short(tip))
		}
		if ws.shallow() {
			t.Error("the clone is still shallow: other branches' history is needed to tell which commits are new")
		}
	})
	t.Run("new branch without new commits", func(t *testing.T) {
		origin.git("branch", "-f", "copy", "main")
		ws := origin.clone("copy", 1)
		p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/copy", Before: zeroSHA, After: after}, "")
		if !p.Nothing() || !strings.Contains(p.What, "nothing to scan") {
			t.Errorf("plan = %+v, want nothing to scan", p)
		}
	})
	t.Run("deleted branch", func(t *testing.T) {
		ws := origin.clone("main", 1)
		p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/gone", Before: after, After: zeroSHA}, "")
		if !p.Nothing() {
			t.Errorf("plan = %+v, want nothing", p)
		}
	})
}

func TestNewBranchWithMerge(t *testing.T) {
	gitEnv(t)
	origin := newRepo(t)
	origin.commits("a", 2)
	origin.git("checkout", "-q", "-b", "other")
	origin.commits("o", 2)
	origin.git("checkout", "-q", "main")
	origin.commits("m", 1)
	origin.git("checkout", "-q", "-b", "topic", "main~1")
	origin.commits("t", 1)
	origin.git("merge", "-q", "--no-edit", "other")
	tip := origin.commits("u", 1)
	// topic forks from main~1 and merges other: its own commits are t, the
	// merge and u; main and other hold the rest.
	ws := origin.clone("topic", 1)
	p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/topic", Before: zeroSHA, After: tip}, "")
	want := origin.revs(tip, "--not", "main", "other")
	if !slices.Equal(p.Commits, want) || len(want) != 3 || p.Range != zeroSHA+".."+tip {
		t.Fatalf("plan = %+v, want 0000..%s with %v", p, short(tip), want)
	}
}

func TestForcePush(t *testing.T) {
	gitEnv(t)
	origin := newRepo(t)
	origin.commits("a", 3)
	fork := origin.git("rev-parse", "HEAD")
	old := origin.commits("old", 2)
	origin.git("reset", "-q", "--hard", fork)
	tip := origin.commits("new", 2)

	t.Run("old tip still fetchable", func(t *testing.T) {
		ws := origin.clone("main", 1)
		p := mustPrepare(t, ws, &Event{Name: "push", Ref: "refs/heads/main", Before: old, After: tip, Forced: true}, "")
		if p.Range != fork+".."+tip || len(p.Commits) != 2 {
			t.Errorf("plan = %s (%d commits), want %s..%s (2)", p.Range, len(p.Commits), short(fork), short(tip))
		}
	})
	t.Run("old tip gone", func(t *testing.T) {
		origin.git("reflog", "expire", "--expire=now", "--all")
		origin.git("gc", "-q", "--prune=now")
		ws := origin.clone("main", 1)
		p, log, err := prepare(t, ws, &Event{Name: "push", Ref: "refs/heads/main", Before: old, After: tip, Forced: true}, "")
		if err != nil {
			t.Fatalf("Prepare: %v\n%s", err, log)
		}
		// main is the only branch: its whole history is on no other branch.
		if p.Range != zeroSHA+".."+tip || len(p.Commits) != 5 {
			t.Errorf("plan = %+v, want the 5 commits of main", p)
		}
		if !strings.Contains(log, "no longer has") {
			t.Errorf("log does not explain the fallback:\n%s", log)
		}
		// Not forced: the missing before is an error.
		_, _, err = prepare(t, ws, &Event{Name: "push", Ref: "refs/heads/main", Before: old, After: tip}, "")
		if err == nil || !strings.Contains(err.Error(), "cannot be fetched") {
			t.Errorf("err = %v, want cannot be fetched", err)
		}
	})
}

func TestUnresolvableRanges(t *testing.T) {
	gitEnv(t)
	origin := newRepo(t)
	head := origin.commits("a", 2)
	origin.git("checkout", "-q", "--orphan", "unrelated")
	lonely := origin.commit("z.txt", "z")
	ws := origin.clone("main", 1)

	missing := strings.Repeat("ab", 20)
	_, _, err := prepare(t, ws, &Event{Name: "pull_request", PR: &PullRequest{Number: 2, BaseSHA: missing, HeadSHA: head}}, "")
	if err == nil || !strings.Contains(err.Error(), "pull request base abababa is not in the checkout and cannot be fetched") {
		t.Errorf("missing base: err = %v", err)
	}
	_, _, err = prepare(t, ws, &Event{Name: "pull_request", PR: &PullRequest{Number: 2, BaseSHA: lonely, HeadSHA: head}}, "")
	if err == nil || !strings.Contains(err.Error(), "no common history") {
		t.Errorf("unrelated: err = %v", err)
	}
	for _, rng := range []string{"main", "..main", "main..", "--all..main", "main..x..y"} {
		if _, _, err := prepare(t, ws, &Event{Name: "workflow_dispatch"}, rng); err == nil {
			t.Errorf("range %q: no error", rng)
		}
	}
	if _, _, err := prepare(t, &repo{t: t, dir: t.TempDir()}, &Event{Name: "schedule"}, ""); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("no repository: err = %v", err)
	}
}

func TestFullHistoryAndExplicitRange(t *testing.T) {
	gitEnv(t)
	origin := newRepo(t)
	first := origin.commits("a", 3)
	last := origin.commits("b", 3)
	origin.git("tag", "v1", first)
	origin.git("checkout", "-q", "-b", "side")
	side := origin.commits("s", 1)
	origin.git("checkout", "-q", "main")

	ws := origin.clone("main", 1)
	p := mustPrepare(t, ws, &Event{Name: "schedule"}, "")
	if !p.Full || ws.shallow() {
		t.Fatalf("plan = %+v, shallow = %v; want the full history of a complete clone", p, ws.shallow())
	}
	if ws.git("rev-parse", "refs/remotes/origin/side") != side || ws.git("rev-parse", "v1") != first {
		t.Error("other branches and tags were not fetched")
	}

	ws = origin.clone("main", 1)
	p = mustPrepare(t, ws, &Event{Name: "workflow_dispatch"}, first+".."+last)
	if p.Full || p.Range != first+".."+last || len(p.Commits) != 3 {
		t.Errorf("plan = %+v, want the 3 commits after %s", p, short(first))
	}
	p = mustPrepare(t, ws, &Event{Name: "merge_group"}, "HEAD~1..HEAD")
	if len(p.Commits) != 1 || p.Commits[0] != last {
		t.Errorf("plan = %+v, want the last commit", p)
	}
}

func TestReadEvent(t *testing.T) {
	dir := t.TempDir()
	write := func(v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, "event.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	ev, err := ReadEvent("pull_request", write(map[string]any{"pull_request": map[string]any{
		"number": 3, "commits": 2, "base": map[string]any{"sha": a, "ref": "main"}, "head": map[string]any{"sha": b}}}))
	if err != nil || ev.PR == nil || ev.PR.BaseSHA != a || ev.PR.HeadSHA != b || ev.PR.Number != 3 || ev.PR.BaseRef != "main" {
		t.Errorf("pull_request: %+v, %v", ev, err)
	}
	ev, err = ReadEvent("push", write(map[string]any{"ref": "refs/heads/x", "before": zeroSHA, "after": b, "forced": true}))
	if err != nil || ev.Before != zeroSHA || ev.After != b || !ev.Forced || ev.Ref != "refs/heads/x" {
		t.Errorf("push: %+v, %v", ev, err)
	}
	for _, bad := range []map[string]any{
		{"ref": "refs/heads/x", "before": "--upload-pack=evil", "after": b},
		{"ref": "refs/heads/x", "before": strings.ToUpper(a), "after": b},
	} {
		if _, err := ReadEvent("push", write(bad)); err == nil {
			t.Errorf("push %v: no error", bad)
		}
	}
	if _, err := ReadEvent("pull_request", write(map[string]any{})); err == nil {
		t.Error("pull_request without pull_request: no error")
	}
	if _, err := ReadEvent("", ""); err == nil {
		t.Error("no event name: no error")
	}
	if ev, err := ReadEvent("schedule", write(map[string]any{"schedule": "0 3 * * *"})); err != nil || ev.Name != "schedule" {
		t.Errorf("schedule: %+v, %v", ev, err)
	}
}

func TestSetOutputs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(p, []byte("earlier=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetOutputs(p, Output{"findings", "2"}, Output{"sarif-file", "/tmp/a b\nc.sarif"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	got := parseOutputs(t, string(b))
	want := map[string]string{"earlier": "1", "findings": "2", "sarif-file": "/tmp/a b\nc.sarif"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outputs = %q, want %q", got, want)
	}
	if err := SetOutputs("", Output{"x", "y"}); err != nil {
		t.Errorf("no output file: %v", err)
	}
}

// parseOutputs reads an output file as the runner does.
func parseOutputs(t *testing.T, s string) map[string]string {
	out := map[string]string{}
	ls := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := 0; i < len(ls); i++ {
		if name, d, ok := strings.Cut(ls[i], "<<"); ok {
			var v []string
			for i++; i < len(ls) && ls[i] != d; i++ {
				v = append(v, ls[i])
			}
			if i == len(ls) {
				t.Fatalf("unterminated value for %s", name)
			}
			out[name] = strings.Join(v, "\n")
			continue
		}
		k, v, _ := strings.Cut(ls[i], "=")
		out[k] = v
	}
	return out
}
