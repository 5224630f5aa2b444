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
	"sync"
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

// logDiff is one changed path of a commit against one of its parents.
type logDiff struct {
	path     string
	old, new string // blob ids; all zeros for none
	newMode  string
}

// logFormat is the commit header of logDiffs' git log; fields are split by
// \x1f, which git never puts in an id and people do not put in names.
const logFormat = "--format=%H %P%x1f%an%x1f%ae%x1f%aI%x1f%at"

// diffMergesArg asks for each merge's diff against every parent, whatever
// log.diffMerges says; git before 2.31 only has -m.
var diffMergesArg = sync.OnceValue(func() string {
	out, err := (&gitRepo{bin: gitBinary()}).output(context.Background(), nil, "version")
	if err == nil {
		var major, minor int
		if _, err := fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(string(out)), "git version "), "%d.%d", &major, &minor); err == nil {
			if major > 2 || major == 2 && minor >= 31 {
				return "--diff-merges=separate"
			}
		}
	}
	return "-m"
})

// logDiffs runs git log with raw diffs of every commit against each of its
// parents (a root commit against the empty tree) and calls fn for each
// commit header and each changed path. extra are more arguments (revisions,
// --find-object); stdin, if not empty, is more revisions, one a line.
func (r *gitRepo) logDiffs(ctx context.Context, extra []string, stdin string, fn func(c *logCommit, d *logDiff)) error {
	args := []string{"log", diffMergesArg(), "--root", "--raw", "--no-abbrev", "--no-renames", "-z",
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
				// ":100644 100644 <old> <new> M"
				f := strings.Fields(string(tok[1:]))
				if len(f) < 5 {
					return fmt.Errorf("git log: unexpected raw line %.80q", tok)
				}
				pending = &logDiff{old: f[2], new: f[3], newMode: f[1]}
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
	appears map[string]bool // blobs seen in some walked commit
	counts  map[introKey]int
}

type introKey struct {
	commit, path string
	ckey
}

func newProvenance(s *objScan) *provenance {
	return &provenance{
		s:       s,
		keys:    map[string]map[ckey]bool{},
		commits: map[string]*logCommit{},
		groups:  map[gkey]*group{},
		appears: map[string]bool{},
		counts:  map[introKey]int{},
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

// diff takes in one line of logDiffs: a commit's path against one parent.
// The commit introduces a key in the path when its blob holds the key and
// the parent's does not, against every parent.
func (p *provenance) diff(c *logCommit, d *logDiff) {
	if d == nil {
		p.commits[c.id] = c
		return
	}
	if d.newMode == "160000" {
		return
	}
	nk := p.keysOf(d.new)
	if nk == nil {
		return
	}
	p.appears[d.new] = true
	ok := p.keysOf(d.old)
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
		if ok[k] {
			continue
		}
		ik := introKey{c.id, d.path, k}
		p.counts[ik]++
		if p.counts[ik] >= max(1, c.parents) {
			g.intro[c.id] = d.new
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
		if len(commits) == 0 {
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
