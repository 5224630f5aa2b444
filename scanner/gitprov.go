package scanner

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cds-snc/notifyscan/internal/ignore"
	"github.com/cds-snc/notifyscan/rules"
)

// Provenance is worked out only for the objects that hold keys: which
// (commit, path) pairs introduce each key, the earliest of them, the refs
// that contain them, and whether HEAD still has the key.

// logCommit is a commit as git log describes it.
type logCommit struct {
	id          string
	parents     int
	name, email string
	date        string // RFC 3339
	when        int64
}

// logDiff is one path of a commit whose blob differs from the blob at that
// path in every parent: git's combined diff (a merge that takes a file from
// one of its parents does not change it), a plain diff for other commits.
type logDiff struct {
	path    string
	new     string // blob id; all zeros for a deletion
	newMode string
	olds    []string // the blob at path in each parent, all zeros for none (or a submodule); empty for a root commit
}

// logFormat is the commit header of logDiffs' git log; fields are split by
// \x1f, which git never puts in an id and people do not put in names.
const logFormat = "--format=%H %P%x1f%an%x1f%ae%x1f%aI%x1f%at"

// logDiffs runs git log with raw diffs of every commit (a root commit
// against the empty tree, a merge as a combined diff: only the paths that
// differ from every parent) and calls fn for each commit header and each
// changed path. extra are more arguments (revisions); stdin, if not empty,
// is more revisions, one a line.
func (r *gitRepo) logDiffs(ctx context.Context, extra []string, stdin string, fn func(c *logCommit, d *logDiff)) error {
	// -c with --raw is the combined raw format ("::" lines), whatever
	// log.diffMerges says, in every git version.
	args := []string{"log", "-c", "--root", "--raw", "--no-abbrev", "--no-renames", "-z",
		"--no-color", "--no-show-signature", "--no-ext-diff", "--no-textconv", logFormat}
	args = append(args, extra...)
	var in io.Reader
	if stdin != "" {
		args = append(args, "--stdin")
		in = strings.NewReader(stdin)
	}
	return r.stream(ctx, in, func(br *bufio.Reader) error {
		var c *logCommit
		var pending *logDiff // a raw line whose path comes next
		for {
			tok, err := br.ReadBytes(0)
			if err == io.EOF {
				if len(bytes.TrimSpace(tok)) == 0 {
					return nil
				}
			} else if err != nil {
				return err
			}
			if len(tok) > 0 && tok[len(tok)-1] == 0 {
				tok = tok[:len(tok)-1]
			}
			if pending != nil {
				pending.path = string(tok)
				if c != nil {
					fn(c, pending)
				}
				pending = nil
				continue
			}
			tok = bytes.TrimPrefix(tok, []byte{'\n'})
			if len(tok) == 0 {
				if err == io.EOF {
					return nil
				}
				continue
			}
			if tok[0] == ':' {
				d, perr := parseRawLine(tok)
				if perr != nil {
					return perr
				}
				pending = d
				continue
			}
			nc, perr := parseLogHeader(tok)
			if perr != nil {
				return perr
			}
			c = nc
			fn(c, nil)
			if err == io.EOF {
				return nil
			}
		}
	}, args...)
}

// parseRawLine parses the metadata of a raw diff line, plain
// (":100644 100644 <old> <new> M") or combined, one colon, mode and id per
// parent ("::100644 100644 100644 <old1> <old2> <new> MM").
func parseRawLine(tok []byte) (*logDiff, error) {
	n := 0 // parents
	for n < len(tok) && tok[n] == ':' {
		n++
	}
	f := strings.Fields(string(tok[n:]))
	if len(f) < 2*(n+1)+1 {
		return nil, fmt.Errorf("git log: unexpected raw line %.80q", tok)
	}
	modes, ids := f[:n+1], f[n+1:2*(n+1)]
	d := &logDiff{new: ids[n], newMode: modes[n], olds: make([]string, n)}
	for i := range n {
		d.olds[i] = ids[i]
		if modes[i] == "160000" {
			d.olds[i] = strings.Repeat("0", len(ids[i]))
		}
	}
	return d, nil
}

func parseLogHeader(tok []byte) (*logCommit, error) {
	f := strings.Split(string(tok), "\x1f")
	if len(f) != 5 {
		return nil, fmt.Errorf("git log: unexpected commit header %.80q", tok)
	}
	ids := strings.Fields(f[0])
	if len(ids) == 0 || !hexOID(ids[0]) {
		return nil, fmt.Errorf("git log: unexpected commit header %.80q", tok)
	}
	when, _ := strconv.ParseInt(f[4], 10, 64)
	date := f[3]
	if t, err := time.Parse(time.RFC3339, date); err == nil {
		date = t.Format(time.RFC3339) // "Z" for UTC, as parseIdent writes it
	}
	return &logCommit{id: ids[0], parents: len(ids) - 1, name: f[1], email: f[2], date: date, when: when}, nil
}

// ckey is a key within a blob: its fingerprint and archive member.
type ckey struct{ container, fp string }

func hitKey(h *hit) ckey { return ckey{h.f.Container, h.f.Key.Fingerprint()} }

// gkey is what makes one finding: a key in one file.
type gkey struct {
	path string
	ckey
}

// group is everything known about one key in one file.
type group struct {
	key       gkey
	message   bool
	intro     map[string]string // introducing commit -> the blob (or message object) holding the key
	seen      map[string]string // any commit with the key -> blob, used when no commit introduces it
	unallowed bool              // some occurrence lacks notifyscan:allow
	atHead    bool
}

// provenance turns hit objects into findings.
type provenance struct {
	s       *objScan
	keys    map[string]map[ckey]bool // blob -> the keys it holds
	commits map[string]*logCommit
	groups  map[gkey]*group
	appears map[string]bool            // blobs seen in some walked commit
	damaged map[string]map[string]bool // blob with an archive error -> the paths it is at
	// introOnly: a key that no commit of the walk introduces is not
	// reported (a range scan: it came from outside the range). Otherwise
	// the commits that hold it stand in (a shallow or broken history).
	introOnly bool
}

func newProvenance(s *objScan) *provenance {
	return &provenance{
		s:       s,
		keys:    map[string]map[ckey]bool{},
		commits: map[string]*logCommit{},
		groups:  map[gkey]*group{},
		appears: map[string]bool{},
		damaged: map[string]map[string]bool{},
	}
}

func (p *provenance) keysOf(blob string) map[ckey]bool {
	if k, ok := p.keys[blob]; ok {
		return k
	}
	hits := p.s.blobs[blob]
	if len(hits) == 0 {
		return nil
	}
	k := map[ckey]bool{}
	for i := range hits {
		k[hitKey(&hits[i])] = true
	}
	p.keys[blob] = k
	return k
}

func (p *provenance) group(k gkey) *group {
	g := p.groups[k]
	if g == nil {
		g = &group{key: k, intro: map[string]string{}, seen: map[string]string{}}
		p.groups[k] = g
	}
	return g
}

// diff takes in one line of logDiffs: a path whose blob differs from the
// blob there in every parent. The commit introduces a key in the path when
// its blob holds the key and no parent's does: a key that a merge takes
// from one of its parents is that parent's, and a key written in the merge
// itself (an evil merge) is the merge's.
func (p *provenance) diff(c *logCommit, d *logDiff) {
	if d == nil {
		p.commits[c.id] = c
		return
	}
	if d.newMode == "160000" {
		return
	}
	if p.s.archErrs[d.new] != nil {
		p.appears[d.new] = true
		if p.damaged[d.new] == nil {
			p.damaged[d.new] = map[string]bool{}
		}
		p.damaged[d.new][d.path] = true
	}
	nk := p.keysOf(d.new)
	if nk == nil {
		return
	}
	p.appears[d.new] = true
	hits := p.s.blobs[d.new]
	for k := range nk {
		g := p.group(gkey{d.path, k})
		g.seen[c.id] = d.new
		if !g.unallowed {
			for i := range hits {
				if !hits[i].allowed && hitKey(&hits[i]) == k {
					g.unallowed = true
					break
				}
			}
		}
		if !slices.ContainsFunc(d.olds, func(old string) bool { return p.keysOf(old)[k] }) {
			g.intro[c.id] = d.new
		}
	}
}

// damagedErrors records the archive errors of the blobs the walk met, at
// each path they are at (but not at a path the ignore file names).
func (p *provenance) damagedErrors(ign *ignore.List) {
	done := map[[2]string]bool{} // the same problem in two versions of a file is one error
	for blob, paths := range p.damaged {
		err := p.s.archErrs[blob]
		for path := range paths {
			if k := [2]string{path, err.Error()}; !done[k] && !ign.Path(path) {
				done[k] = true
				p.s.fail(path, err)
			}
		}
	}
}

// messageGroups adds the keys in the messages of the given commits and tags.
func (p *provenance) messageGroups(ids []string) {
	for _, id := range ids {
		mh := p.s.msgs[id]
		path := CommitMessagePath
		if mh.tag {
			path = TagMessagePath
		}
		if _, ok := p.commits[id]; !ok {
			p.commits[id] = &logCommit{id: id, name: mh.name, email: mh.email, date: mh.date, when: mh.when}
		}
		for i := range mh.hits {
			g := p.group(gkey{path, hitKey(&mh.hits[i])})
			g.message = true
			g.intro[id] = id
			if !mh.hits[i].allowed {
				g.unallowed = true
			}
		}
	}
}

// firstHit is the first occurrence of k in a blob or message, preferring
// one without notifyscan:allow.
func firstHit(hits []hit, k ckey) *hit {
	var best *hit
	for i := range hits {
		h := &hits[i]
		if hitKey(h) != k {
			continue
		}
		if best == nil || best.allowed && !h.allowed ||
			best.allowed == h.allowed && (h.f.Line < best.f.Line || h.f.Line == best.f.Line && h.f.Column < best.f.Column) {
			best = h
		}
	}
	return best
}

// findings builds one finding per group. refsOf, if not nil, names the
// refs that contain a commit set.
func (p *provenance) findings(ign *ignore.List, refsOf func(commits []string) []string, c *collector) {
	keys := make([]gkey, 0, len(p.groups))
	for k := range p.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b gkey) int {
		return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.container, b.container), cmp.Compare(a.fp, b.fp))
	})
	for _, k := range keys {
		g := p.groups[k]
		commits := g.intro
		if len(commits) == 0 && !p.introOnly {
			commits = g.seen
		}
		if len(commits) == 0 {
			continue
		}
		if !g.unallowed || ign.Fingerprint(k.fp) || ign.Path(k.path) {
			c.ignored++
			continue
		}
		ids := make([]string, 0, len(commits))
		for id := range commits {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		first := slices.MinFunc(ids, func(a, b string) int {
			ca, cb := p.commits[a], p.commits[b]
			return cmp.Or(cmp.Compare(ca.when, cb.when), cmp.Compare(a, b))
		})
		obj := commits[first]
		var hits []hit
		if g.message {
			hits = p.s.msgs[obj].hits
		} else {
			hits = p.s.blobs[obj]
		}
		h := firstHit(hits, k.ckey)
		if h == nil {
			continue
		}
		fc := p.commits[first]
		f := h.f
		f.Path = k.path
		f.Container = memberPath(k.path, f.Container)
		prov := &rules.GitProvenance{
			Commit:      first,
			Author:      fc.name,
			AuthorEmail: fc.email,
			Date:        fc.date,
			Commits:     ids,
			AtHead:      g.atHead,
			Blob:        obj,
			Message:     g.message,
		}
		if g.message {
			prov.Blob = ""
			if mh := p.s.msgs[obj]; mh.tag {
				prov.Blob = obj
				prov.Commit = p.peel(obj)
			}
		}
		if refsOf != nil {
			prov.Refs = refsOf(ids)
		}
		f.Git = prov
		c.findings = append(c.findings, f)
	}
}

// peel follows a tag to the commit it names, or "" if it names none.
func (p *provenance) peel(id string) string {
	for range 100 {
		t, ok := p.s.tags[id]
		if !ok {
			if _, isCommit := p.s.commits[id]; isCommit {
				return id
			}
			return ""
		}
		id = t.id
	}
	return ""
}

// markAtHead sets atHead on file groups whose path at head holds the key.
func (p *provenance) markAtHead(ctx context.Context, r *gitRepo, head string) error {
	if head == "" {
		return nil
	}
	var paths []string
	seen := map[string]bool{}
	for k, g := range p.groups {
		if !g.message && !seen[k.path] {
			seen[k.path] = true
			paths = append(paths, k.path)
		}
	}
	slices.Sort(paths)
	at := map[string]string{}
	for len(paths) > 0 {
		n := min(len(paths), 500)
		args := append([]string{"ls-tree", "-r", "-z", "--full-tree", head, "--"}, paths[:n]...)
		paths = paths[n:]
		out, err := r.output(ctx, nil, args...)
		if err != nil {
			return err
		}
		for _, e := range bytes.Split(out, []byte{0}) {
			// "<mode> blob <id>\t<path>"
			meta, path, ok := bytes.Cut(e, []byte{'\t'})
			if !ok {
				continue
			}
			f := strings.Fields(string(meta))
			if len(f) == 3 && f[1] == "blob" {
				at[string(path)] = f[2]
			}
		}
	}
	for k, g := range p.groups {
		if !g.message {
			g.atHead = p.keysOf(at[k.path])[k.ckey]
		}
	}
	return nil
}
