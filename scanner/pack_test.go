package scanner

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// historyWithDeltas builds a repository whose files change a little in
// each of many commits, so that a repack stores most versions as deltas,
// with keys in a deleted file, a side branch and a message.
func historyWithDeltas(t *testing.T, initArgs ...string) (*testRepo, []string) {
	t.Helper()
	r := newTestRepo(t, initArgs...)
	keys := []string{gitKey("deleted"), gitKey("side"), gitKey("message"), gitKey("late")}
	var body strings.Builder
	for i := range 200 {
		fmt.Fprintf(&body, "line %d of a file that changes a little in every commit\n", i)
	}
	text := body.String()
	for c := range 30 {
		files := map[string]string{
			"src/app.go":    strings.Replace(text, fmt.Sprintf("line %d ", c*5), fmt.Sprintf("LINE %d changed in %d ", c*5, c), 1),
			"docs/notes.md": text[:len(text)-c*100],
		}
		switch c {
		case 5:
			files["config/.env"] = "NOTIFY_API_KEY=" + keys[0] + "\n"
		case 6:
			files["config/.env"] = ""
		case 20:
			files["src/app.go"] += "const notifyKey = \"" + keys[3] + "\"\n"
		}
		text = files["src/app.go"]
		msg := fmt.Sprintf("commit %d", c)
		if c == 12 {
			msg += "\n\nleaked " + keys[2]
		}
		r.commit(msg, files)
	}
	r.git("checkout", "-q", "-b", "side", "HEAD~10")
	r.commit("side", map[string]string{"side.env": "K=" + keys[1] + "\n"})
	r.git("checkout", "-q", "main")
	r.git("tag", "-a", "v1", "-m", "release")
	return r, keys
}

// gitObjectID is the id git gives an object of type typ with content.
func gitObjectID(hashLen int, typ string, content []byte) string {
	var h hash.Hash = sha1.New()
	if hashLen == 32 {
		h = sha256.New()
	}
	fmt.Fprintf(h, "%s %d\x00", typ, len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// readAllPacked runs the pack reader over a repository's packs and checks
// every object it hands on against its id. It returns the ids handed on
// and the ids left for git.
func readAllPacked(t *testing.T, dir string) (got, left []string) {
	t.Helper()
	objDir := filepath.Join(dir, ".git", "objects")
	if _, err := os.Stat(objDir); err != nil {
		objDir = filepath.Join(dir, "objects")
	}
	packs, complete := openPacks(objDir)
	defer closePacks(packs)
	if len(packs) == 0 || !complete {
		t.Fatalf("no packs read in %s (complete %v)", objDir, complete)
	}
	var mu sync.Mutex
	left, err := readPacks(context.Background(), 3, packs, func() catHandler {
		return catHandler{
			object: func(id, typ string, size int64, body io.Reader) error {
				b, err := io.ReadAll(body)
				if err != nil {
					return err
				}
				if int64(len(b)) != size {
					t.Errorf("%s: size %d, read %d", id, size, len(b))
				}
				if want := gitObjectID(len(id)/2, typ, b); want != id {
					t.Errorf("object handed on as %s %s hashes to %s", typ, id, want)
				}
				mu.Lock()
				got = append(got, id)
				mu.Unlock()
				return nil
			},
			fail: func(id string, err error) { t.Errorf("%s: %v", id, err) },
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got, left
}

// deltaCounts counts the offset and ref deltas in a repository's packs.
func deltaCounts(t *testing.T, dir string) (ofs, ref int) {
	t.Helper()
	packs, _ := openPacks(filepath.Join(dir, ".git", "objects"))
	defer closePacks(packs)
	for _, p := range packs {
		g := newPackGraph(p)
		for e := range p.n {
			switch g.typ[e] {
			case packOfsDelta:
				ofs++
			case packRefDelta:
				ref++
			}
		}
	}
	return ofs, ref
}

// packedIDs lists the objects in a repository's packs, as git show-index
// reads their indexes.
func packedIDs(t *testing.T, r *testRepo) []string {
	t.Helper()
	idxs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.idx"))
	seen := map[string]bool{}
	for _, idx := range idxs {
		f, err := os.Open(idx)
		if err != nil {
			t.Fatal(err)
		}
		cmd := r.gitCmd("show-index", "--object-format="+r.git("rev-parse", "--show-object-format"))
		cmd.Stdin = f
		out, err := cmd.Output()
		f.Close()
		if err != nil {
			t.Fatalf("git show-index: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) >= 2 {
				seen[f[1]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// TestPackReaderObjects: every object in the packs is handed on once with
// exactly git's content (its hash is its id), nothing is left for git, in
// packs of every kind git writes: offset deltas with deep chains, ref
// deltas, several packs with objects in common, SHA-256.
func TestPackReaderObjects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		init   []string
		repack [][]string
	}{
		{"gc", nil, [][]string{{"gc", "-q"}}},
		{"deep-chains", nil, [][]string{{"repack", "-a", "-d", "-f", "-q", "--depth=250", "--window=250"}}},
		{"ref-deltas", nil, [][]string{{"-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "-q"}}},
		{"overlapping-packs", nil, [][]string{{"repack", "-q"}, {"repack", "-a", "-q"}}},
		{"many-packs", nil, [][]string{{"repack", "-q"}, {"commit"}, {"repack", "-a", "-q"}, {"commit"}, {"repack", "-q"}, {"commit"}, {"repack", "-a", "-q"}}},
		{"sha256", []string{"--object-format=sha256"}, [][]string{{"gc", "-q"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := historyWithDeltas(t, tc.init...)
			for i, args := range tc.repack {
				if args[0] == "commit" {
					r.commit("more", map[string]string{fmt.Sprintf("more%d.txt", i): strings.Repeat("more text\n", i+1)})
					continue
				}
				r.git(args...)
			}
			if idxs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.idx")); tc.name == "many-packs" && len(idxs) < 4 {
				t.Fatalf("%d packs, want 4", len(idxs))
			}
			got, left := readAllPacked(t, r.dir)
			if len(left) != 0 {
				t.Errorf("%d objects left for git: %v", len(left), left[:min(5, len(left))])
			}
			want := packedIDs(t, r)
			if !slices.Equal(got, want) {
				t.Errorf("handed on %d objects, git has %d packed", len(got), len(want))
			}
			if len(want) < 100 {
				t.Errorf("only %d packed objects: the history is too small to test", len(want))
			}
			ofs, ref := deltaCounts(t, r.dir)
			if tc.name == "ref-deltas" && ref == 0 || tc.name != "ref-deltas" && ofs == 0 {
				t.Errorf("the packs hold %d offset and %d ref deltas: nothing to test", ofs, ref)
			}
		})
	}
}

// TestPackScanSameAsLoose: a history scan finds the same keys, at the same
// places, with the same counts, whether git reads loose objects or this
// reader reads packs, and in a mix of both.
func TestPackScanSameAsLoose(t *testing.T) {
	r, keys := historyWithDeltas(t)
	want := scanGit(t, r.dir, GitOptions{})
	if len(want.Findings) != len(keys) {
		t.Fatalf("loose: want %d findings, got\n%s", len(keys), dump(want))
	}
	r.git("gc", "-q")
	if got := scanGit(t, r.dir, GitOptions{}); !reflect.DeepEqual(got.Findings, want.Findings) || got.Stats != want.Stats {
		t.Errorf("packed differs from loose:\n%s\n%+v\nwant\n%s\n%+v", dump(got), got.Stats, dump(want), want.Stats)
	}
	wt := filepath.Join(t.TempDir(), "wt")
	r.git("worktree", "add", "-q", "--detach", wt, "HEAD")
	// The same findings (the work tree's detached HEAD is one more ref).
	got := scanGit(t, wt, GitOptions{})
	same := len(got.Findings) == len(want.Findings)
	for i := 0; same && i < len(got.Findings); i++ {
		g, w := got.Findings[i], want.Findings[i]
		same = g.Path == w.Path && g.Line == w.Line && g.Git.Commit == w.Git.Commit && g.Fingerprint() == w.Fingerprint()
	}
	if !same || got.Stats != want.Stats {
		t.Errorf("from a linked work tree:\n%s\nwant\n%s", dump(got), dump(want))
	}
	k := gitKey("loose")
	r.commit("after the pack", map[string]string{"late.env": "K=" + k + "\n"})
	mixed := scanGit(t, r.dir, GitOptions{})
	one(t, mixed, k)
	if len(mixed.Findings) != len(keys)+1 {
		t.Errorf("packed and loose: want %d findings, got\n%s", len(keys)+1, dump(mixed))
	}
	// A clone that borrows the objects (alternates): git lists them.
	shared := filepath.Join(t.TempDir(), "shared")
	r.git("clone", "-q", "--shared", "--mirror", r.dir, shared)
	if got := scanGit(t, shared, GitOptions{}); len(got.Findings) != len(keys)+1 {
		t.Errorf("a clone with alternates: want %d findings, got\n%s", len(keys)+1, dump(got))
	}
	// Without git: packs in-process, loose objects through go-git.
	gg, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{})
	if err != nil || !reflect.DeepEqual(gg.Findings, mixed.Findings) || gg.Stats != mixed.Stats || len(gg.Errors) != 0 {
		t.Errorf("go-git, packed and loose: %v\n%s\nwant\n%s", err, dump(gg), dump(mixed))
	}
	// Objects both loose and packed (repack without -d) are read once.
	r.git("repack", "-q")
	if got := scanGit(t, r.dir, GitOptions{}); got.Stats != mixed.Stats {
		t.Errorf("loose copies of packed objects: stats %+v, want %+v", got.Stats, mixed.Stats)
	}
	if gg, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{}); err != nil || gg.Stats != mixed.Stats {
		t.Errorf("go-git, loose copies of packed objects: %v, stats %+v, want %+v", err, gg.Stats, mixed.Stats)
	}
}

// TestPackLargeObjectsLeftToGit: objects over the in-process limit, and
// the deltas on them, are read by git cat-file, with the same result.
func TestPackLargeObjectsLeftToGit(t *testing.T) {
	r, keys := historyWithDeltas(t)
	r.git("gc", "-q")
	want := scanGit(t, r.dir, GitOptions{})
	old := maxPackObject
	maxPackObject = 4 << 10
	defer func() { maxPackObject = old }()
	_, left := readAllPacked(t, r.dir)
	if len(left) == 0 {
		t.Fatal("no object left for git with a 4 KiB limit")
	}
	got := scanGit(t, r.dir, GitOptions{})
	if !reflect.DeepEqual(got.Findings, want.Findings) || got.Stats != want.Stats || len(got.Findings) != len(keys) {
		t.Errorf("with a 4 KiB limit:\n%s\nwant\n%s", dump(got), dump(want))
	}
}

// TestPackCorruptEntry: a damaged entry is left to git, which reports it;
// the keys in the other objects are still found.
func TestPackCorruptEntry(t *testing.T) {
	r, keys := historyWithDeltas(t)
	r.git("gc", "-q")
	victim := r.git("rev-parse", "HEAD:docs/notes.md")
	packs, complete := openPacks(filepath.Join(r.dir, ".git", "objects"))
	if len(packs) != 1 || !complete {
		t.Fatalf("packs: %d", len(packs))
	}
	p := packs[0]
	raw, _ := hex.DecodeString(victim)
	pos := p.find(raw)
	if pos < 0 {
		t.Fatalf("%s not in the pack", victim)
	}
	off := p.offs[pos]
	i, _ := p.entryAt(off)
	start, end := off, p.end(i)
	path := p.path
	closePacks(packs)

	mid := (start + end) / 2
	damage(t, path, span(int(mid), int(min(end, mid+4)))...)
	res, err := ScanGit(context.Background(), r.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, e := range res.Errors {
		named = named || strings.Contains(e.Input, victim)
	}
	if !named {
		t.Errorf("want an input error naming %s, got %v", victim, res.Errors)
	}
	for _, k := range keys {
		one(t, res, k)
	}
	gg, err := scanHistoryGoGit(context.Background(), r.dir, GitOptions{})
	if err != nil || len(gg.Errors) == 0 || len(gg.Findings) != len(keys) {
		t.Errorf("go-git: %v, errors %v, findings\n%s", err, gg.Errors, dump(gg))
	}
}

// TestApplyDelta rebuilds an object from copies and inserts, and refuses
// deltas that do not fit their base or their stated size.
func TestApplyDelta(t *testing.T) {
	base := []byte("0123456789abcdef")
	// src 16, dst 9: copy 4 bytes from offset 10, insert "XYZ", copy 2 from 0.
	delta := []byte{16, 9, 0x80 | 0x01 | 0x10, 10, 4, 3, 'X', 'Y', 'Z', 0x80 | 0x10, 2}
	got, err := applyDelta(base, delta, nil, 1<<20)
	if err != nil || string(got) != "abcdXYZ01" {
		t.Fatalf("applyDelta = %q, %v", got, err)
	}
	for name, bad := range map[string][]byte{
		"wrong base size":    {15, 9, 0x91, 10, 4},
		"copy past the base": {16, 9, 0x91, 14, 4},
		"short result":       {16, 10, 0x91, 10, 4, 3, 'X', 'Y', 'Z', 0x90, 2},
		"long insert":        {16, 2, 3, 'X', 'Y', 'Z'},
		"reserved op":        {16, 1, 0},
		"truncated copy":     {16, 4, 0x91, 10},
		"truncated insert":   {16, 3, 3, 'X'},
	} {
		if _, err := applyDelta(base, bad, nil, 1<<20); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := applyDelta(base, delta, nil, 8); !errors.Is(err, errPackTooBig) {
		t.Errorf("over the limit: %v", err)
	}
}

// FuzzApplyDelta: any delta either fails or yields exactly its stated
// size within the limit; never a panic.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), []byte{16, 9, 0x91, 10, 4, 3, 'X', 'Y', 'Z', 0x90, 2})
	f.Add([]byte{}, []byte{0, 0x80, 1, 0x90})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		got, err := applyDelta(base, delta, nil, 1<<16)
		if err != nil {
			return
		}
		if len(got) > 1<<16 {
			t.Fatalf("result of %d bytes over the limit", len(got))
		}
	})
}

// FuzzPackIndex: a damaged index is refused or read without a panic.
func FuzzPackIndex(f *testing.F) {
	f.Add([]byte("\377tOc\x00\x00\x00\x02"))
	if gitBinary() != "" {
		r := newTestRepo(f)
		r.commit("one", map[string]string{"a": "a\n", "b/c": "c\n"})
		r.git("gc", "-q")
		idxs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.idx"))
		for _, name := range idxs {
			if idx, err := os.ReadFile(name); err == nil {
				f.Add(idx)
			}
		}
	}
	f.Fuzz(func(t *testing.T, idx []byte) {
		p := &packFile{}
		if err := p.parseIndex(idx); err != nil {
			return
		}
		for i := range p.n {
			p.find(p.id(uint32(i)))
		}
	})
}

// TestPackDamagedBytes: flipping bytes anywhere in a pack never makes the
// reader panic or hand on an object whose content does not hash to its id:
// a damaged entry is left for git.
func TestPackDamagedBytes(t *testing.T) {
	r, _ := historyWithDeltas(t)
	r.git("gc", "-q")
	idxs, _ := filepath.Glob(filepath.Join(r.dir, ".git", "objects", "pack", "*.idx"))
	if len(idxs) != 1 {
		t.Fatalf("packs: %v", idxs)
	}
	base := strings.TrimSuffix(idxs[0], ".idx")
	idx, err := os.ReadFile(base + ".idx")
	if err != nil {
		t.Fatal(err)
	}
	pack, err := os.ReadFile(base + ".pack")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	damaged := 0
	for round := range 40 {
		dir := filepath.Join(t.TempDir(), "objects")
		if err := os.MkdirAll(filepath.Join(dir, "pack"), 0o755); err != nil {
			t.Fatal(err)
		}
		b := slices.Clone(pack)
		for range 1 + round%4 {
			b[12+rng.IntN(len(b)-12)] ^= byte(1 + rng.IntN(255))
		}
		name := filepath.Join(dir, "pack", "pack-x")
		if err := os.WriteFile(name+".idx", idx, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name+".pack", b, 0o644); err != nil {
			t.Fatal(err)
		}
		handed, left := readAllPacked(t, filepath.Dir(dir))
		damaged += len(left)
		if len(handed)+len(left) != bytesCount(idx) {
			t.Errorf("round %d: %d handed on and %d left of %d objects", round, len(handed), len(left), bytesCount(idx))
		}
	}
	if damaged == 0 {
		t.Error("no damaged object was left for git in 40 rounds")
	}
}

// bytesCount is the number of objects in a version 2 index.
func bytesCount(idx []byte) int {
	return int(binary.BigEndian.Uint32(idx[8+255*4:]))
}
