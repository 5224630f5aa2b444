package scanner

import (
	"math/bits"

	"github.com/cds-snc/notifyscan/rules"
)

// The base64 filter: which runs are worth decoding. A base64 run is decoded
// only if its decoding can hold what the layer looks for:
//
//   - a key: its pair is rules.PairLen bytes of [0-9a-f-] in a row;
//   - when a further layer may follow, text that decodes to a key: at least
//     64 bytes in a row of innerBytes (a line of wrapped base64, a key with
//     escapes, hex), or 73 UTF-16 units of innerBytes with their zero bytes.
//
// Base64 writes three bytes as four characters, each holding six bits of
// one or two of them, so a byte pattern allows only some characters at
// each place of a group: the pair's bytes, for instance, start only
// characters in "LMNOYZ" at its first place. A run that holds such bytes
// has a row of characters, each allowed at its place, as long as the bytes'
// bits fill whole characters; a run of any other text has not, at any of
// its four alignments. The check reads a character in a few for text that
// fails it (see next), and tells which alignments to decode (alignments).
type b64Filter struct {
	// places has bit r set if the character may stand at place r of a period
	// of eight characters (two groups: six bytes, three UTF-16 units).
	places [256]uint8
	n      int // characters in a row that must all be allowed
	period int // 4, or 8 when the pattern alternates bytes
	size   int // bytes in a row of the pattern
}

var (
	keyFilter   = newB64Filter(rules.PairLen, pairBytes)
	innerFilter = newB64Filter(64, innerBytes)
	utf16Filter = newB64Filter(2*rules.PairLen, innerBytes, zeroByte)
	// anyFilter passes a row that either innerFilter or utf16Filter passes
	// (and more): the scan's first look, before alignments decides.
	anyFilter = union(innerFilter, utf16Filter)

	finalFilters = []*b64Filter{keyFilter}
	innerFilters = []*b64Filter{innerFilter, utf16Filter} // innerBytes hold pairBytes
)

// b64Filters are the patterns a run decoded at depth must hold one of:
// a key's, or, when its decoding is scanned again, an encoded key's.
func b64Filters(depth int) []*b64Filter {
	if depth+1 >= maxDecodeDepth {
		return finalFilters
	}
	return innerFilters
}

// scanFilter is the filter the scan of a buffer at depth looks for rows
// with: one that passes every row of b64Filters(depth).
func scanFilter(depth int) *b64Filter {
	if depth+1 >= maxDecodeDepth {
		return keyFilter
	}
	return anyFilter
}

// union returns a filter that passes the rows of a and of b.
func union(a, b *b64Filter) *b64Filter {
	u := &b64Filter{n: min(a.n, b.n), period: max(a.period, b.period), size: min(a.size, b.size)}
	for c := range u.places {
		u.places[c] = a.places[c] | b.places[c]
	}
	return u
}

// alignments returns, as bits, the alignments a (src[a:] decoded, src[a]
// at the first place of a group) at which a run decoded at depth may hold
// what the layer looks for.
func alignments(src []byte, depth int) uint8 {
	var out uint8
	for _, f := range b64Filters(depth) {
		for ph := range f.period {
			if a := uint8(1) << ((4 - ph) & 3); out&a == 0 && f.holds(src, ph) {
				out |= a
			}
		}
	}
	return out
}

// next returns the start of the first row of f.n characters at or after
// from in src that some phase allows whole, or -1.
//
// It looks for all phases at once: it tests the last character of a
// candidate row, then the ones before it, keeping the phases still open,
// and moves past the first character that closes them all. Text that fails
// costs a few tests for every f.n characters: a space closes every phase.
// When a row stays open down to characters an earlier row tested, for other
// phases than those open there, it slides on one character at a time until
// a row is open or a character closes every phase. A character is tested
// at most twice: the search is linear in src whatever it holds.
func (f *b64Filter) next(src []byte, from int) int {
	n := f.n
	s, tested := from, from-1 // src[s:tested+1] were tested: the phases known are open over them
	var known uint8
	for s+n <= len(src) {
		i := s + n - 1
		open, last := uint8(0xff), uint8(0)
		j := i
		for ; j > tested; j-- {
			last = open
			if open &= f.at(src[j], j); open == 0 {
				break
			}
		}
		switch {
		case open == 0:
			s, tested, known = j+1, i, last
			continue
		case tested < s || open&known != 0:
			return s
		}
		// Slide: closed[p] is where phase p last closed.
		var closed [8]int
		for p := range closed {
			closed[p] = s - 1
		}
		k := s
		for ; k < len(src); k++ {
			m := f.at(src[k], k)
			if m == 0 {
				break
			}
			for z := ^m; z != 0; z &= z - 1 {
				closed[bits.TrailingZeros8(z)] = k
			}
			if r := k - n + 1; r >= s && min(closed[0], closed[1], closed[2], closed[3], closed[4], closed[5], closed[6], closed[7]) < r {
				return r
			}
		}
		s, tested = k+1, k
	}
	return -1
}

// at returns the phases that allow c at index i: bit p is set if c may
// stand at place (i+p)%8.
func (f *b64Filter) at(c byte, i int) uint8 {
	return bits.RotateLeft8(f.places[c], -(i & 7))
}

// holds reports whether src has f.n characters in a row, each allowed at
// its place, src[i] standing at place (i+phase)%8. It tests the last
// character of a candidate row first and moves past the first one that
// fails, never testing a character twice.
func (f *b64Filter) holds(src []byte, phase int) bool {
	n := f.n
	s, known := 0, 0 // src[s:known] are allowed
	for s+n <= len(src) {
		i := s + n - 1
		for i >= known && f.places[src[i]]>>((i+phase)&7)&1 != 0 {
			i--
		}
		if i < known {
			return true
		}
		known, s = s+n, i+1
	}
	return false
}

// newB64Filter builds the filter for a row of size bytes of the repeating
// pattern sets (one set, or two that alternate).
func newB64Filter(size int, sets ...*[256]bool) *b64Filter {
	f := &b64Filter{n: (8*size - 4) / 6, period: 4 * len(sets), size: size}
	set := func(j int) *[256]bool { return sets[j%len(sets)] }
	// project gives the values the top (high) or bottom bits of a byte of
	// set j can take.
	project := func(j int, bits uint, high bool) (out [64]bool) {
		for b := range 256 {
			if set(j)[b] {
				if high {
					out[b>>(8-bits)] = true
				} else {
					out[b&(1<<bits-1)] = true
				}
			}
		}
		return out
	}
	for r := range 8 {
		j := 3 * (r / 4) // the group's first byte in the pattern
		var ok [64]bool
		switch r % 4 {
		case 0: // six high bits of byte 0
			ok = project(j, 6, true)
		case 1: // two low bits of byte 0, four high bits of byte 1
			lo, hi := project(j, 2, false), project(j+1, 4, true)
			for v := range 64 {
				ok[v] = lo[v>>4] && hi[v&15]
			}
		case 2: // four low bits of byte 1, two high bits of byte 2
			lo, hi := project(j+1, 4, false), project(j+2, 2, true)
			for v := range 64 {
				ok[v] = lo[v>>2] && hi[v&3]
			}
		case 3: // six low bits of byte 2
			ok = project(j+2, 6, false)
		}
		for c := range 256 {
			if v := b64val[c]; v >= 0 && ok[v] {
				f.places[c] |= 1 << r
			}
		}
	}
	return f
}

// Byte sets of the patterns.
var (
	pairBytes = byteSet("0123456789abcdef-")
	// innerBytes are the bytes of text that a layer decodes into a key: the
	// base64 alphabets (which hold pairBytes and hex), escapes.
	innerBytes = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_%\\{}")
	zeroByte   = byteSet("\x00")
)

func byteSet(s string) *[256]bool {
	var t [256]bool
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return &t
}
