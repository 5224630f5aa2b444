package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestGitHistory builds one repository with a key in every place history
// hides one and checks each finding and its provenance.
func TestGitHistory(t *testing.T) {
	r := newTestRepo(t)
	kDeleted, kSide, kKept := gitKey("deleted"), gitKey("side"), gitKey("kept")
	kMsg, kTagMsg, kStash, kNote := gitKey("msg"), gitKey("tagmsg"), gitKey("stash"), gitKey("note")
	kLight, kRemote, kTwo := gitKey("light"), gitKey("remote"), gitKey("two")

	root := r.commit("initial", map[string]string{"README.md": "hello\n"})
	intro := r.commit("add config", map[string]string{"config/app.env": "A=1\nNOTIFY_API_KEY=" + kDeleted + "\n"})
	r.commit("remove config", map[string]string{"config/app.env": ""})
	keptIntro := r.commit("settings", map[string]string{"settings.py": "# settings\nKEY = '" + kKept + "'\n"})
	for i := range 5 { // the same key in many commits: one finding
		r.commit("tweak", map[string]string{"settings.py": strings.Repeat("# more\n", i+1) + "# settings\nKEY = '" + kKept + "'\n"})
	}
	r.commit("two files", map[string]string{"a/one.txt": "k=" + kTwo + "\n", "b/two.txt": "\n\nk=" + kTwo + "\n"})
	r.commit("fix login\n\nused "+kMsg+" while debugging", nil)
	r.git("tag", "-a", "v1", "-m", "release\n\nrollback "+kTagMsg)

	r.git("checkout", "-q", "-b", "side", root)
	sideCommit := r.commit("side work", map[string]string{"side.yaml": "notify_api_key: " + kSide + "\n"})
	r.git("checkout", "-q", "-b", "light", root)
	r.commit("light", map[string]string{"l.txt": kLight + "\n"})
	r.git("tag", "lt")
	r.git("checkout", "-q", "main")
	r.git("branch", "-D", "light") // reachable through the lightweight tag only

	// A remote-tracking branch.
	r.git("checkout", "-q", "-b", "tmp", root)
	remoteCommit := r.commit("remote", map[string]string{"r.txt": kRemote + "\n"})
	r.git("update-ref", "refs/remotes/origin/feature", remoteCommit)
	r.git("checkout", "-q", "main")
	r.git("branch", "-D", "tmp")

	// Stash and notes.
	r.write(map[string]string{"wip.txt": kStash + "\n"})
	r.git("add", "wip.txt")
	r.git("stash")
	r.write(map[string]string{"wip.txt": "later\n"})
	r.git("add", "wip.txt")
	r.git("stash") // the first stash is now stash@{1}, in the reflog only
	r.git("notes", "add", "-m", "note: "+kNote, root)
	// A tag naming a blob directly.
	kBlobTag := gitKey("blobtag")
	blobFile := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(blobFile, []byte(kBlobTag+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git("tag", "blobtag", r.git("hash-object", "-w", blobFile))

	res := scanGit(t, r.dir, GitOptions{})
	t.Log("\n" + dump(res))

	f := one(t, res, kDeleted)
	if f.Path != "config/app.env" || f.Line != 2 || f.Column != 16 || f.Git.Commit != intro || f.Git.AtHead {
		t.Errorf("deleted key: %s", describe(f))
	}
	if f.Git.Author != "Ada Tester" || f.Git.AuthorEmail != "ada@example.org" || f.Git.Date != "2024-01-01T00:02:00Z" {
		t.Errorf("deleted key author: %+v", f.Git)
	}
	if !reflect.DeepEqual(f.Git.Commits, []string{intro}) || !contains(f.Git.Refs, "refs/heads/main") || !contains(f.Git.Refs, "refs/tags/v1") {
		t.Errorf("deleted key provenance: %+v", f.Git)
	}

	f = one(t, res, kKept)
	if f.Path != "settings.py" || f.Line != 2 || f.Git.Commit != keptIntro || !f.Git.AtHead || len(f.Git.Commits) != 1 {
		t.Errorf("kept key: %s", describe(f))
	}

	fs := byFP(res, fpOf(t, kTwo))
	if len(fs) != 2 || fs[0].Path != "a/one.txt" || fs[1].Path != "b/two.txt" || fs[1].Line != 3 {
		t.Errorf("same key in two files: want 2 findings, got\n%s", dump(res))
	}

	f = one(t, res, kSide)
	if f.Path != "side.yaml" || f.Git.Commit != sideCommit || !reflect.DeepEqual(f.Git.Refs, []string{"refs/heads/side"}) {
		t.Errorf("side key: %s", describe(f))
	}
	f = one(t, res, kLight)
	if !reflect.DeepEqual(f.Git.Refs, []string{"refs/tags/lt"}) {
		t.Errorf("lightweight tag key: %s", describe(f))
	}
	f = one(t, res, kRemote)
	if !reflect.DeepEqual(f.Git.Refs, []string{"refs/remotes/origin/feature"}) {
		t.Errorf("remote key: %s", describe(f))
	}
	f = one(t, res, kStash)
	if f.Path != "wip.txt" || !reflect.DeepEqual(f.Git.Refs, []string{"refs/stash@{1}"}) {
		t.Errorf("stash key: %s", describe(f))
	}
	f = one(t, res, kNote)
	if !contains(f.Git.Refs, "refs/notes/commits") || !strings.HasPrefix(f.Path, root[:2]) {
		t.Errorf("note key: %s", describe(f))
	}
	f = one(t, res, kMsg)
	if f.Path != CommitMessagePath || !f.Git.Message || f.Line != 3 || f.Column != 6 || f.Git.AtHead {
		t.Errorf("message key: %s", describe(f))
	}
	f = one(t, res, kTagMsg)
	if f.Path != TagMessagePath || !f.Git.Message || f.Line != 3 || !reflect.DeepEqual(f.Git.Refs, []string{"refs/tags/v1"}) {
		t.Errorf("tag message key: %s", describe(f))
	}
	f = one(t, res, kBlobTag)
	if f.Path != "refs/tags/blobtag" || !reflect.DeepEqual(f.Git.Refs, []string{"refs/tags/blobtag"}) {
		t.Errorf("tag naming a blob: %s", describe(f))
	}
	if len(res.Findings) != 12 || res.Unreachable != 0 {
		t.Errorf("want 12 findings and none unreachable, got %d, %d", len(res.Findings), res.Unreachable)
	}
	if res.Stats.Commits == 0 || res.Stats.Blobs == 0 || res.Stats.Bytes == 0 {
		t.Errorf("stats: %+v", res.Stats)
	}
	noSecrets(t, res, kDeleted, kSide, kKept, kMsg, kTagMsg, kStash, kNote, kLight, kRemote, kTwo, kBlobTag)
}

func TestGitBare(t *testing.T) {
	r := newTestRepo(t)
	k := gitKey("bare")
	r.commit("one", map[string]string{"x.env": "KEY=" + k + "\n"})
	bare := filepath.Join(t.TempDir(), "b.git")
	r.git("clone", "-q", "--bare", r.dir, bare)
	res := scanGit(t, bare, GitOptions{})
	f := one(t, res, k)
	if f.Path != "x.env" || !f.Git.AtHead {
		t.Errorf("bare: %s", describe(f))
	}
}

func TestGitUnreachable(t *testing.T) {
	r := newTestRepo(t)
	k := gitKey("gone")
	r.commit("one", map[string]string{"a.txt": "a\n"})
	lost := r.commit("oops", map[string]string{"secret.env": "K=" + k + "\n"})
	r.git("reset", "-q", "--hard", "HEAD~1")
	r.git("reflog", "expire", "--expire=now", "--all")

	res := scanGit(t, r.dir, GitOptions{})
	if len(res.Findings) != 0 || res.Unreachable != 1 {
		t.Fatalf("without --all-objects: want no finding and 1 unreachable, got %d, %d\n%s", len(res.Findings), res.Unreachable, dump(res))
	}
	res = scanGit(t, r.dir, GitOptions{AllObjects: true})
	f := one(t, res, k)
	if f.Path != "secret.env" || f.Git.Commit != lost || len(f.Git.Refs) != 0 {
		t.Errorf("dangling commit: %s", describe(f))
	}

	// A blob that was staged and never committed.
	k2 := gitKey("staged-only")
	r.write(map[string]string{"b.txt": k2 + "\n"})
	r.git("add", "b.txt")
	r.git("reset", "-q")
	res = scanGit(t, r.dir, GitOptions{AllObjects: true})
	f = one(t, res, k2)
	if !strings.HasPrefix(f.Path, ".git/objects/") || f.Git.Blob == "" {
		t.Errorf("dangling blob: %s", describe(f))
	}
}

func TestGitErrors(t *testing.T) {
	needGit(t)
	ctx := context.Background()
	if _, err := ScanGit(ctx, t.TempDir(), GitOptions{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("not a repository: %v", err)
	}
	if _, err := ScanGit(ctx, filepath.Join(t.TempDir(), "nope"), GitOptions{}); err == nil {
		t.Errorf("missing directory: no error")
	}
	empty := newTestRepo(t)
	if _, err := ScanGit(ctx, empty.dir, GitOptions{}); !errors.Is(err, ErrNoCommits) {
		t.Errorf("empty repository: %v", err)
	}
}

func TestGitCorruptObject(t *testing.T) {
	r := newTestRepo(t)
	r.commit("one", map[string]string{"a.txt": "some content that is long enough to corrupt\n"})
	blob := r.git("rev-parse", "HEAD:a.txt")
	p := filepath.Join(r.dir, ".git", "objects", blob[:2], blob[2:])
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	n := int(st.Size())
	damage(t, p, n/2, n-3)
	res, err := ScanGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Input, blob) {
		t.Fatalf("corrupt object: want an input error naming %s, got %v", blob, res.Errors)
	}
}

// TestGitGoGitFallback runs the history test's checks through go-git, as
// on a machine without git, and compares with the git binary's findings.
func TestGitGoGitFallback(t *testing.T) {
	r := newTestRepo(t)
	k1, k2, k3 := gitKey("gone"), gitKey("side"), gitKey("msg")
	root := r.commit("one", map[string]string{"a.env": "K=" + k1 + "\n"})
	r.commit("two", map[string]string{"a.env": ""})
	r.git("checkout", "-q", "-b", "side", root)
	r.commit("side\n\n"+k3, map[string]string{"s.env": "K=" + k2 + "\n"})
	r.git("checkout", "-q", "main")
	r.git("tag", "-a", "v1", "-m", "v1")
	r.git("gc", "-q") // packed objects

	want := scanGit(t, r.dir, GitOptions{})
	if len(want.Findings) != 3 {
		t.Fatalf("git: want 3 findings, got\n%s", dump(want))
	}
	got, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Findings, want.Findings) || len(got.Errors) != 0 {
		t.Errorf("go-git differs from git:\n%s\nwant\n%s\nerrors %v", dump(got), dump(want), got.Errors)
	}
	bare := filepath.Join(t.TempDir(), "b.git")
	r.git("clone", "-q", "--bare", r.dir, bare)
	if res, err := scanHistoryGoGit(context.Background(), bare, GitOptions{}); err != nil || !reflect.DeepEqual(res.Findings, want.Findings) {
		t.Errorf("go-git, bare: %v\n%s", err, dump(res))
	}
	if err := os.Mkdir(filepath.Join(r.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res, err := scanHistoryGoGit(context.Background(), filepath.Join(r.dir, "sub"), GitOptions{}); err != nil || len(res.Findings) != 3 {
		t.Errorf("go-git, from a subdirectory: %v", err)
	}
	if _, err := scanHistoryGoGit(context.Background(), t.TempDir(), GitOptions{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("go-git, not a repository: %v", err)
	}
}

// TestGitConcurrencyDeterminism: the same findings, in the same order, at
// any number of readers.
func TestGitConcurrencyDeterminism(t *testing.T) {
	r := newTestRepo(t)
	var keys []string
	for i := range 12 {
		k := gitKey(fmt.Sprintf("k%d", i))
		keys = append(keys, k)
		files := map[string]string{fmt.Sprintf("d%d/f.env", i%4): fmt.Sprintf("%s\nK=%s\n", strings.Repeat("x\n", i), k)}
		if i%3 == 0 {
			files["shared.txt"] = k + "\n"
		}
		r.commit(fmt.Sprintf("c%d", i), files)
	}
	want := scanGit(t, r.dir, GitOptions{Options: Options{Concurrency: 1}})
	for _, k := range keys {
		if len(byFP(want, fpOf(t, k))) == 0 {
			t.Fatalf("key %s not found:\n%s", fpOf(t, k), dump(want))
		}
	}
	for _, j := range []int{2, 8} {
		got := scanGit(t, r.dir, GitOptions{Options: Options{Concurrency: j}})
		if !reflect.DeepEqual(got.Findings, want.Findings) || got.Stats != want.Stats {
			t.Errorf("-j %d differs from -j 1:\n%s\nwant\n%s", j, dump(got), dump(want))
		}
		rng := scanGit(t, r.dir, GitOptions{Options: Options{Concurrency: j}, Range: strings.Repeat("0", 40) + "..HEAD"})
		rng1 := scanGit(t, r.dir, GitOptions{Options: Options{Concurrency: 1}, Range: strings.Repeat("0", 40) + "..HEAD"})
		if !reflect.DeepEqual(rng.Findings, rng1.Findings) {
			t.Errorf("range -j %d differs from -j 1", j)
		}
	}
}

// TestGitLargeBlob streams a blob larger than the matcher's window, with
// keys across window boundaries, without holding it in memory.
func TestGitLargeBlob(t *testing.T) {
	r := newTestRepo(t)
	k1, k2 := gitKey("early"), gitKey("late")
	var b strings.Builder
	b.WriteString("K=" + k1 + "\n")
	line := strings.Repeat("abcdef0123456789-", 6) + "\n"
	for b.Len() < 3*chunkSize-50 {
		b.WriteString(line)
	}
	b.WriteString("K=" + k2 + "\n")
	lines := strings.Count(b.String(), "\n")
	r.commit("big", map[string]string{"big.txt": b.String()})
	res := scanGit(t, r.dir, GitOptions{})
	if f := one(t, res, k2); f.Line != lines || f.Column != 3 {
		t.Errorf("late key: %s, want line %d", describe(f), lines)
	}
	one(t, res, k1)
}

// TestGitCorruptPack: a damaged packed object is an input error, and the
// other objects are still read (git cat-file dies on it and is restarted).
func TestGitCorruptPack(t *testing.T) {
	r := newTestRepo(t)
	k := gitKey("after")
	files := map[string]string{"z.env": "K=" + k + "\n"}
	for i := range 6 {
		files[fmt.Sprintf("f%d.txt", i)] = strings.Repeat(fmt.Sprintf("%d some text that compresses %d\n", i, i*7), 3000)
	}
	r.commit("one", files)
	r.git("gc", "-q")
	packs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	st, err := os.Stat(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	n := int(st.Size())
	damage(t, packs[0], span(n/3, n/3+8)...)
	res, err := ScanGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) == 0 {
		t.Fatalf("corrupt pack: no input error; findings:\n%s", dump(res))
	}
	t.Logf("errors: %v", res.Errors)
}

// TestGitBrokenRef: a ref to a missing object makes the scan incomplete.
func TestGitBrokenRef(t *testing.T) {
	r := newTestRepo(t)
	r.commit("one", map[string]string{"a": "a\n"})
	if err := os.WriteFile(filepath.Join(r.dir, ".git", "refs", "heads", "broken"), []byte(strings.Repeat("12", 20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ScanGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Input != "ref refs/heads/broken" {
		t.Fatalf("broken ref: want one input error, got %v", res.Errors)
	}
	if res, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{}); err == nil && len(res.Errors) == 0 {
		t.Errorf("go-git: broken ref not reported")
	}
}
