package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func places(fs []rules.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d:%d:%s:%s", f.Path, f.Line, f.Column, f.RuleID, f.Tracking))
	}
	return out
}

func TestScanPathsTree(t *testing.T) {
	root := t.TempDir()
	k1, k2 := newKey("one"), newKey("two")
	write(t, root, ".env", "A=1\nNOTIFY_API_KEY="+k1+"\n")
	write(t, root, "src/app.py", "x = 1\r\nkey = '"+k2+"'\r\n")
	write(t, root, "bin/blob.bin", "\x00\x01\x02"+k1+"\x00")
	write(t, root, "notify/legacy.txt", "old-"+rules.NewUUID()+"-"+rules.NewUUID()+"\n")
	write(t, root, "clean.txt", "nothing "+rules.NewUUID()+"\n")
	write(t, root, ".git/objects/ab/cdef", k1) // the object store is the git scan's
	outside := t.TempDir()
	write(t, outside, "secret.env", k2)
	if err := os.Symlink(filepath.Join(outside, "secret.env"), filepath.Join(root, "link.env")); err != nil {
		t.Fatal(err)
	}
	res, err := ScanPaths(context.Background(), []string{root}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := places(res.Findings)
	rel := func(p string) string { return filepath.ToSlash(filepath.Join(root, p)) }
	want := []string{
		rel(".env") + ":2:16:notify-api-key:",
		rel("bin/blob.bin") + ":1:4:notify-api-key:",
		rel("notify/legacy.txt") + ":1:1:notify-legacy-api-key:",
		rel("src/app.py") + ":2:8:notify-api-key:",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	if len(res.Errors) != 0 || res.Stats.Files != 5 {
		t.Fatalf("errors %v, files %d", res.Errors, res.Stats.Files)
	}
}

func TestScanPathsRelativeToArgument(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a/b.env", newKey("x"))
	t.Chdir(root)
	res, err := ScanPaths(context.Background(), []string{"."}, nil, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Path != "a/b.env" {
		t.Fatalf("got %v %v", places(res.Findings), err)
	}
	res, err = ScanPaths(context.Background(), []string{"a"}, nil, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Path != "a/b.env" {
		t.Fatalf("got %v %v", places(res.Findings), err)
	}
}

func TestScanPathsStdinAndMissing(t *testing.T) {
	k := newKey("in")
	res, err := ScanPaths(context.Background(), []string{"-", filepath.Join(t.TempDir(), "nope")}, strings.NewReader("x\n"+k), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := places(res.Findings); len(got) != 1 || got[0] != "-:2:1:notify-api-key:" {
		t.Fatalf("stdin findings %q", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "nope: no such file or directory") {
		t.Fatalf("errors %v", res.Errors)
	}
}

func TestIgnoreFileAndAllow(t *testing.T) {
	root := t.TempDir()
	k := newKey("fixture")
	parsed, _ := rules.ParseKey(k)
	write(t, root, "a.env", k+"\n")                              // ignored by fingerprint
	write(t, root, "testdata/x.env", newKey("t")+"\n")           // ignored by glob
	write(t, root, "b.env", newKey("b")+" # notifyscan:allow\n") // allowed inline
	write(t, root, "c.env", newKey("c")+"\n")                    // reported
	write(t, root, ".notifyscanignore", "# accepted fixture\n"+parsed.Fingerprint()+"\ntestdata/\n")
	res, err := ScanPaths(context.Background(), []string{root}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || !strings.HasSuffix(res.Findings[0].Path, "/c.env") || res.Ignored != 3 {
		t.Fatalf("findings %q ignored %d", places(res.Findings), res.Ignored)
	}
	write(t, root, ".notifyscanignore", "nsfp1:zz\n")
	if _, err := ScanPaths(context.Background(), []string{root}, nil, Options{}); err == nil || !strings.Contains(err.Error(), ".notifyscanignore:1") {
		t.Fatalf("invalid ignore file: %v", err)
	}
}

func TestTracking(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	root := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	write(t, root, ".gitignore", ".env.local\n")
	write(t, root, "tracked.env", newKey("a"))
	write(t, root, ".env.local", newKey("b"))
	write(t, root, "sub/new.env", newKey("c"))
	git("add", ".gitignore", "tracked.env")
	res, err := ScanPaths(context.Background(), []string{root}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		got[filepath.Base(f.Path)] = f.Tracking
	}
	want := map[string]string{"tracked.env": Tracked, ".env.local": Ignored, "new.env": Untracked}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tracking %v", got)
	}
}

func TestDeterministicAtAnyConcurrency(t *testing.T) {
	root := t.TempDir()
	for i := range 60 {
		write(t, root, fmt.Sprintf("d%d/f%d.txt", i%7, i), strings.Repeat("x\n", i)+newKey(fmt.Sprint("k", i))+"\n"+newKey("again"))
	}
	var prev []rules.Finding
	for _, j := range []int{1, 3, 8} {
		res, err := ScanPaths(context.Background(), []string{root}, nil, Options{Concurrency: j})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 120 {
			t.Fatalf("-j %d: %d findings", j, len(res.Findings))
		}
		if prev != nil && !reflect.DeepEqual(places(prev), places(res.Findings)) {
			t.Fatalf("-j %d differs", j)
		}
		prev = res.Findings
	}
}

// A unit that cannot be opened or read is an input error; the rest is scanned.
func TestUnreadableUnitIsAnError(t *testing.T) {
	c := &collector{}
	k := newKey("ok")
	err := runUnits(context.Background(), Options{Concurrency: 2}, c, func(ctx context.Context, send func(unit) error) error {
		units := []unit{
			{path: "locked", open: func() (io.ReadCloser, error) {
				return nil, &os.PathError{Op: "open", Path: "locked", Err: os.ErrPermission}
			}},
			{path: "broken", open: func() (io.ReadCloser, error) {
				return io.NopCloser(io.MultiReader(strings.NewReader("abc"), iotestErrReader{})), nil
			}},
			{path: "fine", open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(k)), nil }},
		}
		for _, u := range units {
			if err := send(u); err != nil {
				return err
			}
		}
		return nil
	})
	res := c.result()
	if err != nil || len(res.Findings) != 1 || len(res.Errors) != 2 {
		t.Fatalf("err %v findings %d errors %v", err, len(res.Findings), res.Errors)
	}
	if res.Errors[0].Error() != "broken: input/output error" || res.Errors[1].Error() != "locked: permission denied" {
		t.Fatalf("errors %q %q", res.Errors[0], res.Errors[1])
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestCancelledScanStops(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		write(t, root, fmt.Sprintf("f%d", i), "x")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanPaths(ctx, []string{root}, nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// An input the ignore file names does not fail the scan when it cannot be
// read fully; the same input elsewhere does.
func TestIgnoredPathErrorsDoNotFail(t *testing.T) {
	root := t.TempDir()
	bomb := gzipOf(t, bytes.Repeat([]byte{0}, 64<<20))
	write(t, root, "fixtures/bomb.gz", string(bomb))
	write(t, root, "other/bomb.gz", string(bomb))
	write(t, root, ".notifyscanignore", "fixtures/**\n")
	res, err := ScanPaths(context.Background(), []string{root}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Input, "other/bomb.gz") {
		t.Fatalf("errors %v", res.Errors)
	}
}
