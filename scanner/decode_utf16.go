package scanner

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

// UTF-16 zones. A key's service-id/secret pair is 73 ASCII characters, which
// UTF-16 writes as 73 code units with one zero byte each: "3\x00d\x00..."
// (little-endian) or "\x003\x00d..." (big-endian). The pre-check's grid
// words fall in any zone of 146 bytes; a word with a zero byte is expanded
// to its zone of such units, widened by utf16Reach units of any text either
// side (a key's name may be non-ASCII, and legacy keys need context), and
// decoded to UTF-8.
//
// Code units are read at even offsets: UTF-16 text is aligned in a file, and
// windows start at even offsets (chunkSize is even), so "x\x00" units mean
// little-endian and "\x00x" units big-endian, whether or not the file starts
// with a byte-order mark.
const (
	minUTF16Units = rules.PairLen
	utf16Reach    = 600 // code units
)

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
func (d *decoder) scanUTF16(buf []byte, g, depth int, notifyContext bool, report reportFunc) int {
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
	zs := p
	for zs-2 >= 0 && utf16Kind(buf[zs-2], buf[zs-1]) == k {
		zs -= 2
	}
	ze := p + 2
	for ze+1 < n && utf16Kind(buf[ze], buf[ze+1]) == k {
		ze += 2
	}
	if (ze-zs)/2 < minUTF16Units {
		return ze
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
	// Context in UTF-16 is in the decoded text, which Find reads itself.
	d.decoded(d.bufs[depth], depth, notifyContext, func(int, int) string { return enc }, span, nil, report)
	return ze
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
func utf16Decode(dst, src []byte, be bool) []byte {
	for i := 0; i+1 < len(src); {
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
