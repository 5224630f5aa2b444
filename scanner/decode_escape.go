package scanner

import (
	"bytes"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// Escaped text: percent-encoding (%2D) and string escapes (\u002d, \x2d,
// \u{2d}). Keys need no escaping, so these show up only where a tool escaped
// more than it had to (URL encoders, obfuscators, JSON writers that escape
// '-'). A token the pre-check hands over is decoded only if it holds a real
// escape. A match counts only if an escape lies inside the key: a plain key
// next to an escape is the plain matcher's.
const (
	escapeReach     = 4 << 10  // bytes before its first escape a key may start
	maxEscapeRegion = 64 << 10 // longest piece of a token decoded at once
)

// escapeStep decodes one unit of src at i, appending it to dst: an escape,
// or one plain byte. It returns dst and the unit's length.
type escapeStep func(dst, src []byte, i int) ([]byte, int)

// percentStep decodes "%XX"; other bytes stand for themselves.
func percentStep(dst, src []byte, i int) ([]byte, int) {
	if src[i] == '%' && i+2 < len(src) && hexVal[src[i+1]] >= 0 && hexVal[src[i+2]] >= 0 {
		return append(dst, byte(hexVal[src[i+1]])<<4|byte(hexVal[src[i+2]])), 3
	}
	return append(dst, src[i]), 1
}

// isPercent reports whether a percent escape starts at src[i].
func isPercent(src []byte, i int) bool {
	return src[i] == '%' && i+2 < len(src) && hexVal[src[i+1]] >= 0 && hexVal[src[i+2]] >= 0
}

// hexAt returns the value of the n hex digits at src[i:], or -1.
func hexAt(src []byte, i, n int) rune {
	if i+n > len(src) {
		return -1
	}
	var v rune
	for _, c := range src[i : i+n] {
		h := hexVal[c]
		if h < 0 {
			return -1
		}
		v = v<<4 | rune(h)
	}
	return v
}

// braceEscape parses "{X...}" (one to six hex digits) at src[i:], returning
// the code point and the length, or -1.
func braceEscape(src []byte, i int) (rune, int) {
	if i >= len(src) || src[i] != '{' {
		return -1, 0
	}
	var v rune
	for j := i + 1; j < len(src) && j <= i+7; j++ {
		if src[j] == '}' && j > i+1 {
			if v > utf8.MaxRune {
				return -1, 0
			}
			return v, j + 1 - i
		}
		h := hexVal[src[j]]
		if h < 0 {
			return -1, 0
		}
		v = v<<4 | rune(h)
	}
	return -1, 0
}

// stringStep decodes one JSON or JavaScript string escape: \uXXXX (with
// surrogate pairs), \u{X...}, \xNN and the one-letter escapes. A backslash
// that starts no escape stands for itself.
func stringStep(dst, src []byte, i int) ([]byte, int) {
	if src[i] != '\\' || i+1 >= len(src) {
		return append(dst, src[i]), 1
	}
	switch c := src[i+1]; c {
	case 'u':
		if r, n := braceEscape(src, i+2); n > 0 {
			return utf8.AppendRune(dst, r), 2 + n
		}
		r := hexAt(src, i+2, 4)
		if r < 0 {
			break
		}
		if 0xd800 <= r && r < 0xdc00 && i+11 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' {
			if lo := hexAt(src, i+8, 4); 0xdc00 <= lo && lo < 0xe000 {
				return utf8.AppendRune(dst, 0x10000+(r-0xd800)<<10+(lo-0xdc00)), 12
			}
		}
		return utf8.AppendRune(dst, r), 6 // a lone surrogate appends U+FFFD
	case 'x':
		if r := hexAt(src, i+2, 2); r >= 0 {
			return utf8.AppendRune(dst, r), 4
		}
	case 'n':
		return append(dst, '\n'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'v':
		return append(dst, '\v'), 2
	case '0':
		return append(dst, 0), 2
	case '/', '\\', '"', '\'':
		return append(dst, c), 2
	}
	return append(dst, '\\'), 1
}

// isStringEscape reports whether a \u or \x escape starts at src[i].
func isStringEscape(src []byte, i int) bool {
	if src[i] != '\\' || i+1 >= len(src) {
		return false
	}
	switch src[i+1] {
	case 'u':
		if _, n := braceEscape(src, i+2); n > 0 {
			return true
		}
		return hexAt(src, i+2, 4) >= 0
	case 'x':
		return hexAt(src, i+2, 2) >= 0
	}
	return false
}

// scanPercent decodes the token buf[ts:te] if it holds a percent escape.
func (d *decoder) scanPercent(buf []byte, ts, te, depth int, report reportFunc) {
	d.scanEscaped(buf, ts, te, '%', isPercent, percentStep, percentDecode, func(int, int) string { return EncPercent }, depth, report)
}

// scanEscapes decodes the token buf[ts:te] if it holds a \u or \x escape.
// The encoding is "js-escape" when the key's text uses \x or \u{...}, else
// "json-escape".
func (d *decoder) scanEscapes(buf []byte, ts, te, depth int, report reportFunc) {
	enc := func(s, e int) string {
		t := buf[s:e]
		if bytes.Contains(t, []byte(`\x`)) || bytes.Contains(t, []byte(`\u{`)) {
			return EncJS
		}
		return EncJSON
	}
	d.scanEscaped(buf, ts, te, '\\', isStringEscape, stringStep, stringDecode, enc, depth, report)
}

// scanEscaped decodes the token buf[ts:te], in pieces of at most
// maxEscapeRegion bytes, if it holds an escape that starts with lead. A
// match counts only if its encoded text holds an escape.
func (d *decoder) scanEscaped(buf []byte, ts, te int, lead byte, isEscape func([]byte, int) bool, step escapeStep,
	decode func(dst, src []byte) []byte, enc func(s, e int) string, depth int, report reportFunc) {
	first := -1
	for i := ts; i < te; {
		j := bytes.IndexByte(buf[i:te], lead)
		if j < 0 {
			return
		}
		if isEscape(buf[:te], i+j) {
			first = i + j
			break
		}
		i += j + 1
	}
	if first < 0 {
		return
	}
	// Long tokens (minified code) are decoded in overlapping pieces that
	// each hold any key whose escapes they reach.
	for s := max(ts, first-escapeReach); s < te; s += maxEscapeRegion - escapeReach {
		e := min(te, s+maxEscapeRegion)
		src := buf[s:e]
		dec := decode(d.bufs[depth][:0], src)
		d.bufs[depth] = dec
		span := func(ds, de int) (int, int) {
			return s + escapeOffset(src, step, ds), s + escapeOffset(src, step, de)
		}
		changed := func(ms, me, ds, de int) bool { return me-ms != de-ds }
		d.enter(depth, buf, s, e)
		d.decoded(dec, depth, enc, span, changed, report)
		if e == te {
			return
		}
	}
}

// percentDecode appends src with its percent escapes decoded to dst, as
// percentStep does one unit at a time. Decoding never lengthens text.
func percentDecode(dst, src []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(src))[:n+len(src)]
	out, j := dst[n:], 0
	for i := 0; i < len(src) && j < len(out); i++ {
		c := src[i]
		if c == '%' && i+2 < len(src) {
			if h, l := hexVal[src[i+1]], hexVal[src[i+2]]; h|l >= 0 {
				c = byte(h)<<4 | byte(l)
				i += 2
			}
		}
		out[j] = c
		j++
	}
	return dst[:n+j]
}

// stringDecode appends src with its string escapes decoded to dst, as
// stringStep does one unit at a time; \uXXXX outside surrogates, the common
// escape, is read here, the others by stringStep.
func stringDecode(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+5 < len(src) && src[i+1] == 'u' {
			u := src[i+2 : i+6 : i+6]
			if h0, h1, h2, h3 := hexVal[u[0]], hexVal[u[1]], hexVal[u[2]], hexVal[u[3]]; h0|h1|h2|h3 >= 0 {
				r := rune(h0)<<12 | rune(h1)<<8 | rune(h2)<<4 | rune(h3)
				if r < utf8.RuneSelf {
					dst = append(dst, byte(r))
					i += 6
					continue
				}
				if !utf16.IsSurrogate(r) {
					dst = utf8.AppendRune(dst, r)
					i += 6
					continue
				}
			}
		}
		var w int
		dst, w = stringStep(dst, src, i)
		i += w
	}
	return dst
}

// escapeOffset is the offset in src of the unit whose decoding starts at
// byte d of src's decoding (len(src) for the end).
func escapeOffset(src []byte, step escapeStep, d int) int {
	var scratch [8]byte
	i, acc := 0, 0
	for acc < d && i < len(src) {
		out, w := step(scratch[:0], src, i)
		acc += len(out)
		i += w
	}
	return i
}
