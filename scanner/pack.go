package scanner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Reading git's pack files in-process. A full history scan reads every
// object once; git cat-file does it one object at a time, rebuilding each
// delta from a cache that misses often and copying every byte through a
// pipe. Here each pack is read from memory (mapped) and its delta graph is
// walked base first: every entry is inflated exactly once, each delta is
// applied to its base while the base is still in hand, and the result goes
// straight to the matcher. Anything unusual (an index version or object
// format not understood, a corrupt entry, a base outside the pack, a very
// large object) is left to git cat-file, which reads it and reports its
// errors exactly as before.

// Pack entry types, as stored in an entry's header.
const (
	packCommit   = 1
	packTree     = 2
	packBlob     = 3
	packTag      = 4
	packOfsDelta = 6
	packRefDelta = 7
)

// packTypeName is the object type of a non-delta entry type.
var packTypeName = [...]string{packCommit: "commit", packTree: "tree", packBlob: "blob", packTag: "tag"}

// errPackFormat is a pack or index this reader does not understand; git
// reads such packs instead.
var errPackFormat = errors.New("pack format not supported")

// packFile is one mapped pack with its index.
type packFile struct {
	path    string
	data    []byte // the .pack file
	unmap   func() error
	hashLen int
	n       int
	fanout  [256]uint32 // how many ids start with a byte up to each value
	ids     []byte      // n sorted ids of hashLen bytes (from the index)
	offs    []uint64    // offset of each id's entry
	// byOff lists index positions in the order of their entries in the
	// pack; the last entry ends at limit, before the pack's checksum.
	byOff []uint32
	limit uint64
	// skip marks index positions an earlier pack also holds: they are
	// read (other entries may be deltas on them) but not handed on.
	skip []bool
}

// id is the object id of index position i.
func (p *packFile) id(i uint32) []byte {
	return p.ids[int(i)*p.hashLen : (int(i)+1)*p.hashLen]
}

// find is the index position of id, or -1.
func (p *packFile) find(id []byte) int {
	lo, hi := 0, p.n
	if len(id) == p.hashLen {
		// The fan-out narrows the search to ids with the same first byte.
		lo, hi = p.fanoutRange(id[0])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(p.id(uint32(m)), id); {
		case c == 0:
			return m
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// fanoutRange is the index positions whose ids start with b.
func (p *packFile) fanoutRange(b byte) (int, int) {
	lo := 0
	if b > 0 {
		lo = int(p.fanout[b-1])
	}
	return lo, int(p.fanout[b])
}

// openPacks maps every pack in objDir/pack that has a version 2 index
// this reader understands; complete is false when some index could not be
// read. Packs it cannot read are left to git: they are simply not in the
// list. Objects an earlier pack in the list holds are marked to skip in
// later ones, so each object is handed on once.
func openPacks(objDir string) (packs []*packFile, complete bool) {
	idxs, _ := filepath.Glob(filepath.Join(objDir, "pack", "*.idx"))
	slices.Sort(idxs)
	complete = true
	for _, idx := range idxs {
		p, err := openPack(strings.TrimSuffix(idx, ".idx"))
		if err != nil {
			complete = false
			continue
		}
		p.skip = make([]bool, p.n)
		for i := range p.n {
			for _, q := range packs {
				if q.find(p.id(uint32(i))) >= 0 {
					p.skip[i] = true
					break
				}
			}
		}
		packs = append(packs, p)
	}
	return packs, complete
}

// closePacks unmaps packs.
func closePacks(packs []*packFile) {
	for _, p := range packs {
		_ = p.unmap()
	}
}

// openPack reads base.idx and maps base.pack.
func openPack(base string) (*packFile, error) {
	idx, unmapIdx, err := mapFile(base + ".idx")
	if err != nil {
		return nil, err
	}
	p := &packFile{path: base + ".pack"}
	if err := p.parseIndex(idx); err != nil {
		_ = unmapIdx()
		return nil, err
	}
	data, unmapPack, err := mapFile(p.path)
	if err != nil {
		_ = unmapIdx()
		return nil, err
	}
	unmap := func() error { return errors.Join(unmapPack(), unmapIdx()) }
	p.data, p.unmap = data, unmap
	if len(data) < 12+p.hashLen || string(data[:4]) != "PACK" ||
		(binary.BigEndian.Uint32(data[4:]) != 2 && binary.BigEndian.Uint32(data[4:]) != 3) ||
		int(binary.BigEndian.Uint32(data[8:])) != p.n {
		_ = unmap()
		return nil, fmt.Errorf("%s: %w", p.path, errPackFormat)
	}
	p.limit = uint64(len(data) - p.hashLen)
	p.byOff = make([]uint32, p.n)
	for i := range p.byOff {
		p.byOff[i] = uint32(i)
	}
	slices.SortFunc(p.byOff, func(a, b uint32) int {
		switch {
		case p.offs[a] < p.offs[b]:
			return -1
		case p.offs[a] > p.offs[b]:
			return 1
		}
		return 0
	})
	for i, pos := range p.byOff {
		if end := p.end(i); p.offs[pos] < 12 || end <= p.offs[pos] || end > p.limit {
			_ = unmap()
			return nil, fmt.Errorf("%s: %w: entry offsets out of order", p.path, errPackFormat)
		}
	}
	return p, nil
}

// end is where the i-th entry in pack order ends.
func (p *packFile) end(i int) uint64 {
	if i+1 < p.n {
		return p.offs[p.byOff[i+1]]
	}
	return p.limit
}

// parseIndex reads a version 2 pack index: the fan-out table, the sorted
// ids, their CRCs, their 32-bit offsets and the 64-bit offset table. The
// hash length (SHA-1 or SHA-256) is the one that makes the sizes add up.
func (p *packFile) parseIndex(idx []byte) error {
	const head = 8 + 256*4
	if len(idx) < head || string(idx[:4]) != "\377tOc" || binary.BigEndian.Uint32(idx[4:]) != 2 {
		return errPackFormat
	}
	n := int(binary.BigEndian.Uint32(idx[head-4:]))
	for _, h := range []int{20, 32} {
		small := head + n*(h+8)
		if len(idx) < small+2*h {
			continue
		}
		offs32 := idx[head+n*(h+4) : small]
		large := 0
		for i := range n {
			if offs32[4*i]&0x80 != 0 {
				large++
			}
		}
		if len(idx) != small+8*large+2*h {
			continue
		}
		p.hashLen, p.n = h, n
		prev := uint32(0)
		for b := range 256 {
			f := binary.BigEndian.Uint32(idx[8+4*b:])
			if f < prev || int(f) > n {
				return errPackFormat
			}
			p.fanout[b], prev = f, f
		}
		p.ids = idx[head : head+n*h]
		p.offs = make([]uint64, n)
		table := idx[small : small+8*large]
		for i := range n {
			o := binary.BigEndian.Uint32(offs32[4*i:])
			if o&0x80000000 == 0 {
				p.offs[i] = uint64(o)
				continue
			}
			k := int(o &^ 0x80000000)
			if k >= large {
				return errPackFormat
			}
			p.offs[i] = binary.BigEndian.Uint64(table[8*k:])
		}
		return nil
	}
	return errPackFormat
}

// entryHeader is an entry's type, its inflated size, where its compressed
// data starts, and for a delta its base: an offset in the pack (ofs-delta)
// or an id (ref-delta).
type entryHeader struct {
	typ     int
	size    uint64
	data    uint64
	baseOff uint64
	baseID  []byte
}

// header parses the entry at off, which ends at end.
func (p *packFile) header(off, end uint64) (entryHeader, error) {
	b := p.data[off:end]
	var h entryHeader
	if len(b) == 0 {
		return h, errPackFormat
	}
	c := b[0]
	h.typ = int(c>>4) & 7
	h.size = uint64(c & 15)
	i, shift := 1, 4
	for c&0x80 != 0 {
		if i >= len(b) || shift > 57 {
			return h, errPackFormat
		}
		c = b[i]
		i++
		h.size |= uint64(c&0x7f) << shift
		shift += 7
	}
	switch h.typ {
	case packCommit, packTree, packBlob, packTag:
	case packOfsDelta:
		if i >= len(b) {
			return h, errPackFormat
		}
		c = b[i]
		i++
		rel := uint64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || rel > 1<<56 {
				return h, errPackFormat
			}
			c = b[i]
			i++
			rel = (rel+1)<<7 | uint64(c&0x7f)
		}
		if rel == 0 || rel > off {
			return h, errPackFormat
		}
		h.baseOff = off - rel
	case packRefDelta:
		if i+p.hashLen > len(b) {
			return h, errPackFormat
		}
		h.baseID = b[i : i+p.hashLen]
		i += p.hashLen
	default:
		return h, errPackFormat
	}
	h.data = off + uint64(i)
	return h, nil
}
