package scanner

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"

	"github.com/klauspost/compress/zlib"
	"golang.org/x/sync/errgroup"
)

// Limits of the in-process pack reader. An object larger than
// maxPackObject, or one whose chain of bases would hold more than
// maxPackChain bytes at once, is left to git cat-file (which streams
// large blobs); so is everything that deltas on it.
var maxPackObject uint64 = 32 << 20 // a variable for tests

const (
	maxPackChain = 256 << 20
	// keepPackBufs is how many bytes of content buffers a worker keeps
	// between delta trees.
	keepPackBufs = 64 << 20
	// packRootBatch is how many delta trees a worker takes at a time.
	packRootBatch = 64
)

var (
	errPackEntry  = errors.New("corrupt pack entry")
	errPackTooBig = errors.New("object too large to read in-process")
)

// packGraph is a pack's delta forest, entries numbered in pack order:
// roots are whole objects, every delta is a child of its base.
type packGraph struct {
	p    *packFile
	typ  []uint8  // entry type; 0 when the header could not be read
	hdr  []uint8  // header length: the compressed data follows
	size []uint32 // inflated size (of the delta, for a delta), at most maxUint32
	// kids of entry e are kids[kidAt[e]:kidAt[e+1]].
	kidAt []uint32
	kids  []uint32
	// done marks index positions handed on (each written by one worker).
	done []bool
}

// newPackGraph reads every entry's header. An entry whose header or base
// cannot be found is in no tree: it stays not done, for git to read.
func newPackGraph(p *packFile) *packGraph {
	g := &packGraph{
		p:     p,
		typ:   make([]uint8, p.n),
		hdr:   make([]uint8, p.n),
		size:  make([]uint32, p.n),
		kidAt: make([]uint32, p.n+1),
		done:  make([]bool, p.n),
	}
	entryOf := make([]uint32, p.n) // index position -> entry
	for e, pos := range p.byOff {
		entryOf[pos] = uint32(e)
	}
	base := make([]int32, p.n)
	for e, pos := range p.byOff {
		base[e] = -1
		h, err := p.header(p.offs[pos], p.end(e))
		if err != nil {
			continue
		}
		switch h.typ {
		case packOfsDelta:
			b, ok := p.entryAt(h.baseOff)
			if !ok {
				continue
			}
			base[e] = int32(b)
		case packRefDelta:
			pos := p.find(h.baseID)
			if pos < 0 {
				continue // a base in another pack: git reads it
			}
			base[e] = int32(entryOf[pos])
		}
		g.typ[e], g.hdr[e], g.size[e] = uint8(h.typ), uint8(h.data-p.offs[pos]), uint32(min(h.size, math.MaxUint32))
		if base[e] >= 0 {
			g.kidAt[base[e]+1]++
		}
	}
	for e := range p.n {
		g.kidAt[e+1] += g.kidAt[e]
	}
	g.kids = make([]uint32, g.kidAt[p.n])
	fill := make([]uint32, p.n)
	copy(fill, g.kidAt[:p.n])
	for e := range p.n {
		if b := base[e]; b >= 0 && g.typ[e] != 0 {
			g.kids[fill[b]] = uint32(e)
			fill[b]++
		}
	}
	return g
}

// entryAt is the entry (in pack order) that starts at off.
func (p *packFile) entryAt(off uint64) (int, bool) {
	lo, hi := 0, p.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.offs[p.byOff[m]] < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < p.n && p.offs[p.byOff[lo]] == off
}

// isRoot reports whether entry e is a whole object.
func (g *packGraph) isRoot(e int) bool {
	t := g.typ[e]
	return t >= packCommit && t <= packTag
}

// left lists, in pack order, the ids of the objects this pack is to hand
// on that it did not: git cat-file reads them.
func (g *packGraph) left() []string {
	var ids []string
	for _, pos := range g.p.byOff {
		if !g.done[pos] && !g.p.skip[pos] {
			ids = append(ids, hex.EncodeToString(g.p.id(pos)))
		}
	}
	return ids
}

// packWorker walks delta trees, one at a time, with its own inflater and
// buffers: bufs[d] holds the object at depth d of the current path.
type packWorker struct {
	h     catHandler
	br    bytes.Reader
	zr    io.ReadCloser
	bufs  [][]byte
	delta []byte
}

// readPacks hands every object of packs to handlers from newHandler, with
// n workers, and returns the ids of the objects it left for git.
func readPacks(ctx context.Context, n int, packs []*packFile, newHandler func() catHandler) ([]string, error) {
	graphs := make([]*packGraph, len(packs))
	for i, p := range packs {
		graphs[i] = newPackGraph(p)
	}
	type job struct {
		g     *packGraph
		roots []uint32
	}
	jobs := make(chan job, 2*n)
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(jobs)
		for _, g := range graphs {
			var roots []uint32
			for e := range g.p.n {
				if !g.isRoot(e) {
					continue
				}
				if roots = append(roots, uint32(e)); len(roots) == packRootBatch {
					select {
					case jobs <- job{g, roots}:
					case <-ctx.Done():
						return ctx.Err()
					}
					roots = nil
				}
			}
			if len(roots) > 0 {
				select {
				case jobs <- job{g, roots}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	})
	for range n {
		eg.Go(func() error {
			w := &packWorker{h: newHandler()}
			for j := range jobs {
				for _, e := range j.roots {
					if err := w.walk(ctx, j.g, int(e), int(j.g.typ[e]), 0, nil, 0); err != nil {
						return err
					}
					w.trim()
				}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	var left []string
	for _, g := range graphs {
		left = append(left, g.left()...)
	}
	return left, nil
}

// walk reads entry e of type typ at depth (parent is its base's content,
// chain the bytes its bases hold), hands it on, then walks its deltas. An
// entry that cannot be read here is left, with its deltas, for git; only
// the context's end is an error.
func (w *packWorker) walk(ctx context.Context, g *packGraph, e, typ, depth int, parent []byte, chain int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := g.p
	pos := p.byOff[e]
	if uint64(g.size[e]) > maxPackObject || chain > maxPackChain {
		return nil
	}
	var content []byte
	var err error
	if parent == nil {
		content, err = w.inflate(g, e, w.buf(depth, int(g.size[e])))
	} else {
		w.delta, err = w.inflate(g, e, w.delta)
		if err == nil {
			content, err = applyDelta(parent, w.delta, w.buf(depth, 0), min(int(maxPackObject), maxPackChain-chain))
		}
	}
	if err != nil {
		return nil
	}
	w.bufs[depth] = content
	if !p.skip[pos] {
		if err := w.h.object(hex.EncodeToString(p.id(pos)), packTypeName[typ], int64(len(content)), bytes.NewReader(content)); err != nil {
			return err
		}
		g.done[pos] = true
	}
	for _, k := range g.kids[g.kidAt[e]:g.kidAt[e+1]] {
		if err := w.walk(ctx, g, int(k), typ, depth+1, content, chain+len(content)); err != nil {
			return err
		}
	}
	return nil
}

// buf is the buffer for depth, grown to size.
func (w *packWorker) buf(depth, size int) []byte {
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	if cap(w.bufs[depth]) < size {
		w.bufs[depth] = make([]byte, size)
	}
	return w.bufs[depth][:size]
}

// trim lets go of the buffers of a delta tree that held large objects.
func (w *packWorker) trim() {
	total := cap(w.delta)
	for _, b := range w.bufs {
		total += cap(b)
	}
	if total > keepPackBufs {
		w.bufs, w.delta = nil, nil
	}
}

// inflate decompresses entry e into dst (grown to the entry's size) and
// checks that the stream ends, checksum and all, exactly there.
func (w *packWorker) inflate(g *packGraph, e int, dst []byte) ([]byte, error) {
	size := uint64(g.size[e])
	if uint64(cap(dst)) < size {
		dst = make([]byte, size)
	}
	dst = dst[:size]
	off := g.p.offs[g.p.byOff[e]]
	w.br.Reset(g.p.data[off+uint64(g.hdr[e]) : g.p.end(e)])
	var err error
	if w.zr == nil {
		w.zr, err = zlib.NewReader(&w.br)
	} else {
		err = w.zr.(zlib.Resetter).Reset(&w.br, nil)
	}
	if err != nil {
		w.zr = nil
		return dst, err
	}
	if _, err := io.ReadFull(w.zr, dst); err != nil {
		return dst, err
	}
	var one [1]byte
	if n, err := w.zr.Read(one[:]); n != 0 || err != io.EOF {
		return dst, errPackEntry
	}
	return dst, nil
}

// applyDelta rebuilds an object from base and a git delta into dst (reused
// when large enough). The result may not exceed limit bytes.
func applyDelta(base, delta, dst []byte, limit int) ([]byte, error) {
	src, n := binary.Uvarint(delta)
	if n <= 0 || src != uint64(len(base)) {
		return dst, errPackEntry
	}
	delta = delta[n:]
	size, n := binary.Uvarint(delta)
	if n <= 0 {
		return dst, errPackEntry
	}
	if size > uint64(limit) {
		return dst, errPackTooBig
	}
	delta = delta[n:]
	if uint64(cap(dst)) < size {
		dst = make([]byte, 0, size)
	}
	dst = dst[:0]
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		switch {
		case op&0x80 != 0:
			// Bits 0-3 say which bytes of the offset follow, bits 4-6
			// which of the size, least significant first.
			var arg [2]uint64
			for bit := range 7 {
				if op&(1<<bit) == 0 {
					continue
				}
				if len(delta) == 0 {
					return dst, errPackEntry
				}
				arg[bit/4] |= uint64(delta[0]) << (8 * (bit % 4))
				delta = delta[1:]
			}
			off, cnt := arg[0], arg[1]
			if cnt == 0 {
				cnt = 0x10000
			}
			if off+cnt > uint64(len(base)) || uint64(len(dst))+cnt > size {
				return dst, errPackEntry
			}
			dst = append(dst, base[off:off+cnt]...)
		case op != 0:
			if int(op) > len(delta) || uint64(len(dst))+uint64(op) > size {
				return dst, errPackEntry
			}
			dst = append(dst, delta[:op]...)
			delta = delta[op:]
		default:
			return dst, errPackEntry
		}
	}
	if uint64(len(dst)) != size {
		return dst, errPackEntry
	}
	return dst, nil
}
