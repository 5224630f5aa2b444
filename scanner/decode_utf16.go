package scanner

import (
	"unicode/utf16"
	"unicode/utf8"
)

// UTF-16 zones. A key's service-id/secret pair is 73 ASCII characters, which
// UTF-16 writes as 73 code units with one zero byte each: "3\x00d\x00..."
// (little-endian) or "\x003\x00d..." (big-endian). In a buffer with a zero
// byte, the pre-check's grid probes fall in any zone of 146 bytes; a probe of
// such units is expanded to its zone, four units at a time. A zone is
// decoded only if it holds a row of units that can be a key or text that
// decodes to one (the bytes of the base64 filters' patterns): UTF-16 prose,
// with its spaces, costs a look every few dozen units. The zone is widened
// by utf16Reach units of any text either side (a key's name may be
// non-ASCII, and legacy keys need context), and decoded to UTF-8.
//
// Code units are read at even offsets: UTF-16 text is aligned in a file, and
// windows start at even offsets (chunkSize is even), so "x\x00" units mean
// little-endian and "\x00x" units big-endian, whether or not the file starts
// with a byte-order mark.
const utf16Reach = 600 // code units

// utf16Kind classifies the code unit buf[p:p+2]: 1 for an ASCII or Latin-1
// character written little-endian, 2 big-endian, 0 otherwise.
func utf16Kind(b0, b1 byte) int {
	switch {
	case b0 != 0 && b1 == 0:
		return 1
	case b0 == 0 && b1 != 0:
		return 2
	}
	return 0
}

// scanUTF16 looks for a zone of UTF-16 text around the even offsets at
// buf[g:g+16], which holds a zero byte, and decodes it if it can hold a key.
// It returns the end of the bytes examined.
func (d *decoder) scanUTF16(buf []byte, g, depth int, report reportFunc) int {
	n := len(buf) &^ 1
	p, k := g&^1, 0
	for ; p < g+16 && p+1 < n; p += 2 {
		if k = utf16Kind(buf[p], buf[p+1]); k != 0 {
			break
		}
	}
	if k == 0 {
		return p
	}
	// The zone, four units at a time: the other byte of each unit is zero,
	// the character's is not.
	other := uint64(0xff00ff00ff00ff00)
	if k == 2 {
		other = 0x00ff00ff00ff00ff
	}
	allKind := func(w uint64) bool { return w&other == 0 && !hasLess(w|other, 1) }
	zs := p
	for zs >= 8 && allKind(word(buf, zs-8)) {
		zs -= 8
	}
	for zs-2 >= 0 && utf16Kind(buf[zs-2], buf[zs-1]) == k {
		zs -= 2
	}
	ze := p + 2
	for ze+8 <= n && allKind(word(buf, ze)) {
		ze += 8
	}
	for ze+1 < n && utf16Kind(buf[ze], buf[ze+1]) == k {
		ze += 2
	}
	set, need := innerBytes, innerFilter.size
	if depth+1 >= maxDecodeDepth {
		set, need = pairBytes, keyFilter.size
	}
	if !utf16Row(buf[zs:ze], k, set, need) {
		return ze // no key, nor text that decodes to one
	}
	// Widen over any non-NUL code units, for names and context.
	ws := zs
	for i := 0; i < utf16Reach && ws-2 >= 0 && (buf[ws-2] != 0 || buf[ws-1] != 0); i++ {
		ws -= 2
	}
	we := ze
	for i := 0; i < utf16Reach && we+1 < n && (buf[we] != 0 || buf[we+1] != 0); i++ {
		we += 2
	}
	be := k == 2
	enc := EncUTF16LE
	if be {
		enc = EncUTF16BE
	}
	src := buf[ws:we]
	d.bufs[depth] = utf16Decode(d.bufs[depth][:0], src, be)
	span := func(ds, de int) (int, int) {
		return ws + utf16Offset(src, be, ds), ws + utf16Offset(src, be, de)
	}
	// Context in UTF-16 is in the decoded text.
	d.enter(depth, nil, 0, 0)
	d.decoded(d.bufs[depth], depth, func(int, int) string { return enc }, span, nil, report)
	return ze
}

// utf16Row reports whether zone, code units of kind k, has n units in a row
// whose characters are in set. It tests the last unit of a candidate row
// first and moves past the first one that fails: UTF-16 text with spaces
// costs a test or two every n units.
func utf16Row(zone []byte, k int, set *[256]bool, n int) bool {
	at := 0 // the byte of a unit that holds its character
	if k == 2 {
		at = 1
	}
	units := len(zone) / 2
	s, known := 0, 0 // units [s, known) are in set
	for s+n <= units {
		i := s + n - 1
		for i >= known && set[zone[2*i+at]] {
			i--
		}
		if i < known {
			return true
		}
		known, s = s+n, i+1
	}
	return false
}

// utf16Step decodes the character at src[i:], returning it and its length
// in bytes (2, or 4 for a surrogate pair). Unpaired surrogates are U+FFFD.
func utf16Step(src []byte, i int, be bool) (rune, int) {
	unit := func(j int) rune {
		if be {
			return rune(src[j])<<8 | rune(src[j+1])
		}
		return rune(src[j]) | rune(src[j+1])<<8
	}
	r := unit(i)
	if utf16.IsSurrogate(r) && i+3 < len(src) {
		if r2 := utf16.DecodeRune(r, unit(i+2)); r2 != utf8.RuneError {
			return r2, 4
		}
	}
	if utf16.IsSurrogate(r) {
		r = utf8.RuneError
	}
	return r, 2
}

// utf16Decode appends src, UTF-16 text of even length, to dst as UTF-8.
// ASCII is read four code units at a time.
func utf16Decode(dst, src []byte, be bool) []byte {
	high := uint64(0xff80ff80ff80ff80) // bits that are zero in four ASCII units, little-endian
	if be {
		high = 0x80ff80ff80ff80ff
	}
	for i := 0; i+1 < len(src); {
		if i+8 <= len(src) {
			if w := word(src, i); w&high == 0 {
				if be {
					w >>= 8
				}
				dst = append(dst, byte(w), byte(w>>16), byte(w>>32), byte(w>>48))
				i += 8
				continue
			}
		}
		r, w := utf16Step(src, i, be)
		dst = utf8.AppendRune(dst, r)
		i += w
	}
	return dst
}

// utf16Offset is the offset in src of the character whose UTF-8 form starts
// at byte d of src's decoding (len(src) for the end).
func utf16Offset(src []byte, be bool, d int) int {
	i, acc := 0, 0
	for acc < d && i+1 < len(src) {
		r, w := utf16Step(src, i, be)
		acc += utf8.RuneLen(r)
		i += w
	}
	return i
}
