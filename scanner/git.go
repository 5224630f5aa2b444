package scanner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/cds-snc/notifyscan/internal/ignore"
	"github.com/cds-snc/notifyscan/rules"
)

// GitOptions tune a history scan.
type GitOptions struct {
	Options
	// Range is "BASE..HEAD" (or "BASE...HEAD"; HEAD defaults to HEAD):
	// scan the commits reachable from HEAD and not from the merge base of
	// BASE and HEAD. Empty scans every ref.
	Range string
	// AllObjects also scans unreachable objects in the object store.
	AllObjects bool
	// NoDeepen makes a shallow clone an error instead of deepening it.
	NoDeepen bool
}

// Errors a history or staged scan can wrap. Each means nothing was scanned.
var (
	// ErrNoCommits: the repository has no commits (and no refs).
	ErrNoCommits = errors.New("the repository has no commits")
	// ErrEmptyRange: the range holds no commit (BASE equals HEAD, or HEAD
	// is an ancestor of BASE).
	ErrEmptyRange = errors.New("the range has no commits to scan")
	// ErrUnknownRevision: a revision of the range does not exist here.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrShallow: the range reaches past the history of a shallow clone
	// and it could not (or must not) be deepened.
	ErrShallow = errors.New("the clone is shallow and the range reaches past its history")
	// ErrNoGit: the operation needs the git binary and there is none.
	ErrNoGit = errors.New("this scan needs the git program, which is not on PATH")
)

// ScanGit scans a repository's history (bare or not; repo may be any path
// inside it).
//
// Without a Range it reads every object in the object store once, in
// parallel, and reports keys in everything reachable from any ref (branches,
// remote-tracking branches, tags, stash, notes) or HEAD: file content, commit
// messages (Path CommitMessagePath) and annotated tag messages (Path
// TagMessagePath), with GitProvenance.Message set for the last two. Keys in
// objects that no ref reaches are reported only with AllObjects; without it
// they are counted in Result.Unreachable. A key in a blob that no commit
// reaches (a dangling blob) has the path ".git/objects/<id[:2]>/<id[2:]>";
// one in a blob that a ref names directly has the ref's name as its path.
//
// With a Range it scans the commits in BASE..HEAD (see GitOptions.Range),
// each blob they add once. An all-zero BASE means a new branch: the commits
// of HEAD that are on no other branch. A range with no commit is
// ErrEmptyRange. Only keys that a commit of the range introduces are
// reported: a key that a merge takes from a parent outside the range (a
// branch that merges its base) is not the range's, nor is one that a file
// already held before the range.
//
// A commit introduces a key in a file when its blob differs from the blob
// at that path in every parent (git's combined diff) and no parent's blob
// holds the key: a merge that takes a file from one of its parents
// introduces nothing there, and a key written in the merge itself (an evil
// merge) is the merge's.
//
// One finding is made per key and file, however many commits hold it; the
// same key in two files is two findings with one fingerprint. A finding's
// Line and Column are those of the blob at GitProvenance.Commit, the
// earliest commit (by author date) that introduces the key in the file.
// Refs are worked out for full scans only; AtHead is against HEAD (the
// range's HEAD for a range scan) and is false for messages. A message
// finding's Line counts from the message's first line; for a tag message
// Commit is the tagged commit and Blob the tag object. A finding inside an
// archive has Container "path!member". Objects that cannot be read
// (corrupt, missing, or named by a ref but absent) are in Result.Errors, as
// are blobs and messages in the scan whose containers could not be read
// completely (a decompression bomb, a corrupt archive, a reading limit: an
// *ArchiveError), at each path the blob is at unless the ignore file names
// it; the error is non-nil when the scan could not run.
//
// A full scan reads blob content before any path is known, so an
// unprefixed (legacy) key is reported only with Notify context in the
// content itself; range and staged scans also use the path. Stats.Blobs
// and Stats.Bytes count every object read (in a full scan, unreachable
// ones too); Stats.Commits counts the commits scanned.
//
// How: packs are read in-process (mapped, each entry inflated once, every
// delta applied to its base while the base is in hand, see pack.go), in
// parallel by delta tree; loose objects, and what that reader leaves (a
// damaged entry, a very large object), are read by `git cat-file --batch`
// processes, one per worker, which report what cannot be read. Each blob
// streams into the matcher (a blob of any size uses one window buffer)
// and a few bytes of each tree entry are kept.
// When some blob holds a key, those bytes give the trees that may hold it,
// which are read again with their names, and the commit graph from the
// same pass gives introductions, refs and HEAD.
// The git program is used when it is on PATH; without it, a full scan
// reads loose objects, refs and trees with go-git (older stashes not
// included) and ranges are refused.
func ScanGit(ctx context.Context, repo string, opts GitOptions) (*Result, error) {
	bin := gitBinary()
	if bin == "" {
		if opts.Range != "" {
			return nil, fmt.Errorf("--range: %w", ErrNoGit)
		}
		return scanHistoryGoGit(ctx, repo, opts)
	}
	r, err := openGitRepo(ctx, bin, repo)
	if err != nil {
		return nil, err
	}
	if opts.Range != "" {
		return r.scanRange(ctx, opts)
	}
	return scanHistory(ctx, r, opts)
}

// gitWorkers is the number of cat-file readers, each with its matcher:
// Concurrency when set, else one per CPU and at least two, so that git and
// the matcher overlap. (More readers than CPUs split git's delta cache and
// cost memory for nothing.)
func (o Options) gitWorkers() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return max(2, runtime.GOMAXPROCS(0))
}

// objectSource is how a full scan reaches a repository: the git binary,
// or go-git when there is none.
type objectSource interface {
	// name is the repository as the user named it.
	name() string
	// refs lists every ref, and HEAD's commit ("" when unborn).
	refs(ctx context.Context) ([]gitRef, string, error)
	// ignoreList reads .notifyscanignore from the work tree, or from head
	// in a bare repository.
	ignoreList(ctx context.Context, head string) (*ignore.List, error)
	// readAll hands every blob, commit, tag and tree in the object store
	// to s's handlers.
	readAll(ctx context.Context, workers int, s *objScan) error
	// missing returns those of ids that are not in the object store.
	missing(ctx context.Context, ids []string) ([]string, error)
	// read hands the objects ids to handlers from newHandler.
	read(ctx context.Context, workers int, s *objScan, ids []string, newHandler func(*objScan) catHandler) error
}

func (r *gitRepo) name() string { return r.arg }

func (r *gitRepo) missing(ctx context.Context, ids []string) ([]string, error) {
	out, err := r.output(ctx, strings.NewReader(strings.Join(ids, "\n")+"\n"), "cat-file", "--batch-check=%(objectname)")
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutSuffix(line, " missing"); ok {
			gone = append(gone, id)
		}
	}
	return gone, nil
}

func (r *gitRepo) read(ctx context.Context, workers int, s *objScan, ids []string, newHandler func(*objScan) catHandler) error {
	return r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
		return sendBatches(ctx, ids, out)
	}, newHandler)
}

// scanHistory is the full scan.
func scanHistory(ctx context.Context, r objectSource, opts GitOptions) (*Result, error) {
	refs, head, err := r.refs(ctx)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 && !opts.AllObjects {
		return nil, fmt.Errorf("%s: %w", r.name(), ErrNoCommits)
	}
	ign, err := r.ignoreList(ctx, head)
	if err != nil {
		return nil, err
	}
	s := newObjScan(opts.NoDecode)
	err = r.readAll(ctx, opts.gitWorkers(), s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.fail("object store", err)
	}

	// A ref to an object that is not there is a broken repository, not a
	// ref to skip.
	var unseen []string
	refOf := map[string][]string{}
	for _, ref := range refs {
		id := peelTo(s, ref.id)
		if s.commits[id] == nil && s.blobs[id] == nil {
			if len(refOf[id]) == 0 {
				unseen = append(unseen, id)
			}
			refOf[id] = append(refOf[id], ref.name)
		}
	}
	if len(unseen) > 0 {
		gone, err := r.missing(ctx, unseen)
		if err != nil {
			return nil, err
		}
		for _, id := range gone {
			for _, name := range refOf[id] {
				s.fail("ref "+name, fmt.Errorf("names object %s, which is missing or corrupt", id))
			}
		}
	}

	g := newCommitGraph(s.commits)
	view := newRefView(g, refs, s.tags)
	p := newProvenance(s)
	var tg *treeGraph
	if len(s.blobs) > 0 || len(s.archErrs) > 0 {
		// Provenance, for the blobs with keys (or archive errors) only.
		tg, err = readTrees(ctx, r, s)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.fail("trees", err)
		}
		var walk []string
		for i, id := range g.ids {
			if opts.AllObjects || view.reachable[i] {
				walk = append(walk, id)
			}
		}
		tg.treeDiffs(s, walk, p)
		p.damagedErrors(ign)
	}
	// The messages in the scan: of the commits walked, of the tags a ref
	// reaches.
	inScope := func(id string) bool {
		if _, tag := s.tags[id]; tag {
			return opts.AllObjects || len(view.tagRefs[id]) > 0
		}
		return opts.AllObjects || view.isReachable(id)
	}
	var msgIDs []string
	for id := range s.msgs {
		if inScope(id) {
			msgIDs = append(msgIDs, id)
		}
	}
	slices.Sort(msgIDs)
	p.messageGroups(msgIDs)
	s.msgErrors(slices.Sorted(maps.Keys(s.msgErrs)), inScope, ign)
	if tg != nil && head != "" {
		tg.atHead(s, head, p)
	}

	interesting := map[string]bool{}
	for _, gr := range p.groups {
		for id := range gr.intro {
			interesting[id] = true
		}
		for id := range gr.seen {
			interesting[id] = true
		}
	}
	c := &collector{}
	p.findings(ign, view.refsContaining(interesting), c)

	// Blobs with keys that no walked commit holds: dangling blobs (or
	// reachable only through a ref to a blob or tree).
	reported := map[string]bool{}
	for i := range c.findings {
		reported[c.findings[i].Fingerprint()] = true
	}
	// A ref may name a blob itself (git tag NAME <blob>): its keys are
	// reported at the ref's name.
	blobRefs := map[string][]string{}
	for _, ref := range refs {
		if id := peelTo(s, ref.id); s.blobs[id] != nil {
			blobRefs[id] = append(blobRefs[id], ref.name)
		}
	}
	unreachable := map[string]bool{}
	for _, id := range s.tracked() {
		if p.appears[id] {
			continue
		}
		if names := blobRefs[id]; len(names) > 0 {
			for _, name := range names {
				refBlobFindings(id, name, s.blobs[id], ign, c)
				if ae := s.archErrs[id]; ae != nil {
					s.fail(name, ae)
				}
			}
			continue
		}
		if !opts.AllObjects {
			for i := range s.blobs[id] {
				if fp := s.blobs[id][i].f.Key.Fingerprint(); !reported[fp] {
					unreachable[fp] = true
				}
			}
			continue
		}
		danglingBlobFindings(id, looseObjectPath(id), s.blobs[id], ign, c)
		if ae := s.archErrs[id]; ae != nil {
			s.fail(looseObjectPath(id), ae)
		}
	}
	if !opts.AllObjects {
		for id, mh := range s.msgs {
			if !inScope(id) {
				for i := range mh.hits {
					if fp := mh.hits[i].f.Key.Fingerprint(); !reported[fp] {
						unreachable[fp] = true
					}
				}
			}
		}
	}
	c.errors = s.errs
	res := c.result()
	res.Unreachable = len(unreachable)
	res.Stats = Stats{Files: s.nFiles.Load(), Bytes: s.nBytes.Load(), Blobs: s.nBlobs.Load(), Commits: s.nCommits.Load()}
	if !opts.AllObjects {
		n := 0
		for _, ok := range view.reachable {
			if ok {
				n++
			}
		}
		res.Stats.Commits = int64(n)
	}
	return res, nil
}

// peelTo follows tags from id to what they name.
func peelTo(s *objScan, id string) string {
	for range 100 {
		t, ok := s.tags[id]
		if !ok {
			break
		}
		id = t.id
	}
	return id
}

// refBlobFindings reports the keys of a blob that a ref names directly,
// at the ref's name.
func refBlobFindings(id, ref string, hits []hit, ign *ignore.List, c *collector) {
	n := len(c.findings)
	danglingBlobFindings(id, ref, hits, ign, c)
	for i := n; i < len(c.findings); i++ {
		c.findings[i].Git.Refs = []string{ref}
	}
}

// looseObjectPath is where a blob that no commit holds is reported.
func looseObjectPath(id string) string { return ".git/objects/" + id[:2] + "/" + id[2:] }

// danglingBlobFindings reports the keys of a blob that no commit holds,
// one finding per key, at path (its loose-object path, or a ref's name).
func danglingBlobFindings(id, path string, hits []hit, ign *ignore.List, c *collector) {
	done := map[ckey]bool{}
	for i := range hits {
		k := hitKey(&hits[i])
		if done[k] {
			continue
		}
		done[k] = true
		h := firstHit(hits, k)
		if h.allowed || ign.Fingerprint(k.fp) {
			c.ignored++
			continue
		}
		f := h.f
		f.Path = path
		f.Container = memberPath(path, f.Container)
		f.Git = &rules.GitProvenance{Blob: id}
		c.findings = append(c.findings, f)
	}
}
