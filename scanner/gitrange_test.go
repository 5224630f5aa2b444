package scanner

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGitRange(t *testing.T) {
	r := newTestRepo(t)
	kOld, kPR, kGone, kSide, kMsg, kMerge := gitKey("old"), gitKey("pr"), gitKey("gone"), gitKey("side"), gitKey("msg"), gitKey("merge")
	r.commit("base", map[string]string{"old.env": "K=" + kOld + "\n"})
	base := r.commit("more", map[string]string{"a.txt": "a\n"})
	r.git("checkout", "-q", "-b", "pr")
	add := r.commit("add key", map[string]string{"pr.env": "K=" + kPR + "\n", "gone.env": "K=" + kGone + "\n"})
	r.commit("delete key\n\nfor "+kMsg, map[string]string{"gone.env": ""})
	r.git("checkout", "-q", "-b", "topic", base)
	sideCommit := r.commit("side", map[string]string{"side.env": "K=" + kSide + "\n"})
	r.git("checkout", "-q", "pr")
	r.n++
	r.git("merge", "-q", "--no-ff", "--no-commit", "topic")
	r.write(map[string]string{"merged.env": "K=" + kMerge + "\n"})
	r.git("add", "merged.env")
	r.git("commit", "-q", "-m", "merge topic")
	merge := r.git("rev-parse", "HEAD")
	// main moves on after the fork: not part of the pull request.
	r.git("checkout", "-q", "main")
	r.commit("main later", map[string]string{"main.env": "K=" + gitKey("main") + "\n"})

	res := scanGit(t, r.dir, GitOptions{Range: "main..pr"})
	t.Log("\n" + dump(res))
	if len(res.Findings) != 5 {
		t.Errorf("want 5 findings (pr, gone, side, merge, message), got %d", len(res.Findings))
	}
	if f := one(t, res, kPR); f.Path != "pr.env" || f.Git.Commit != add || !f.Git.AtHead {
		t.Errorf("pr key: %s", describe(f))
	}
	if f := one(t, res, kGone); f.Git.Commit != add || f.Git.AtHead {
		t.Errorf("added then deleted: %s", describe(f))
	}
	if f := one(t, res, kSide); f.Git.Commit != sideCommit || !reflect.DeepEqual(f.Git.Commits, []string{sideCommit}) {
		t.Errorf("key brought in by a merge: %s", describe(f))
	}
	if f := one(t, res, kMerge); f.Git.Commit != merge {
		t.Errorf("key added in a merge commit: %s", describe(f))
	}
	if f := one(t, res, kMsg); f.Path != CommitMessagePath {
		t.Errorf("message in range: %s", describe(f))
	}
	if len(byFP(res, fpOf(t, kOld))) != 0 {
		t.Error("a key from before the range was reported")
	}
	if res.Stats.Commits != 4 {
		t.Errorf("commits in range: %d, want 4", res.Stats.Commits)
	}

	// BASE given as a commit id, HEAD defaulting to HEAD.
	r.git("checkout", "-q", "pr")
	res2 := scanGit(t, r.dir, GitOptions{Range: base + ".."})
	if !reflect.DeepEqual(res.Findings, res2.Findings) {
		t.Errorf("BASE.. differs from main..pr:\n%s", dump(res2))
	}

	// A new branch: all-zero BASE scans what no other branch has.
	// topic's own commit is on another branch and not scanned; the merge
	// that brings topic's file into pr still adds its blob to pr, so the
	// key is reported at the merge.
	res3 := scanGit(t, r.dir, GitOptions{Range: strings.Repeat("0", 40) + "..pr"})
	if len(res3.Findings) != 5 || res3.Stats.Commits != 3 {
		t.Errorf("all-zero BASE: want 3 commits and 5 findings, got %d and\n%s", res3.Stats.Commits, dump(res3))
	}
	if f := one(t, res3, kSide); f.Git.Commit != merge {
		t.Errorf("all-zero BASE, key from another branch: %s", describe(f))
	}
}

func TestGitRangeEmptyAndUnknown(t *testing.T) {
	r := newTestRepo(t)
	r.commit("one", map[string]string{"a": "a\n"})
	r.commit("two", map[string]string{"b": "b\n"})
	ctx := context.Background()
	for _, rng := range []string{"HEAD..HEAD", "main..HEAD~1", "HEAD~1..HEAD~1"} {
		if _, err := ScanGit(ctx, r.dir, GitOptions{Range: rng}); !errors.Is(err, ErrEmptyRange) {
			t.Errorf("%s: want ErrEmptyRange, got %v", rng, err)
		}
	}
	for _, rng := range []string{"nope..HEAD", "HEAD..nope", "1234567890123456789012345678901234567890..HEAD"} {
		if _, err := ScanGit(ctx, r.dir, GitOptions{Range: rng}); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("%s: want ErrUnknownRevision, got %v", rng, err)
		}
	}
	if _, err := ScanGit(ctx, r.dir, GitOptions{Range: "HEAD"}); err == nil {
		t.Error("a range without '..' was accepted")
	}
	empty := newTestRepo(t)
	if _, err := ScanGit(ctx, empty.dir, GitOptions{Range: "main..HEAD"}); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("range in an empty repository: %v", err)
	}
}

func TestGitRangeShallow(t *testing.T) {
	up := newTestRepo(t)
	k := gitKey("deep")
	up.commit("c1", map[string]string{"a": "1\n"})
	base := up.commit("c2", map[string]string{"a": "2\n"})
	up.commit("c3", map[string]string{"k.env": "K=" + k + "\n"})
	for i := range 4 {
		up.commit("c", map[string]string{"a": strings.Repeat("x", i+3) + "\n"})
	}
	head := up.git("rev-parse", "HEAD")

	clone := func() *testRepo {
		parent := &testRepo{t: t, dir: t.TempDir()}
		parent.git("clone", "-q", "--depth=1", "file://"+up.dir, "c")
		return &testRepo{t: t, dir: filepath.Join(parent.dir, "c")}
	}

	// With a remote: deepened until the merge base is there.
	c := clone()
	res := scanGit(t, c.dir, GitOptions{Range: base + ".." + head})
	if f := one(t, res, k); f.Path != "k.env" {
		t.Errorf("deepened range: %s", describe(f))
	}
	if res.Stats.Commits != 5 {
		t.Errorf("deepened range: %d commits, want 5", res.Stats.Commits)
	}

	// Deepening turned off: a clear error.
	c = clone()
	c.git("fetch", "-q", "--depth=3", "origin", base) // BASE is here, the merge base is not reachable
	_, err := ScanGit(context.Background(), c.dir, GitOptions{Range: base + ".." + head, NoDeepen: true})
	if !errors.Is(err, ErrShallow) {
		t.Errorf("no-deepen: want ErrShallow, got %v", err)
	}

	// No remote: a clear error too.
	c = clone()
	c.git("remote", "remove", "origin")
	_, err = ScanGit(context.Background(), c.dir, GitOptions{Range: "HEAD~0..HEAD"})
	if !errors.Is(err, ErrEmptyRange) {
		t.Errorf("HEAD..HEAD in a shallow clone: %v", err)
	}
	_, err = ScanGit(context.Background(), c.dir, GitOptions{Range: base + ".." + head})
	if !errors.Is(err, ErrShallow) && !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("shallow without a remote: want ErrShallow, got %v", err)
	}
	if err != nil && !strings.Contains(err.Error(), "shallow") {
		t.Errorf("the error does not say the clone is shallow: %v", err)
	}

	// A full scan of a shallow clone works on what is there.
	c = clone()
	res = scanGit(t, c.dir, GitOptions{})
	if f := one(t, res, k); f.Path != "k.env" || !f.Git.AtHead {
		t.Errorf("full scan of a shallow clone: %s", describe(f))
	}
}
