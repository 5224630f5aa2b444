package scanner

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"sync"
)

// Provenance for a full scan without git log: when blobs hold keys, every
// tree is read once (in parallel, like the blobs) into a compact graph that
// keeps only subtrees and blobs with keys; the commits read in the first
// pass give each commit's root tree. A memoised walk then gives each
// commit's (path, blob) pairs with keys, and comparing a commit with its
// parents gives the commits that introduce each key. This costs one read
// of the trees, spread over the cat-file workers, instead of a
// single-threaded tree diff of every commit.

// treeChild is a subtree (ref >= 0, its index) or a blob with keys
// (ref < 0, -(index+1) in treeGraph.blobs).
type treeChild struct {
	name int32
	ref  int32
}

type treeGraph struct {
	idx      map[uint64]int32 // first 8 bytes of a tree id -> index (ids in bin verify)
	hexIdx   map[string]int32 // hex tree id -> index
	bin      []byte           // binary tree ids, hashLen bytes each
	hashLen  int
	children [][]treeChild
	names    []string
	blobs    []string // hex ids of the blobs with keys
	blobIdx  map[string]int32

	mu      sync.Mutex
	nameIdx map[string]int32

	hasHit []int8                     // 0 unknown, 1 yes, -1 no
	paths  map[int32][]pathBlob       // memo: tree -> its blobs with keys
	byPath map[int32]map[string]int32 // memo: root tree -> path -> blob
}

type pathBlob struct {
	path string
	blob int32
}

// readTrees reads the trees listed in s.trees into a graph that keeps the
// blobs with keys.
func (r *gitRepo) readTrees(ctx context.Context, workers int, s *objScan) (*treeGraph, error) {
	hashLen := 20
	if len(s.trees) > 0 {
		hashLen = len(s.trees[0]) / 2
	}
	g := &treeGraph{
		idx:      make(map[uint64]int32, len(s.trees)),
		hexIdx:   make(map[string]int32, len(s.trees)),
		bin:      make([]byte, 0, hashLen*len(s.trees)),
		hashLen:  hashLen,
		children: make([][]treeChild, len(s.trees)),
		blobIdx:  map[string]int32{},
		nameIdx:  map[string]int32{},
		paths:    map[int32][]pathBlob{},
		byPath:   map[int32]map[string]int32{},
		hasHit:   make([]int8, len(s.trees)),
	}
	for i, id := range s.trees {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != hashLen {
			b = make([]byte, hashLen)
		}
		g.bin = append(g.bin, b...)
		g.idx[binary.BigEndian.Uint64(b)] = int32(i)
		g.hexIdx[id] = int32(i)
	}
	hitBin := map[uint64]int32{}
	hitFull := map[int32][]byte{}
	for id := range s.blobs {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != hashLen {
			continue
		}
		n := int32(len(g.blobs))
		g.blobs = append(g.blobs, id)
		g.blobIdx[id] = n
		hitBin[binary.BigEndian.Uint64(b)] = n
		hitFull[n] = b
	}
	ids := s.trees
	err := r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
		return sendBatches(ctx, ids, out)
	}, func(s *objScan) catHandler {
		var buf []byte // one tree at a time
		var kids []treeChild
		var names []string
		return catHandler{
			object: func(id, typ string, size int64, body io.Reader) error {
				if typ != "tree" {
					return nil
				}
				t, ok := g.hexIdx[id]
				if !ok {
					return nil
				}
				if int64(cap(buf)) < size {
					buf = make([]byte, size)
				}
				buf = buf[:size]
				if _, err := io.ReadFull(body, buf); err != nil {
					return nil // catOne reports the object
				}
				kids, names = kids[:0], names[:0]
				for data := buf; len(data) > 0; {
					sp := bytes.IndexByte(data, ' ')
					nul := bytes.IndexByte(data, 0)
					if sp < 0 || nul < sp || nul+1+hashLen > len(data) {
						break
					}
					mode, name, oid := data[:sp], data[sp+1:nul], data[nul+1:nul+1+hashLen]
					data = data[nul+1+hashLen:]
					if len(mode) == 5 && mode[0] == '4' {
						if c := g.lookup(oid); c >= 0 {
							kids = append(kids, treeChild{ref: c})
							names = append(names, string(name))
						}
						continue
					}
					if b, ok := hitBin[binary.BigEndian.Uint64(oid)]; ok && bytes.Equal(hitFull[b], oid) && string(mode) != "160000" {
						kids = append(kids, treeChild{ref: -(b + 1)})
						names = append(names, string(name))
					}
				}
				if len(kids) == 0 {
					return nil
				}
				out := make([]treeChild, len(kids))
				g.mu.Lock()
				for i := range kids {
					out[i] = treeChild{name: g.intern(names[i]), ref: kids[i].ref}
				}
				g.mu.Unlock()
				g.children[t] = out
				return nil
			},
			fail: func(id string, err error) { s.fail("object "+id, err) },
		}
	})
	return g, err
}

func (g *treeGraph) intern(name string) int32 {
	if i, ok := g.nameIdx[name]; ok {
		return i
	}
	i := int32(len(g.names))
	g.names = append(g.names, name)
	g.nameIdx[name] = i
	return i
}

// tree is the index of a hex tree id, or -1.
func (g *treeGraph) tree(id string) int32 {
	if i, ok := g.hexIdx[id]; ok {
		return i
	}
	return -1
}

// lookup is the index of a binary tree id, or -1.
func (g *treeGraph) lookup(oid []byte) int32 {
	i, ok := g.idx[binary.BigEndian.Uint64(oid)]
	if !ok || !bytes.Equal(g.bin[int(i)*g.hashLen:int(i+1)*g.hashLen], oid) {
		return -1
	}
	return i
}

// holds reports whether tree t has a blob with keys somewhere below it.
func (g *treeGraph) holds(t int32) bool {
	switch g.hasHit[t] {
	case 1:
		return true
	case -1:
		return false
	}
	g.hasHit[t] = -1 // also guards against a cycle in a corrupt repository
	for _, c := range g.children[t] {
		if c.ref < 0 || g.holds(c.ref) {
			g.hasHit[t] = 1
			return true
		}
	}
	return false
}

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
// blobs with keys, against each of its parents: the same lines git log
// --raw would give for those blobs.
func (g *treeGraph) treeDiffs(s *objScan, walk []string, p *provenance) {
	const zero = "0000000000000000000000000000000000000000"
	for _, id := range walk {
		c := s.commits[id]
		t := g.tree(c.tree)
		if t < 0 || !g.holds(t) {
			continue
		}
		lc := &logCommit{id: id, parents: len(c.parents), name: c.name, email: c.email, date: c.date, when: c.when}
		p.diff(lc, nil)
		blobs := g.blobsUnder(t)
		var parents []map[string]int32
		for _, pid := range c.parents {
			pc := s.commits[pid]
			if pc == nil {
				continue // beyond a shallow boundary, or missing
			}
			pt := g.tree(pc.tree)
			if pt < 0 || !g.holds(pt) {
				parents = append(parents, nil)
				continue
			}
			parents = append(parents, g.pathMap(pt))
		}
		lc.parents = len(parents)
		if len(parents) == 0 {
			for _, pb := range blobs {
				p.diff(lc, &logDiff{path: pb.path, old: zero, new: g.blobs[pb.blob], newMode: "100644"})
			}
			continue
		}
		for _, pm := range parents {
			for _, pb := range blobs {
				old, ok := pm[pb.path]
				switch {
				case !ok:
					p.diff(lc, &logDiff{path: pb.path, old: zero, new: g.blobs[pb.blob], newMode: "100644"})
				case old != pb.blob:
					p.diff(lc, &logDiff{path: pb.path, old: g.blobs[old], new: g.blobs[pb.blob], newMode: "100644"})
				}
			}
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
