package scanner

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cds-snc/notifyscan/internal/ignore"
)

// gitRef is a ref and the object it names.
type gitRef struct{ name, id string }

// refs lists every ref (branches, remote-tracking branches, tags, stash,
// notes, and anything else under refs/) and HEAD's commit. A detached HEAD
// is listed as the ref "HEAD", and older stashes as "refs/stash@{1}", ...
// head is "" when HEAD is unborn.
func (r *gitRepo) refs(ctx context.Context) (refs []gitRef, head string, err error) {
	out, err := r.output(ctx, nil, "for-each-ref", "--format=%(objectname) %(HEAD) %(refname)")
	if err != nil {
		return nil, "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		id, rest, ok := strings.Cut(line, " ")
		if !ok || len(rest) < 3 {
			continue
		}
		name := rest[2:]
		if rest[0] == '*' {
			head = id
		}
		refs = append(refs, gitRef{name, id})
	}
	if slices.ContainsFunc(refs, func(r gitRef) bool { return r.name == "refs/stash" }) {
		// Older stashes live only in refs/stash's reflog: stash@{1}, ...
		out, err := r.output(ctx, nil, "reflog", "show", "--format=%H", "refs/stash", "--")
		if err == nil {
			for n, id := range strings.Fields(string(out)) {
				if n > 0 && hexOID(id) {
					refs = append(refs, gitRef{fmt.Sprintf("refs/stash@{%d}", n), id})
				}
			}
		}
	}
	if head == "" {
		// Detached or unborn.
		if out, err := r.output(ctx, nil, "rev-parse", "-q", "--verify", "HEAD^{commit}"); err == nil {
			head = strings.TrimSpace(string(out))
			refs = append(refs, gitRef{"HEAD", head})
		}
	}
	return refs, head, nil
}

// ignoreList reads the repository's .notifyscanignore: the work tree's
// file, or for a bare repository the one committed at head.
func (r *gitRepo) ignoreList(ctx context.Context, head string) (*ignore.List, error) {
	if r.top != "" {
		return ignore.Load(filepath.Join(r.top, ignore.FileName))
	}
	if head == "" {
		return &ignore.List{}, nil
	}
	out, err := r.output(ctx, nil, "cat-file", "blob", head+":"+ignore.FileName)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return &ignore.List{}, nil // no ignore file at HEAD
	}
	return ignore.Parse(head[:min(12, len(head))]+":"+ignore.FileName, bytes.NewReader(out))
}

// commitGraph is the parent graph of the commits a scan read.
type commitGraph struct {
	ids     []string
	idx     map[string]int32
	parents [][]int32
}

func newCommitGraph(commits map[string]*commitRec) *commitGraph {
	g := &commitGraph{idx: make(map[string]int32, len(commits))}
	g.ids = make([]string, 0, len(commits))
	for id := range commits {
		g.ids = append(g.ids, id)
	}
	slices.Sort(g.ids)
	for i, id := range g.ids {
		g.idx[id] = int32(i)
	}
	g.parents = make([][]int32, len(g.ids))
	for i, id := range g.ids {
		for _, p := range commits[id].parents {
			if j, ok := g.idx[p]; ok {
				g.parents[i] = append(g.parents[i], j)
			}
		}
	}
	return g
}

// walk calls fn for every commit reachable from tips, each once; mark is
// the visited set, reused across calls with a new stamp.
func (g *commitGraph) walk(tips []int32, mark []int32, stamp int32, fn func(int32)) {
	stack := append([]int32(nil), tips...)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if mark[c] == stamp {
			continue
		}
		mark[c] = stamp
		fn(c)
		for _, p := range g.parents[c] {
			if mark[p] != stamp {
				stack = append(stack, p)
			}
		}
	}
}

// refView is what the refs reach: commits, and tags by the refs through
// them.
type refView struct {
	g         *commitGraph
	refs      []gitRef
	tipOf     map[string]int32    // ref name -> the commit it peels to
	tagRefs   map[string][]string // tag object -> refs that reach it
	reachable []bool
}

func newRefView(g *commitGraph, refs []gitRef, tags map[string]tagTarget) *refView {
	v := &refView{g: g, refs: refs, tipOf: map[string]int32{}, tagRefs: map[string][]string{}, reachable: make([]bool, len(g.ids))}
	var tips []int32
	for _, ref := range refs {
		id := ref.id
		for range 100 {
			t, ok := tags[id]
			if !ok {
				break
			}
			v.tagRefs[id] = append(v.tagRefs[id], ref.name)
			id = t.id
		}
		if i, ok := g.idx[id]; ok {
			v.tipOf[ref.name] = i
			tips = append(tips, i)
		}
	}
	mark := make([]int32, len(g.ids))
	g.walk(tips, mark, 1, func(c int32) { v.reachable[c] = true })
	return v
}

func (v *refView) isReachable(id string) bool {
	i, ok := v.g.idx[id]
	return ok && v.reachable[i]
}

// refsContaining returns a function naming the refs whose history holds
// any of a set of commits, for every commit in interesting: one walk per
// distinct ref tip.
func (v *refView) refsContaining(interesting map[string]bool) func([]string) []string {
	want := map[int32]bool{}
	for id := range interesting {
		if i, ok := v.g.idx[id]; ok {
			want[i] = true
		}
	}
	refsAt := map[int32][]string{} // commit -> refs containing it
	if len(want) > 0 {
		byTip := map[int32][]string{}
		for _, ref := range v.refs {
			if t, ok := v.tipOf[ref.name]; ok {
				byTip[t] = append(byTip[t], ref.name)
			}
		}
		tips := make([]int32, 0, len(byTip))
		for t := range byTip {
			tips = append(tips, t)
		}
		slices.Sort(tips)
		mark := make([]int32, len(v.g.ids))
		for n, t := range tips {
			v.g.walk([]int32{t}, mark, int32(n+1), func(c int32) {
				if want[c] {
					refsAt[c] = append(refsAt[c], byTip[t]...)
				}
			})
		}
	}
	return func(commits []string) []string {
		var out []string
		for _, id := range commits {
			if i, ok := v.g.idx[id]; ok {
				out = append(out, refsAt[i]...)
			}
			out = append(out, v.tagRefs[id]...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
}
