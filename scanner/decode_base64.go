package scanner

import (
	"bytes"
	"math/bits"
	"slices"
)

// Base64 runs. A key is at least rules.PairLen (73) bytes, so its base64 form
// is a run of at least 97 alphabet characters at any byte alignment, found
// inside the tokens the pre-check hands over.
const minB64Run = 96 // alphabet characters a run needs to be decoded

// b64val is the value of a base64 character in either alphabet ('+' and '-'
// are 62, '/' and '_' are 63), or -1.
var b64val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" {
		t[c] = int8(i)
	}
	t['+'], t['-'] = 62, 62
	t['/'], t['_'] = 63, 63
	return t
}()

// b64Seg is one line of a run: buf[start:end], its characters starting at
// index clean in the run.
type b64Seg struct{ start, end, clean int }

// scanBase64 decodes every base64 run in the token buf[ts:te] that can hold
// a key (see decodeRun). It returns where the last run ended, which is past
// te when a wrapped run goes on over the next lines.
func (d *decoder) scanBase64(buf []byte, ts, te, depth int, report reportFunc) int {
	end := te
	for i := ts; i < te; {
		if b64val[buf[i]] < 0 {
			i++
			continue
		}
		s := i
		i = b64RunEnd(buf[:te], i)
		if i-s < 64 {
			continue // neither a run that can hold a key nor a line of a wrapped one
		}
		segs, e := d.b64Join(buf, s, i, depth)
		end = max(end, e)
		if chars := segs[len(segs)-1].clean + segs[len(segs)-1].end - segs[len(segs)-1].start; chars >= minB64Run {
			d.decodeRun(buf, segs, chars, depth, report)
		}
		if e > te {
			break
		}
	}
	return end
}

// b64Join returns the lines of the run that starts with buf[s:e]. A run
// wrapped at 64 or 76 characters (PEM, MIME, base64(1), openssl) continues
// over a line break (and the indentation of a YAML block) on whole lines of
// the same width, and ends with a line no longer. end is where the run
// stops. Runs of other widths are single lines: a Kubernetes value is
// followed by the next key, not by more of itself. The lines are kept in
// d's memory for depth.
//
// A whole line is taken by its width alone, without reading its characters
// (so that a megabyte of such lines costs little): the filter and the
// decoder read a character outside the alphabet as a break. A last, shorter
// line must be all base64.
func (d *decoder) b64Join(buf []byte, s, e, depth int) ([]b64Seg, int) {
	segs := append(d.segs[depth][:0], b64Seg{s, e, 0})
	width := e - s
	for width == 76 || width == 64 {
		last := segs[len(segs)-1]
		p := last.end
		if p < len(buf) && buf[p] == '\r' {
			p++
		}
		if p >= len(buf) || buf[p] != '\n' {
			break
		}
		p++
		for p < len(buf) && (buf[p] == ' ' || buf[p] == '\t') {
			p++
		}
		q := p + width
		if q <= len(buf) && (q == len(buf) || buf[q] == '\r' || buf[q] == '\n' || buf[q] == '=') &&
			bytes.IndexByte(buf[p:q], '\n') < 0 && b64val[buf[p]] >= 0 {
			segs = append(segs, b64Seg{p, q, last.clean + width})
			continue
		}
		for q = p; q < len(buf) && b64val[buf[q]] >= 0 && q-p < width; q++ {
		}
		if q > p && (q == len(buf) || buf[q] == '\r' || buf[q] == '\n' || buf[q] == '=') {
			segs = append(segs, b64Seg{p, q, last.clean + width})
		}
		break
	}
	d.segs[depth] = segs
	return segs, segs[len(segs)-1].end
}

// b64RunEnd returns the end of the run of base64 characters from buf[i] on.
// It reads eight bytes at a time.
func b64RunEnd(buf []byte, i int) int {
	for ; i+8 <= len(buf); i += 8 {
		if m := b64Bytes(word(buf, i)); m != msb {
			return i + bits.TrailingZeros64(^m&msb)/8
		}
	}
	for i < len(buf) && b64val[buf[i]] >= 0 {
		i++
	}
	return i
}

// b64Bytes marks with its top bit each byte of w that is a base64
// character of either alphabet, exactly: no carry crosses bytes.
func b64Bytes(w uint64) uint64 {
	x := w &^ msb // bytes of 0x80 and above are cleared by &^ w below
	in := func(x, lo, hi uint64) uint64 { return (x + lsb*(0x80-lo)) &^ (x + lsb*(0x7f-hi)) }
	eq := func(c uint64) uint64 { return ^((x ^ lsb*c) + lsb*0x7f) }
	return (in(x|lsb*0x20, 'a', 'z') | in(x, '0', '9') | eq('+') | eq('/') | eq('-') | eq('_')) &^ w & msb
}

// isBase64 reports whether b is all base64 characters.
func isBase64(b []byte) bool {
	for _, c := range b {
		if b64val[c] < 0 {
			return false
		}
	}
	return true
}

// b64BlockStart returns the start of the first line of the wrapped block
// whose line of the given width starts at s: it walks back over whole lines
// of that width, each followed by a line break and indentation.
func b64BlockStart(buf []byte, s, width int) int {
	for {
		q, ok := b64LineAbove(buf, s, width)
		if !ok {
			return s
		}
		s = q
	}
}

// b64LineAbove returns the start of the line of width base64 characters
// that ends the line above the one whose text starts at s (after its
// indentation), if there is one.
func b64LineAbove(buf []byte, s, width int) (int, bool) {
	p := s
	for p > 0 && (buf[p-1] == ' ' || buf[p-1] == '\t') {
		p--
	}
	if p == 0 || buf[p-1] != '\n' {
		return 0, false
	}
	p--
	if p > 0 && buf[p-1] == '\r' {
		p--
	}
	q := p - width
	if q < 0 || (q > 0 && b64val[buf[q-1]] >= 0) || !isBase64(buf[q:p]) {
		return 0, false
	}
	return q, true
}

// decodeRun decodes one run and matches what it holds. A run followed by
// '=' padding is aligned from its end; an unpadded one is decoded at each of
// the four character alignments, since its start may be glued to other text
// or cut by the window. Only the alignments the filter lets through are
// decoded: for most runs none, for a run that holds a key the one that
// reads it.
func (d *decoder) decodeRun(buf []byte, segs []b64Seg, chars, depth int, report reportFunc) {
	last := segs[len(segs)-1]
	var src []byte
	if len(segs) == 1 {
		src = buf[last.start:last.end]
	} else {
		c := d.clean[depth][:0]
		for _, sg := range segs {
			c = append(c, buf[sg.start:sg.end]...)
		}
		d.clean[depth] = c
		src = c
	}
	if scanFilter(depth).next(src, 0) < 0 {
		return // one look at all alignments
	}
	ok := alignments(src, depth)
	pad := 0
	for p := last.end; p < len(buf) && buf[p] == '=' && pad < 2; p++ {
		pad++
	}
	if pad > 0 {
		ok &= 1 << ((chars + pad) % 4)
	}
	if ok == 0 {
		return
	}
	enc := EncBase64
	if bytes.IndexByte(src, '-') >= 0 || bytes.IndexByte(src, '_') >= 0 {
		enc = EncBase64URL
	}
	// pos maps a character index of src to its offset in buf.
	pos := func(c int) int {
		k := len(segs) - 1
		for k > 0 && segs[k].clean > c {
			k--
		}
		return segs[k].start + c - segs[k].clean
	}
	d.enter(depth, buf, segs[0].start, last.end)
	for a := range 4 {
		if ok>>a&1 == 0 {
			continue
		}
		d.bufs[depth] = b64Decode(d.bufs[depth][:0], src[a:])
		span := func(ds, de int) (int, int) {
			cs := a + ds*8/6
			ce := min(chars, a+(de*8+5)/6)
			return pos(cs), pos(ce-1) + 1
		}
		d.decoded(d.bufs[depth], depth, func(int, int) string { return enc }, span, nil, report)
	}
}

// b64Decode appends to dst the bytes that src, base64 characters only,
// encodes; a final group of two or three characters gives one or two bytes.
// (Another byte in src gives bytes of no meaning, not a panic.)
func b64Decode(dst, src []byte) []byte {
	q := len(src) &^ 3
	n := len(dst)
	dst = slices.Grow(dst, q/4*3+2)[:n+q/4*3]
	out := dst[n:]
	for i, j := 0, 0; i < q && j+3 <= len(out); i, j = i+4, j+3 {
		g := src[i : i+4 : i+4]
		v := uint(uint8(b64val[g[0]]))<<18 | uint(uint8(b64val[g[1]]))<<12 |
			uint(uint8(b64val[g[2]]))<<6 | uint(uint8(b64val[g[3]]))
		o := out[j : j+3 : j+3]
		o[0], o[1], o[2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - q {
	case 2:
		v := uint(uint8(b64val[src[q]]))<<18 | uint(uint8(b64val[src[q+1]]))<<12
		dst = append(dst, byte(v>>16))
	case 3:
		v := uint(uint8(b64val[src[q]]))<<18 | uint(uint8(b64val[src[q+1]]))<<12 | uint(uint8(b64val[src[q+2]]))<<6
		dst = append(dst, byte(v>>16), byte(v>>8))
	}
	return dst
}
