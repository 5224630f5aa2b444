package scanner

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Provenance for a full scan without git log: the first pass reads every
// tree with the blobs, in the same cat-file streams, keeping a few bytes of
// each entry's id. When blobs hold keys, the trees that may hold them are
// found from those bytes, bottom-up, and only those are read again with
// their names. With the root tree of every commit (also from the first
// pass), a memoised walk gives each commit's (path, blob) pairs with keys,
// and comparing a commit with its parents gives the commits that introduce
// each key. This costs no pass of its own over the trees, instead of a
// single-threaded tree diff of every commit (git log --find-object), and
// little memory (8 bytes a subtree entry, 4 a blob entry).

// treeShard is what one reader keeps of the trees it reads: their ids, the
// first 8 bytes of each subtree's id and the first 4 bytes of each blob's.
// A prefix that matches by chance only makes a tree be read again in full,
// which settles it.
type treeShard struct {
	ids   []string
	spans []treeSpan // per tree: where its entries start in kids and blobs
	kids  []uint64
	blobs []uint32
	buf   []byte
}

type treeSpan struct{ kid, blob uint32 }

// add reads one tree. A tree that cannot be read is left out (catOne
// reports it).
func (sh *treeShard) add(id string, size int64, body io.Reader) {
	if int64(cap(sh.buf)) < size {
		sh.buf = make([]byte, size)
	}
	buf := sh.buf[:size]
	if _, err := io.ReadFull(body, buf); err != nil {
		return
	}
	hashLen := len(id) / 2
	sh.ids = append(sh.ids, id)
	sh.spans = append(sh.spans, treeSpan{uint32(len(sh.kids)), uint32(len(sh.blobs))})
	// The hot loop over every entry of every tree: no calls but IndexByte.
	for data := buf; len(data) > 0; {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			break
		}
		nul := bytes.IndexByte(data[sp:], 0)
		if nul < 0 || sp+nul+1+hashLen > len(data) {
			break
		}
		oid := data[sp+nul+1 : sp+nul+1+hashLen]
		tree := sp == 5 && data[0] == '4'
		gitlink := sp == 6 && data[1] == '6'
		data = data[sp+nul+1+hashLen:]
		switch {
		case tree:
			sh.kids = append(sh.kids, binary.BigEndian.Uint64(oid))
		case !gitlink:
			sh.blobs = append(sh.blobs, binary.BigEndian.Uint32(oid))
		}
	}
}

// entries are the subtree and blob prefixes of the shard's i-th tree.
func (sh *treeShard) entries(i int) (kids []uint64, blobs []uint32) {
	sp := sh.spans[i]
	kEnd, bEnd := uint32(len(sh.kids)), uint32(len(sh.blobs))
	if i+1 < len(sh.spans) {
		kEnd, bEnd = sh.spans[i+1].kid, sh.spans[i+1].blob
	}
	return sh.kids[sp.kid:kEnd], sh.blobs[sp.blob:bEnd]
}

// treeChild is a subtree (ref >= 0, its index) or a blob with keys
// (ref < 0, -(index+1) in treeGraph.blobs).
type treeChild struct {
	name int32
	ref  int32
}

type treeGraph struct {
	hexIdx   map[string]int32 // hex tree id -> index
	children [][]treeChild    // for the trees that hold keys
	names    []string
	blobs    []string // hex ids of the blobs with keys
	inH      []bool   // the tree holds a blob with keys, at any depth

	paths  map[int32][]pathBlob       // memo: tree -> its blobs with keys
	byPath map[int32]map[string]int32 // memo: root tree -> path -> blob
}

type pathBlob struct {
	path string
	blob int32
}

// readTrees finds the trees that hold blobs with keys (or archive errors)
// from the shards of the first pass, and reads those again, in full.
func readTrees(ctx context.Context, src objectSource, s *objScan) (*treeGraph, error) {
	n := 0
	for _, sh := range s.trees {
		n += len(sh.ids)
	}
	g := &treeGraph{
		hexIdx:   make(map[string]int32, n),
		children: make([][]treeChild, n),
		inH:      make([]bool, n),
		paths:    map[int32][]pathBlob{},
		byPath:   map[int32]map[string]int32{},
	}
	ids := make([]string, 0, n)
	for _, sh := range s.trees {
		for _, id := range sh.ids {
			g.hexIdx[id] = int32(len(ids))
			ids = append(ids, id)
		}
	}
	hashLen := 20
	if n > 0 {
		hashLen = len(ids[0]) / 2
	}
	// The blobs to place, by the first 4 bytes of their ids.
	hitFull := map[int32][]byte{}
	hitBlob := map[uint64]int32{}
	hit4 := map[uint32]bool{}
	for _, id := range s.tracked() {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != hashLen {
			continue
		}
		i := int32(len(g.blobs))
		g.blobs = append(g.blobs, id)
		hitFull[i] = b
		hitBlob[binary.BigEndian.Uint64(b)] = i
		hit4[binary.BigEndian.Uint32(b)] = true
	}
	var hitBits [1 << 16 / 64]uint64 // first two bytes of those blobs
	for _, b := range hitFull {
		p := uint16(b[0])<<8 | uint16(b[1])
		hitBits[p/64] |= 1 << (p % 64)
	}
	isHit := func(oid []byte) (int32, bool) {
		i, ok := hitBlob[binary.BigEndian.Uint64(oid)]
		return i, ok && bytes.Equal(hitFull[i], oid)
	}

	// Bottom-up: a tree may hold keys if it names a blob with keys or a
	// subtree that may hold keys.
	inH := map[uint64]bool{}
	var bits [1 << 16 / 64]uint64
	add := func(t int) {
		g.inH[t] = true
		b, _ := hex.DecodeString(ids[t][:16])
		p := binary.BigEndian.Uint64(b)
		inH[p] = true
		bits[p&0xffff/64] |= 1 << (p & 63)
	}
	t := 0
	for _, sh := range s.trees {
		for i := range sh.ids {
			_, blobs := sh.entries(i)
			for _, p := range blobs {
				if hi := p >> 16; hitBits[hi/64]&(1<<(hi%64)) != 0 && hit4[p] {
					add(t)
					break
				}
			}
			t++
		}
	}
	for changed := true; changed; {
		changed = false
		t := 0
		for _, sh := range s.trees {
			for i := range sh.ids {
				if !g.inH[t] {
					kids, _ := sh.entries(i)
					for _, p := range kids {
						if bits[p&0xffff/64]&(1<<(p&63)) != 0 && inH[p] {
							add(t)
							changed = true
							break
						}
					}
				}
				t++
			}
		}
	}
	s.trees = nil

	// Pass 2: the trees that hold keys, with names.
	var again []string
	for t := range n {
		if g.inH[t] {
			again = append(again, ids[t])
		}
	}
	nameIdx := map[string]int32{}
	err := src.read(ctx, 1, s, again, func(s *objScan) catHandler {
		return catHandler{
			object: func(id, typ string, size int64, body io.Reader) error {
				t, ok := g.hexIdx[id]
				if !ok || typ != "tree" {
					return nil
				}
				buf, err := io.ReadAll(body)
				if err != nil {
					return nil
				}
				var kids []treeChild
				forEntry(buf, hashLen, func(mode, name, oid []byte) {
					ref := int32(-1)
					if isTreeMode(mode) {
						c, ok := g.hexIdx[hex.EncodeToString(oid)]
						if !ok || !g.inH[c] {
							return
						}
						ref = c
					} else if b, ok := isHit(oid); ok && string(mode) != "160000" {
						ref = -(b + 1)
					} else {
						return
					}
					ni, ok := nameIdx[string(name)]
					if !ok {
						ni = int32(len(g.names))
						g.names = append(g.names, string(name))
						nameIdx[string(name)] = ni
					}
					kids = append(kids, treeChild{ni, ref})
				})
				g.children[t] = kids
				return nil
			},
			fail: func(id string, err error) { s.fail("object "+id, err) },
		}
	})
	return g, err
}

// forEntry calls fn for each entry of a raw tree.
func forEntry(data []byte, hashLen int, fn func(mode, name, oid []byte)) {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return
		}
		nul := bytes.IndexByte(data[sp:], 0)
		if nul < 0 || sp+nul+1+hashLen > len(data) {
			return
		}
		nul += sp
		fn(data[:sp], data[sp+1:nul], data[nul+1:nul+1+hashLen])
		data = data[nul+1+hashLen:]
	}
}

func isTreeMode(mode []byte) bool { return len(mode) == 5 && mode[0] == '4' }

// tree is the index of a hex tree id, or -1.
func (g *treeGraph) tree(id string) int32 {
	if i, ok := g.hexIdx[id]; ok {
		return i
	}
	return -1
}

// holds reports whether tree t has a blob with keys somewhere below it.
func (g *treeGraph) holds(t int32) bool { return g.inH[t] }

// blobsUnder lists the blobs with keys below tree t with their paths.
func (g *treeGraph) blobsUnder(t int32) []pathBlob {
	if !g.holds(t) {
		return nil
	}
	if pb, ok := g.paths[t]; ok {
		return pb
	}
	g.paths[t] = nil // cycle guard
	var out []pathBlob
	for _, c := range g.children[t] {
		name := g.names[c.name]
		if c.ref < 0 {
			out = append(out, pathBlob{name, -c.ref - 1})
			continue
		}
		for _, sub := range g.blobsUnder(c.ref) {
			out = append(out, pathBlob{name + "/" + sub.path, sub.blob})
		}
	}
	g.paths[t] = out
	return out
}

// pathMap is blobsUnder as a map, for comparing a commit with a parent.
func (g *treeGraph) pathMap(t int32) map[string]int32 {
	if m, ok := g.byPath[t]; ok {
		return m
	}
	m := map[string]int32{}
	for _, pb := range g.blobsUnder(t) {
		m[pb.path] = pb.blob
	}
	g.byPath[t] = m
	return m
}

// treeDiffs feeds p with what each commit of walk changes, among the
// blobs with keys: the lines git log -c --raw would give for those blobs,
// the paths whose blob differs from the blob there in every parent.
func (g *treeGraph) treeDiffs(s *objScan, walk []string, p *provenance) {
	zero := strings.Repeat("0", 40)
	if len(g.blobs) > 0 {
		zero = strings.Repeat("0", len(g.blobs[0]))
	}
	blobID := func(b int32) string {
		if b < 0 {
			return zero
		}
		return g.blobs[b]
	}
	var parents []int32
	merged := map[string]*logDiff{}
	for _, id := range walk {
		c := s.commits[id]
		t := g.tree(c.tree)
		if t < 0 || !g.holds(t) {
			continue
		}
		lc := &logCommit{id: id, name: c.name, email: c.email, date: c.date, when: c.when}
		parents = parents[:0]
		for _, pid := range c.parents {
			pc := s.commits[pid]
			if pc == nil {
				continue // beyond a shallow boundary, or missing
			}
			pt := g.tree(pc.tree)
			if pt >= 0 && !g.holds(pt) {
				pt = -1
			}
			parents = append(parents, pt)
		}
		if slices.Contains(parents, t) {
			continue // the tree of a parent: nothing differs from every parent
		}
		lc.parents = len(parents)
		p.diff(lc, nil)
		switch len(parents) {
		case 0, 1:
			var olds []string
			u := int32(-1)
			if len(parents) == 1 {
				u = parents[0]
			}
			g.diffTree(t, u, "", func(path string, nb, ob int32) {
				if len(parents) == 1 {
					olds = []string{blobID(ob)}
				}
				p.diff(lc, &logDiff{path: path, new: g.blobs[nb], newMode: "100644", olds: olds})
			})
		default:
			// A merge: the paths that differ from the first parent and
			// from each of the others.
			clear(merged)
			for i, pt := range parents {
				g.diffTree(t, pt, "", func(path string, nb, ob int32) {
					d := merged[path]
					if i == 0 {
						d = &logDiff{path: path, new: g.blobs[nb], newMode: "100644", olds: make([]string, 1, len(parents))}
						d.olds[0] = blobID(ob)
						merged[path] = d
					} else if d != nil && len(d.olds) == i {
						d.olds = append(d.olds, blobID(ob))
					}
				})
			}
			for _, path := range slices.Sorted(maps.Keys(merged)) {
				if d := merged[path]; len(d.olds) == len(parents) {
					p.diff(lc, d)
				}
			}
		}
	}
}

// diffTree calls fn for each blob with keys in tree t (new) that tree u
// (old; -1 for none) does not have at the same path: with the old blob
// with keys there, or -1. It descends only into subtrees that differ.
func (g *treeGraph) diffTree(t, u int32, prefix string, fn func(path string, nb, ob int32)) {
	var old []treeChild
	if u >= 0 {
		old = g.children[u]
	}
	for _, c := range g.children[t] {
		oc := treeChild{ref: math.MinInt32}
		for _, o := range old {
			if o.name == c.name {
				oc = o
				break
			}
		}
		path := prefix + g.names[c.name]
		switch {
		case c.ref >= 0 && oc.ref == c.ref:
			// The same subtree.
		case c.ref >= 0 && oc.ref >= 0:
			g.diffTree(c.ref, oc.ref, path+"/", fn)
		case c.ref >= 0:
			g.diffTree(c.ref, -1, path+"/", fn)
		case oc.ref == c.ref:
			// The same blob.
		case oc.ref < 0 && oc.ref != math.MinInt32:
			fn(path, -c.ref-1, -oc.ref-1)
		default:
			fn(path, -c.ref-1, -1)
		}
	}
}

// atHead marks the file groups whose key is in the file at head.
func (g *treeGraph) atHead(s *objScan, head string, p *provenance) {
	c := s.commits[head]
	if c == nil {
		return
	}
	t := g.tree(c.tree)
	if t < 0 {
		return
	}
	m := g.pathMap(t)
	for k, gr := range p.groups {
		if gr.message {
			continue
		}
		if b, ok := m[k.path]; ok {
			gr.atHead = p.keysOf(g.blobs[b])[k.ckey]
		}
	}
}
