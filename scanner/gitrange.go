package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// maxDeepen is how many times a shallow clone is deepened (50, 100, 200,
// ... commits) before the rest of its history is fetched at once.
const maxDeepen = 5

// scanRange scans the commits of opts.Range: every commit reachable from
// HEAD and not from a merge base of BASE and HEAD, and each blob they add.
func (r *gitRepo) scanRange(ctx context.Context, opts GitOptions) (*Result, error) {
	base, head, err := splitRange(opts.Range)
	if err != nil {
		return nil, err
	}
	headID, err := r.resolve(ctx, head)
	if err != nil {
		return nil, r.unknown(head, err)
	}
	var baseID string
	if !zeroOID(base) {
		baseID, err = r.resolve(ctx, base)
		if err != nil && r.shallow && !opts.NoDeepen && hexOID(base) {
			// A pull request's base is often not in a shallow checkout.
			if remote, rerr := r.remote(ctx); rerr == nil {
				if ferr := r.fetch(ctx, "--no-tags", "--depth=50", remote, base); ferr == nil {
					baseID, err = r.resolve(ctx, base)
				}
			}
		}
		if err != nil {
			return nil, r.unknown(base, err)
		}
		if baseID == headID {
			return nil, fmt.Errorf("%w: BASE and HEAD are the same commit (%.12s)", ErrEmptyRange, headID)
		}
	}

	var commits []*logCommit
	var diffs []rangeDiff
	for round := 0; ; round++ {
		exclude, err := r.rangeExclude(ctx, baseID, headID, round, opts)
		if err != nil {
			return nil, err
		}
		commits, diffs = nil, nil
		err = r.logDiffs(ctx, append([]string{headID, "--not"}, exclude...), "", func(c *logCommit, d *logDiff) {
			if d == nil {
				if len(commits) == 0 || commits[len(commits)-1].id != c.id {
					commits = append(commits, c)
				}
				return
			}
			diffs = append(diffs, rangeDiff{c, *d})
		})
		if err != nil {
			return nil, err
		}
		if !r.shallow {
			break
		}
		shallow, err := r.shallowCommits(ctx)
		if err != nil {
			return nil, err
		}
		boundary := slices.ContainsFunc(commits, func(c *logCommit) bool { return shallow[c.id] })
		if !boundary {
			break
		}
		// A commit of the range has parents this clone does not have:
		// the range may be longer than what is here.
		if err := r.deepen(ctx, round, opts); err != nil {
			return nil, err
		}
	}
	if len(commits) == 0 {
		if baseID == "" {
			return nil, fmt.Errorf("%w: every commit of %.12s is already on another branch", ErrEmptyRange, headID)
		}
		return nil, fmt.Errorf("%w: %.12s is already part of BASE's history", ErrEmptyRange, headID)
	}

	// The blobs the range adds, each once, and its commits' messages.
	s := newObjScan(opts.NoDecode)
	s.hint, s.paths = map[string]bool{}, map[string]string{}
	var ids []string
	want := func(id, path string) {
		if _, seen := s.paths[id]; !seen {
			ids = append(ids, id)
			s.paths[id] = path
		}
		s.hint[id] = s.hint[id] || pathHintsNotify(path)
	}
	for _, d := range diffs {
		if d.d.newMode != "160000" && !zeroOID(d.d.new) {
			want(d.d.new, d.d.path)
		}
	}
	for _, c := range commits {
		ids = append(ids, c.id)
	}
	ign, err := r.ignoreList(ctx, headID)
	if err != nil {
		return nil, err
	}
	read := func(ids []string) error {
		return r.readObjects(ctx, opts.gitWorkers(), s, func(ctx context.Context, out chan<- catBatch) error {
			return sendBatches(ctx, ids, out)
		}, nil)
	}
	if err := read(ids); err != nil {
		return nil, err
	}
	// What a blob with keys replaced, when the range did not add it too:
	// the keys it held are not the range's.
	ids = nil
	for _, d := range diffs {
		if s.blobs[d.d.new] == nil {
			continue
		}
		for _, old := range d.d.olds {
			if !zeroOID(old) {
				want(old, d.d.path)
			}
		}
	}
	if len(ids) > 0 {
		if err := read(ids); err != nil {
			return nil, err
		}
	}

	p := newProvenance(s)
	p.introOnly = true
	for _, c := range commits {
		p.commits[c.id] = c
	}
	for i := range diffs {
		p.diff(diffs[i].c, &diffs[i].d)
	}
	p.damagedErrors(ign)
	var msgIDs []string
	for _, c := range commits {
		if s.msgs[c.id] != nil {
			msgIDs = append(msgIDs, c.id)
		}
	}
	s.msgErrors(slices.Sorted(maps.Keys(s.msgErrs)), func(string) bool { return true }, ign)
	p.messageGroups(msgIDs)
	if err := p.markAtHead(ctx, r, headID); err != nil {
		s.fail(head, err)
	}
	c := &collector{errors: s.errs}
	p.findings(ign, nil, c)
	res := c.result()
	res.Stats = Stats{Files: s.nFiles.Load(), Bytes: s.nBytes.Load(), Blobs: s.nBlobs.Load(), Commits: int64(len(commits))}
	return res, nil
}

type rangeDiff struct {
	c *logCommit
	d logDiff
}

// splitRange splits "BASE..HEAD" (or "BASE...HEAD": the merge base is used
// either way); an empty HEAD means HEAD.
func splitRange(rng string) (base, head string, err error) {
	i := strings.Index(rng, "..")
	if i <= 0 {
		return "", "", fmt.Errorf("--range %q: want BASE..HEAD", rng)
	}
	base, head = rng[:i], strings.TrimPrefix(rng[i+2:], ".")
	if head == "" {
		head = "HEAD"
	}
	if strings.HasPrefix(base, "-") || strings.HasPrefix(head, "-") {
		return "", "", fmt.Errorf("--range %q: a revision cannot start with '-'", rng)
	}
	return base, head, nil
}

// resolve names the commit a revision means.
func (r *gitRepo) resolve(ctx context.Context, rev string) (string, error) {
	out, err := r.output(ctx, nil, "rev-parse", "-q", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func (r *gitRepo) unknown(rev string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if r.shallow {
		return fmt.Errorf("%w %q in this shallow clone: %w", ErrUnknownRevision, rev, ErrShallow)
	}
	return fmt.Errorf("%w %q", ErrUnknownRevision, rev)
}

// rangeExclude is where the walk from HEAD stops: the merge bases of BASE
// and HEAD (deepening a shallow clone until there is one), BASE itself for
// unrelated histories, or for a new branch (no BASE) the tips of every
// other branch.
func (r *gitRepo) rangeExclude(ctx context.Context, baseID, headID string, round int, opts GitOptions) ([]string, error) {
	if baseID == "" {
		out, err := r.output(ctx, nil, "for-each-ref", "--format=%(objectname) %(*objectname)", "refs/heads", "refs/remotes")
		if err != nil {
			return nil, err
		}
		var tips []string
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			id := f[len(f)-1] // the peeled id when a ref names a tag
			if id != headID && !slices.Contains(tips, id) {
				tips = append(tips, id)
			}
		}
		return tips, nil
	}
	for {
		out, err := r.output(ctx, nil, "merge-base", "--all", baseID, headID)
		if err == nil {
			return strings.Fields(string(out)), nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !r.shallow {
			// Unrelated histories: everything HEAD has that BASE has not.
			return []string{baseID}, nil
		}
		if err := r.deepen(ctx, round, opts); err != nil {
			return nil, err
		}
		round++
	}
}

// remote is the remote to deepen from: origin, or the only one.
func (r *gitRepo) remote(ctx context.Context) (string, error) {
	out, err := r.output(ctx, nil, "remote")
	if err != nil {
		return "", err
	}
	names := strings.Fields(string(out))
	switch {
	case slices.Contains(names, "origin"):
		return "origin", nil
	case len(names) > 0:
		return names[0], nil
	}
	return "", errors.New("no remote is configured")
}

// deepen fetches more history into a shallow clone, or says why it cannot.
func (r *gitRepo) deepen(ctx context.Context, round int, opts GitOptions) error {
	if opts.NoDeepen {
		return fmt.Errorf("%w (deepening is turned off)", ErrShallow)
	}
	remote, err := r.remote(ctx)
	if err != nil {
		return fmt.Errorf("%w, and %v to fetch more from", ErrShallow, err)
	}
	arg := "--deepen=" + strconv.Itoa(50<<round)
	if round >= maxDeepen {
		arg = "--unshallow"
	}
	if err := r.fetch(ctx, "--no-tags", arg, remote); err != nil {
		return fmt.Errorf("%w; deepening from %s failed: %v", ErrShallow, remote, err)
	}
	out, err := r.output(ctx, nil, "rev-parse", "--is-shallow-repository")
	if err != nil {
		return err
	}
	r.shallow = strings.TrimSpace(string(out)) == "true"
	return nil
}

// fetch runs git fetch quietly.
func (r *gitRepo) fetch(ctx context.Context, args ...string) error {
	_, err := r.output(ctx, nil, append([]string{"fetch", "-q"}, args...)...)
	return err
}

// shallowCommits are the commits whose parents a shallow clone cut off.
func (r *gitRepo) shallowCommits(ctx context.Context) (map[string]bool, error) {
	out, err := r.output(ctx, nil, "rev-parse", "--git-path", "shallow")
	if err != nil {
		return nil, err
	}
	p := strings.TrimSpace(string(out))
	if !strings.HasPrefix(p, "/") && r.top != "" {
		p = r.top + "/" + p
	} else if !strings.HasPrefix(p, "/") {
		p = r.gitDir + "/" + strings.TrimPrefix(p, "./")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return map[string]bool{}, nil
		}
		return nil, err
	}
	set := map[string]bool{}
	for _, l := range bytes.Fields(data) {
		set[string(l)] = true
	}
	return set, nil
}

// sendBatches sends ids in batches.
func sendBatches(ctx context.Context, ids []string, out chan<- catBatch) error {
	for len(ids) > 0 {
		n := min(len(ids), batchObjects)
		select {
		case out <- catBatch(ids[:n]):
		case <-ctx.Done():
			return ctx.Err()
		}
		ids = ids[n:]
	}
	return nil
}
