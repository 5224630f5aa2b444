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
	"sync"
)

// Provenance for a full scan without git log: when blobs hold keys, the
// trees that hold those blobs are found by reading every tree once, in
// parallel like the blobs, keeping 8 bytes per subtree entry; those few
// trees are then read again with their names. With the root tree of every
// commit (from the first pass), a memoised walk gives each commit's (path,
// blob) pairs with keys, and comparing a commit with its parents gives the
// commits that introduce each key. This costs one parallel read of the
// trees instead of a single-threaded tree diff of every commit (git log
// --find-object), and almost no memory.

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

// kidSpan is where a tree's subtree ids are in its reader's arena.
type kidSpan struct {
	arena  int32
	off, n uint32
}

// readTrees finds the trees that hold blobs with keys. Every tree is read
// once, keeping only the first 8 bytes of each subtree's id and whether
// it names a blob with keys; the trees that hold keys are then found
// bottom-up, and only those are read again, in full.
func readTrees(ctx context.Context, src objectSource, workers int, s *objScan) (*treeGraph, error) {
	n := len(s.trees)
	g := &treeGraph{
		hexIdx:   make(map[string]int32, n),
		children: make([][]treeChild, n),
		inH:      make([]bool, n),
		paths:    map[int32][]pathBlob{},
		byPath:   map[int32]map[string]int32{},
	}
	for i, id := range s.trees {
		g.hexIdx[id] = int32(i)
	}
	hashLen := 20
	if n > 0 {
		hashLen = len(s.trees[0]) / 2
	}
	// The blobs with keys (or archive errors), by the first 8 bytes of
	// their ids.
	hitBlob := map[uint64]int32{}
	hitFull := map[int32][]byte{}
	blobIdx := map[string]int32{}
	for _, id := range s.tracked() {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != hashLen {
			continue
		}
		i := int32(len(g.blobs))
		g.blobs = append(g.blobs, id)
		blobIdx[id] = i
		hitBlob[binary.BigEndian.Uint64(b)] = i
		hitFull[i] = b
	}
	var hitBits [1 << 16 / 64]uint64 // first two bytes of the blobs with keys
	for _, b := range hitFull {
		p := uint16(b[0])<<8 | uint16(b[1])
		hitBits[p/64] |= 1 << (p % 64)
	}
	isHit := func(oid []byte) (int32, bool) {
		i, ok := hitBlob[binary.BigEndian.Uint64(oid)]
		return i, ok && bytes.Equal(hitFull[i], oid)
	}

	// Pass 1: every tree, compactly.
	spans := make([]kidSpan, n)
	direct := make([]bool, n)
	var mu sync.Mutex
	var arenas [][]uint64
	err := src.read(ctx, workers, s, s.trees, func(s *objScan) catHandler {
		mu.Lock()
		a := int32(len(arenas))
		arenas = append(arenas, nil)
		mu.Unlock()
		var arena []uint64
		var buf []byte
		return catHandler{
			object: func(id, typ string, size int64, body io.Reader) error {
				t, ok := g.hexIdx[id]
				if !ok || typ != "tree" {
					return nil
				}
				if int64(cap(buf)) < size {
					buf = make([]byte, size)
				}
				buf = buf[:size]
				if _, err := io.ReadFull(body, buf); err != nil {
					return nil // catOne reports the object
				}
				off := len(arena)
				// The hot loop of the tree pass, over every entry of
				// every tree: no calls but IndexByte.
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
					if tree {
						arena = append(arena, binary.BigEndian.Uint64(oid))
						continue
					}
					if p := uint16(oid[0])<<8 | uint16(oid[1]); hitBits[p/64]&(1<<(p%64)) == 0 || gitlink {
						continue
					}
					if _, ok := isHit(oid); ok {
						direct[t] = true
					}
				}
				spans[t] = kidSpan{a, uint32(off), uint32(len(arena) - off)}
				mu.Lock()
				arenas[a] = arena
				mu.Unlock()
				return nil
			},
			fail: func(id string, err error) { s.fail("object "+id, err) },
		}
	})
	if err != nil {
		return g, err
	}

	// Bottom-up: a tree holds keys if it names a blob with keys or a
	// subtree that holds keys.
	inH := map[uint64]bool{}
	var bits [1 << 16 / 64]uint64
	add := func(t int) {
		g.inH[t] = true
		b, _ := hex.DecodeString(s.trees[t][:16])
		p := binary.BigEndian.Uint64(b)
		inH[p] = true
		bits[p&0xffff/64] |= 1 << (p & 63)
	}
	for t := range n {
		if direct[t] {
			add(t)
		}
	}
	for changed := true; changed; {
		changed = false
		for t := range n {
			if g.inH[t] {
				continue
			}
			sp := spans[t]
			for _, p := range arenas[sp.arena][sp.off : sp.off+sp.n] {
				if bits[p&0xffff/64]&(1<<(p&63)) != 0 && inH[p] {
					add(t)
					changed = true
					break
				}
			}
		}
	}
	arenas, spans = nil, nil

	// Pass 2: the trees that hold keys, with names.
	var again []string
	for t := range n {
		if g.inH[t] {
			again = append(again, s.trees[t])
		}
	}
	nameIdx := map[string]int32{}
	err = src.read(ctx, 1, s, again, func(s *objScan) catHandler {
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
