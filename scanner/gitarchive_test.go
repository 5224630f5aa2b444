package scanner

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"
)

// gitZip is a zip archive of the given members, deflated.
func gitZip(t testing.TB, members map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// archiveRepo commits a zip bomb (at two paths), a corrupt zip, a zip
// holding a key, and a bomb under a path the ignore file names.
func archiveRepo(t *testing.T) (r *testRepo, key string) {
	r = newTestRepo(t)
	key = gitKey("zipped")
	bomb := gitZip(t, map[string][]byte{"zeros.bin": make([]byte, 8<<20)})
	broken := "PK\x03\x04" + strings.Repeat("\x00not a zip at all\xff", 40)
	r.commit("base", map[string]string{"README.md": "hi\n", ".notifyscanignore": "fixtures/**\n"})
	r.commit("archives", map[string]string{
		"assets/bomb.zip":    bomb,
		"copy/bomb.zip":      bomb,
		"assets/broken.zip":  broken,
		"dist/keys.zip":      gitZip(t, map[string][]byte{"conf/.env": []byte("NOTIFY_API_KEY=" + key + "\n")}),
		"fixtures/bomb.zip":  bomb,
		"fixtures/other.zip": broken,
	})
	return r, key
}

// checkArchiveResult: the bombs and the corrupt zip are input errors at
// their paths, the ignored paths are not, and the key in the zip is found
// with its member.
func checkArchiveResult(t *testing.T, what string, res *Result, key string) {
	t.Helper()
	want := map[string]error{"assets/bomb.zip": ErrArchiveBomb, "copy/bomb.zip": ErrArchiveBomb, "assets/broken.zip": ErrArchiveCorrupt}
	for _, e := range res.Errors {
		kind, ok := want[e.Input]
		if !ok {
			t.Errorf("%s: unexpected input error %v", what, e)
			continue
		}
		delete(want, e.Input)
		var ae *ArchiveError
		if !errors.As(e, &ae) || !errors.Is(e, kind) {
			t.Errorf("%s: %s: want an *ArchiveError wrapping %v, got %v", what, e.Input, kind, e.Err)
		}
	}
	for path := range want {
		t.Errorf("%s: no input error for %s; errors: %v", what, path, res.Errors)
	}
	f := one(t, res, key)
	if f.Path != "dist/keys.zip" || f.Container != "dist/keys.zip!conf/.env" || f.Line != 1 || f.Column != 16 {
		t.Errorf("%s: key in a zip: %s container %q", what, describe(f), f.Container)
	}
}

func scanGitErrs(t *testing.T, dir string, opts GitOptions) *Result {
	t.Helper()
	res, err := ScanGit(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("ScanGit: %v", err)
	}
	return res
}

func TestGitArchiveProblems(t *testing.T) {
	r, key := archiveRepo(t)
	r.commit("later", map[string]string{"README.md": "more\n"})

	checkArchiveResult(t, "full scan", scanGitErrs(t, r.dir, GitOptions{}), key)
	checkArchiveResult(t, "range", scanGitErrs(t, r.dir, GitOptions{Range: "HEAD~2..HEAD"}), key)
	got, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkArchiveResult(t, "go-git", got, key)

	// A range that does not add the archives does not report them.
	if res := scanGitErrs(t, r.dir, GitOptions{Range: "HEAD~1..HEAD"}); len(res.Errors) != 0 || len(res.Findings) != 0 {
		t.Errorf("range without the archives: %v\n%s", res.Errors, dump(res))
	}
	// Without decoding, archives are bytes: nothing to report.
	if res := scanGitErrs(t, r.dir, GitOptions{Options: Options{NoDecode: true}}); len(res.Errors) != 0 {
		t.Errorf("--no-decode: %v", res.Errors)
	}

	// A dangling bomb is the scan's only with --all-objects.
	r.write(map[string]string{"stray.zip": gitZip(t, map[string][]byte{"z": make([]byte, 4<<20)})})
	r.git("add", "stray.zip")
	r.git("reset", "-q")
	if res := scanGitErrs(t, r.dir, GitOptions{}); len(res.Errors) != 3 {
		t.Errorf("dangling bomb without --all-objects: %v", res.Errors)
	}
	res := scanGitErrs(t, r.dir, GitOptions{AllObjects: true})
	n := 0
	for _, e := range res.Errors {
		if strings.HasPrefix(e.Input, ".git/objects/") && errors.Is(e, ErrArchiveBomb) {
			n++
		}
	}
	if n != 1 || len(res.Errors) != 4 {
		t.Errorf("dangling bomb with --all-objects: %v", res.Errors)
	}
}

func TestStagedArchiveProblems(t *testing.T) {
	r, key := archiveRepo(t)
	r.git("reset", "-q", "--soft", "HEAD~1")
	res, err := ScanStaged(context.Background(), r.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkArchiveResult(t, "staged", res, key)
}

// TestGitMessageArchiveProblem: a commit message that is a truncated gzip
// stream is an input error named after the commit.
func TestGitMessageArchiveProblem(t *testing.T) {
	r := newTestRepo(t)
	base := r.commit("base", map[string]string{"a.txt": "a\n"})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("message "), 5000))
	zw.Close()
	tree := r.git("rev-parse", "HEAD^{tree}")
	obj := "tree " + tree + "\nparent " + base + "\nauthor A <a@example.org> 1700000000 +0000\ncommitter A <a@example.org> 1700000000 +0000\n\n" +
		gz.String()[:gz.Len()/2]
	cmd := r.gitCmd("hash-object", "-t", "commit", "-w", "--stdin", "--literally")
	cmd.Stdin = strings.NewReader(obj)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(out))
	r.git("update-ref", "refs/heads/odd", id)

	for _, opts := range []GitOptions{{}, {Range: "main..odd"}} {
		res := scanGitErrs(t, r.dir, opts)
		if len(res.Errors) != 1 || res.Errors[0].Input != CommitMessagePath+" of commit "+id || !errors.Is(res.Errors[0], ErrArchiveCorrupt) {
			t.Errorf("%+v: want one error for the message of %s, got %v", opts, id, res.Errors)
		}
	}
}
