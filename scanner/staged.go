package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cds-snc/notifyscan/internal/ignore"
)

// ErrBareRepository is wrapped when a scan needs a work tree and the
// repository has none.
var ErrBareRepository = errors.New("a bare repository has no index to scan")

// ScanStaged scans what `git commit` would add: every file staged in the
// index (GIT_INDEX_FILE is honoured, as in a pre-commit hook) that differs
// from HEAD, or every staged file when the repository has no commit yet.
// Findings are placed at the staged file's lines. A key that the file
// already held at HEAD is not reported (the commit does not add it; the
// history scan reports it). The work tree's .notifyscanignore applies.
//
// It needs the git binary (ErrNoGit otherwise) and starts three git
// processes: rev-parse, diff --cached and one cat-file for the staged
// blobs (a fourth only when a modified file holds a key).
func ScanStaged(ctx context.Context, repo string, opts Options) (*Result, error) {
	bin := gitBinary()
	if bin == "" {
		return nil, ErrNoGit
	}
	r, err := openGitRepo(ctx, bin, repo)
	if err != nil {
		return nil, err
	}
	if r.top == "" {
		return nil, fmt.Errorf("%s: %w", repo, ErrBareRepository)
	}
	ign, err := ignore.Load(r.top + "/" + ignore.FileName)
	if err != nil {
		return nil, err
	}
	out, err := r.output(ctx, nil, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev",
		"--no-color", "--no-ext-diff", "--ignore-submodules=all")
	if err != nil {
		return nil, err
	}
	entries, err := parseRawZ(out)
	if err != nil {
		return nil, err
	}

	s := newObjScan(opts.NoDecode)
	s.hint, s.paths = map[string]bool{}, map[string]string{}
	var ids []string
	for _, e := range entries {
		if e.newMode == "160000" || zeroOID(e.new) {
			continue // deleted, or a submodule
		}
		if _, seen := s.paths[e.new]; !seen {
			ids = append(ids, e.new)
			s.paths[e.new] = e.path
		}
		s.hint[e.new] = s.hint[e.new] || pathHintsNotify(e.path)
	}
	if len(ids) > 0 {
		n := min(max(1, len(ids)/64), opts.gitWorkers())
		err = r.readObjects(ctx, n, s, func(ctx context.Context, out chan<- catBatch) error {
			return sendBatches(ctx, ids, out)
		}, nil)
		if err != nil {
			return nil, err
		}
	}

	// The keys each modified file already had at HEAD.
	var olds []string
	for _, e := range entries {
		if s.blobs[e.new] != nil && !zeroOID(e.old) && e.oldMode != "160000" {
			olds = append(olds, e.old)
		}
	}
	had := map[string]map[string]bool{} // old blob -> fingerprints
	if len(olds) > 0 {
		old := newObjScan(opts.NoDecode)
		old.hint = s.hint
		old.paths = map[string]string{}
		for _, e := range entries {
			old.paths[e.old] = e.path
		}
		err = r.catFile(ctx, 1, batchesOf(olds), func() catHandler {
			h := old.handler(ctx)
			h.fail = func(id string, err error) { s.fail("HEAD blob "+id, err) }
			return h
		})
		if err != nil {
			return nil, err
		}
		for id, hits := range old.blobs {
			had[id] = map[string]bool{}
			for i := range hits {
				had[id][hits[i].f.Key.Fingerprint()] = true
			}
		}
	}

	c := &collector{errors: s.errs}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.path] || e.newMode == "160000" {
			continue
		}
		seen[e.path] = true
		// A container that could not be read completely leaves the scan
		// incomplete, unless the ignore file names the path.
		if ae := s.archErrs[e.new]; ae != nil && !ign.Path(e.path) {
			c.fail(e.path, ae)
		}
		for _, h := range s.blobs[e.new] {
			if had[e.old][h.f.Key.Fingerprint()] {
				continue
			}
			h.f.Path = e.path
			h.f.Container = memberPath(e.path, h.f.Container)
			c.add(h, ign, e.path)
		}
	}
	res := c.result()
	res.Stats = Stats{Files: s.nFiles.Load(), Bytes: s.nBytes.Load(), Blobs: s.nBlobs.Load()}
	return res, nil
}

// rawEntry is one line of `git diff --raw -z`.
type rawEntry struct {
	oldMode, newMode string
	old, new         string
	status           string
	path             string
}

// parseRawZ parses `git diff --raw -z --no-renames` output.
func parseRawZ(out []byte) ([]rawEntry, error) {
	var entries []rawEntry
	toks := bytes.Split(out, []byte{0})
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if len(t) == 0 {
			continue
		}
		if t[0] != ':' || i+1 >= len(toks) {
			return nil, fmt.Errorf("git diff: unexpected output %.80q", t)
		}
		f := strings.Fields(string(t[1:]))
		if len(f) < 5 {
			return nil, fmt.Errorf("git diff: unexpected output %.80q", t)
		}
		i++
		entries = append(entries, rawEntry{oldMode: f[0], newMode: f[1], old: f[2], new: f[3], status: f[4], path: string(toks[i])})
	}
	return entries, nil
}

// batchesOf is a closed channel holding ids as batches.
func batchesOf(ids []string) <-chan catBatch {
	ch := make(chan catBatch, len(ids)/batchObjects+1)
	for len(ids) > 0 {
		n := min(len(ids), batchObjects)
		ch <- catBatch(ids[:n])
		ids = ids[n:]
	}
	close(ch)
	return ch
}
