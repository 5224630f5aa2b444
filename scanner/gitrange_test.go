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
	// takes topic's file as topic has it, so it adds no key: topic's key is
	// topic's (its own scan reports it).
	res3 := scanGit(t, r.dir, GitOptions{Range: strings.Repeat("0", 40) + "..pr"})
	if len(res3.Findings) != 4 || res3.Stats.Commits != 3 {
		t.Errorf("all-zero BASE: want 3 commits and 4 findings, got %d and\n%s", res3.Stats.Commits, dump(res3))
	}
	if fs := byFP(res3, fpOf(t, kSide)); len(fs) != 0 {
		t.Errorf("all-zero BASE, key from another branch: %s", describe(fs[0]))
	}
	if f := one(t, res3, kMerge); f.Git.Commit != merge {
		t.Errorf("all-zero BASE, key written in the merge: %s", describe(f))
	}
}

// TestGitRangeMergesBase: a branch that merges its base ("Update branch")
// after the base got keys. A merge adds a key only where its file differs
// from every parent's and no parent's has the key (git's combined diff), so
// the base's keys are not the branch's; a key written in the merge itself
// is.
func TestGitRangeMergesBase(t *testing.T) {
	r := newTestRepo(t)
	kOld, kMain, kConf, kFeat, kGone, kEvil, kFixed := gitKey("old"), gitKey("main"), gitKey("conf"), gitKey("feat"), gitKey("gone"), gitKey("evil"), gitKey("fixed")
	fork := r.commit("base", map[string]string{
		"app/config.env": "A=1\nB=2\nC=3\n",
		"legacy.env":     "OLD=" + kOld + "\nX=1\n",
	})
	// main moves on: a new file with a key, a key in a file the branch
	// also changes (the merge combines both sides), and a key fixed in the
	// merge below.
	r.commit("main key", map[string]string{"main.env": "K=" + kMain + "\n", "app/config.env": "A=1\nB=2\nC=3\nKEY=" + kConf + "\n"})
	mainKey := r.git("rev-parse", "HEAD")
	r.commit("main fixed", map[string]string{"fixed.env": "K=" + kFixed + "\n"})

	r.git("checkout", "-q", "-b", "feat", fork)
	featAdd := r.commit("feat key", map[string]string{"feat.env": "K=" + kFeat + "\n", "gone.env": "K=" + kGone + "\n", "app/config.env": "A=0\nB=2\nC=3\n"})
	r.commit("feat: drop the key again", map[string]string{"gone.env": ""})
	// A range commit that edits a file holding a key from before the range.
	r.commit("feat: edit legacy", map[string]string{"legacy.env": "OLD=" + kOld + "\nX=2\n"})

	// The merge of main: config.env is merged line by line (a blob no
	// parent has), fixed.env is rewritten, and evil.env written in the
	// merge commit itself.
	r.n++
	r.git("merge", "-q", "--no-ff", "--no-commit", "main")
	if got := r.git("show", ":app/config.env"); got != "A=0\nB=2\nC=3\nKEY="+kConf {
		t.Fatalf("the merge did not combine config.env: %q", got)
	}
	r.write(map[string]string{"evil.env": "K=" + kEvil + "\n", "fixed.env": "K=" + kFixed + "\n# reviewed\n"})
	r.git("add", "evil.env", "fixed.env")
	r.git("commit", "-q", "-m", "Merge main into feat")
	merge := r.git("rev-parse", "HEAD")
	r.commit("feat: more", map[string]string{"app/main.py": "print(1)\n"})

	for _, rng := range []string{"main..feat", fork + "..feat"} {
		res := scanGit(t, r.dir, GitOptions{Range: rng})
		t.Logf("%s:\n%s", rng, dump(res))
		if f := one(t, res, kFeat); f.Git.Commit != featAdd || !f.Git.AtHead {
			t.Errorf("%s: the branch's key: %s", rng, describe(f))
		}
		if f := one(t, res, kGone); f.Git.Commit != featAdd || f.Git.AtHead {
			t.Errorf("%s: added and deleted in the range: %s", rng, describe(f))
		}
		if f := one(t, res, kEvil); f.Path != "evil.env" || f.Git.Commit != merge || !reflect.DeepEqual(f.Git.Commits, []string{merge}) {
			t.Errorf("%s: key written in the merge: %s", rng, describe(f))
		}
		if len(byFP(res, fpOf(t, kOld))) != 0 {
			t.Errorf("%s: a key the file held before the range was reported", rng)
		}
		base := rng == fork+"..feat" // main's commits are in this range
		for _, k := range []string{kMain, kConf, kFixed} {
			fs := byFP(res, fpOf(t, k))
			switch {
			case !base && len(fs) != 0:
				t.Errorf("%s: a key of main, brought by the merge, was reported: %s", rng, describe(fs[0]))
			case base && len(fs) != 1:
				t.Errorf("%s: a key of a commit in the range: %d findings", rng, len(fs))
			case base && k == kMain && (fs[0].Git.Commit != mainKey || !reflect.DeepEqual(fs[0].Git.Commits, []string{mainKey})):
				t.Errorf("%s: main's key is main's commit's, not the merge's: %s", rng, describe(fs[0]))
			}
		}
		if want := map[bool]int{false: 3, true: 6}[base]; len(res.Findings) != want {
			t.Errorf("%s: %d findings, want %d", rng, len(res.Findings), want)
		}
	}

	// The full scan gives each key the commits that introduce it: the
	// merge only for the key written in it.
	res := scanGit(t, r.dir, GitOptions{})
	for k, want := range map[string]string{kMain: mainKey, kConf: mainKey, kEvil: merge, kFeat: featAdd} {
		if f := one(t, res, k); f.Git.Commit != want || !reflect.DeepEqual(f.Git.Commits, []string{want}) {
			t.Errorf("full scan: %s, want only commit %.7s", describe(f), want)
		}
	}
	if f := one(t, res, kOld); f.Git.Commit != fork || len(f.Git.Commits) != 1 {
		t.Errorf("full scan, key kept through an edit: %s", describe(f))
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
