package scanner

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/cds-snc/notifyscan/rules"
)

// Encodings, as written in rules.Finding.Encoding. A key hidden in several
// layers names them outermost first, joined by "+": "base64+utf-16le" is
// UTF-16LE text that was then base64-encoded (a PowerShell -EncodedCommand).
// Archives are not encodings: they are named in Finding.Container.
const (
	EncBase64    = "base64"      // RFC 4648 standard alphabet, padded or not, on one line or wrapped
	EncBase64URL = "base64url"   // RFC 4648 URL-safe alphabet ('-', '_'), padded or not
	EncUTF16LE   = "utf-16le"    // UTF-16 little-endian, with or without a byte-order mark
	EncUTF16BE   = "utf-16be"    // UTF-16 big-endian, with or without a byte-order mark
	EncPercent   = "percent"     // URL percent-encoding, %2D
	EncJSON      = "json-escape" // JSON string escapes, \u002d
	EncJS        = "js-escape"   // JavaScript, Python and C escapes: \x2d, \u{2d}
)

// maxDecodeDepth is how many encodings may be nested: base64 of base64 of
// UTF-16 is found, a fourth layer is not.
const maxDecodeDepth = 3

// findEncoded looks for keys hidden in encodings inside win and reports each
// with the name of its encoding. A match's Start and End are those of the
// encoded text in win, so the finding's line and column are where the
// encoded key stands. Matches must end in (lo, hi].
//
// Decoding runs only where it can matter: each decoder has a pre-check about
// as cheap as the plain matcher's (a sample every few dozen bytes, or a
// memchr for '%' and '\'), and decodes only candidate regions long enough to
// hold a key. Decoded text is never longer than 1.5 times its source, and
// is scanned again, up to maxDecodeDepth layers.
func findEncoded(win []byte, lo, hi int, notifyContext bool, fn func(rules.Match, string)) {
	d := decoderPool.Get().(*decoder)
	defer decoderPool.Put(d)
	d.seen = d.seen[:0]
	d.scan(win, 0, notifyContext, func(s, e int, m rules.Match, enc string) {
		if e <= lo || e > hi {
			return
		}
		for _, p := range d.seen {
			if p.start == s && p.end == e && p.key == m.Key {
				return // the same key through another order of the same layers
			}
		}
		d.seen = append(d.seen, seenMatch{s, e, m.Key})
		m.Start, m.End = s, e
		fn(m, enc)
	})
	for i := range d.bufs {
		if cap(d.bufs[i]) > 4<<20 {
			d.bufs[i] = nil // do not pin a large decode in the pool
		}
	}
}

// reportFunc receives a key found in a buffer under encodings: [s, e) is the
// span of its encoded text in that buffer.
type reportFunc func(s, e int, m rules.Match, enc string)

type seenMatch struct {
	start, end int
	key        rules.Key
}

// decoder holds the scratch memory of one findEncoded call: one decode
// buffer per layer, reused across candidate regions.
type decoder struct {
	bufs  [maxDecodeDepth][]byte
	clean [maxDecodeDepth][]byte  // base64 characters of a wrapped run
	grid  [maxDecodeDepth][]int32 // candidate grid points of each layer
	seen  []seenMatch
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// The pre-check. Every encoded key but UTF-16 is a token (a run of bytes
// above ' ') of at least minToken bytes: a base64 run, an escaped key. The
// scan loads one 8-byte word every gridStride bytes and tests all eight
// bytes at once: a word with a byte at or below ' ' (most words of text)
// ends the work for that grid point, unless it has a zero byte, the mark of
// UTF-16. A grid word in a token of minToken bytes has either the gateSpan
// bytes after it or the gateSpan before it in the token too, so a word of
// token bytes is a candidate only if one of those spans is all token bytes;
// text rarely has 48 bytes without a space. Candidates are expanded, a word
// at a time, to their token, which is decoded if it is long enough.
//
// minToken leaves out escaped keys shorter than 91 bytes: those with fewer
// than six escapes, whose plain pair the plain matcher reports anyway.
const (
	minToken   = 91 // base64 of a key is at least 97; a key with its dashes escaped at least 91 (%2D)
	gridStride = 80 // at most minToken-8, so every token of minToken bytes holds a grid word
	gateSpan   = 40 // at most (minToken-8)/2, so a grid word in a token has this many token bytes on one side
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess reports whether a byte of w is below n (n <= 128).
func hasLess(w uint64, n uint64) bool { return (w-lsb*n)&^w&msb != 0 }

// word is buf[i:i+8] as a little-endian integer; i must be in range.
func word(buf []byte, i int) uint64 { return binary.LittleEndian.Uint64(buf[i:]) }

// tokenWords reports whether buf[i:j] is in range and all token bytes;
// j-i is a multiple of 8.
func tokenWords(buf []byte, i, j int) bool {
	if i < 0 || j > len(buf) {
		return false
	}
	for ; i < j; i += 8 {
		if hasLess(word(buf, i), 0x21) {
			return false
		}
	}
	return true
}

// isToken reports whether c may be part of a token.
func isToken(c byte) bool { return c > ' ' }

// allToken is 1 if every byte of w is above ' ', else 0.
func allToken(w uint64) uint64 {
	t := (w - lsb*0x21) &^ w & msb
	return ((t - 1) &^ t) >> 63
}

// gridTokens writes to grid the grid points whose word is all token bytes
// and returns how many, and whether any grid word has a zero byte (zero is
// then not 0). It is the one loop that reads every window, kept small so
// that it stays in registers.
func gridTokens(buf []byte, grid []int32) (k int, zero uint64) {
	grid = grid[:len(buf)/gridStride+1]
	for g := 0; g+8 <= len(buf); g += gridStride {
		w := binary.LittleEndian.Uint64(buf[g:])
		zero |= (w - lsb) &^ w
		t := (w - lsb*0x21) &^ w & msb
		grid[k] = int32(g)
		k += int(((t - 1) &^ t) >> 63)
	}
	return k, zero & msb
}

// scan looks for encoded regions in buf (a window at depth 0, decoded text
// below) and reports the keys they hold.
//
// The grid is filtered in stages that do not branch on the data, so that
// the processor never guesses wrong: each stage writes every grid point
// to a list and advances the list only for points that pass.
func (d *decoder) scan(buf []byte, depth int, notifyContext bool, report reportFunc) {
	n := len(buf)
	if n < 8 {
		return
	}
	need := n/gridStride + 1
	if cap(d.grid[depth]) < need {
		d.grid[depth] = make([]int32, need)
	}
	grid := d.grid[depth][:need]
	// Stage 1: grid words of token bytes; note any zero byte (UTF-16).
	k, zero := gridTokens(buf, grid)
	// Stage 2: the word gateSpan bytes after or before is all token bytes
	// too (or out of range: stage 3 decides).
	k2 := 0
	for _, g32 := range grid[:k] {
		g := int(g32)
		var after, before uint64 = 1, 1
		if g+8+gateSpan <= n {
			after = allToken(word(buf, g+gateSpan))
		}
		if g-gateSpan >= 0 {
			before = allToken(word(buf, g-gateSpan))
		}
		grid[k2] = g32
		k2 += int(after | before)
	}
	// Stage 3: the rest, one by one.
	tokEnd := 0
	for _, g := range grid[:k2] {
		tokEnd = d.token(buf, int(g), tokEnd, depth, notifyContext, report)
	}
	if zero != 0 {
		zoneEnd := 0
		for g := 0; g+8 <= n; g += gridStride {
			if w := word(buf, g); g >= zoneEnd && hasLess(w, 1) {
				zoneEnd = d.scanUTF16(buf, g, depth, notifyContext, report)
			}
		}
	}
}

// token looks closer at the grid word buf[g:g+8], a word of token bytes:
// if it is in a token long enough to hold an encoded key, and that token is
// not before tokEnd (already read), the token is decoded. It returns the
// new tokEnd.
func (d *decoder) token(buf []byte, g, tokEnd, depth int, notifyContext bool, report reportFunc) int {
	n := len(buf)
	if g < tokEnd || !(tokenWords(buf, g+8, g+8+gateSpan) || tokenWords(buf, g-gateSpan, g)) {
		return tokEnd
	}
	// Expand to the token, a word at a time while whole words are in it.
	s, e := g, g+8
	for s-8 >= tokEnd && !hasLess(word(buf, s-8), 0x21) {
		s -= 8
	}
	for s > tokEnd && isToken(buf[s-1]) {
		s--
	}
	for e+8 <= n && !hasLess(word(buf, e), 0x21) {
		e += 8
	}
	for e < n && isToken(buf[e]) {
		e++
	}
	if e-s < minToken {
		if w := e - s; (w == 64 || w == 76) && isBase64(buf[s:e]) {
			// A line of wrapped base64: decode its whole block.
			s = b64BlockStart(buf, s, w)
			return max(e, d.scanBase64(buf, s, s+w, depth, notifyContext, report))
		}
		return e
	}
	end := max(e, d.scanBase64(buf, s, e, depth, notifyContext, report))
	d.scanPercent(buf, s, e, depth, notifyContext, report)
	d.scanEscapes(buf, s, e, depth, notifyContext, report)
	return end
}

// decoded matches dec, the decoding of buf[s:e] under enc, and reports what
// it holds, at its spans in buf as given by span. Keys in decoded text need
// the same Notify context as plain ones; context in buf around the encoded
// region counts. When changed is not nil, a match is reported only if
// changed says its encoded span holds an escape (so a plain key inside an
// escaped region is left to the plain matcher).
func (d *decoder) decoded(buf []byte, s, e int, dec []byte, depth int, notifyContext bool, enc func(s, e int) string,
	span func(ds, de int) (int, int), changed func(s, e, ds, de int) bool, report reportFunc) {
	ctx := notifyContext || nearNotify(buf, s, e)
	rules.Find(dec, ctx, func(m rules.Match) bool {
		ms, me := span(m.Start, m.End)
		if changed == nil || changed(ms, me, m.Start, m.End) {
			report(ms, me, m, enc(ms, me))
		}
		return true
	})
	if depth+1 >= maxDecodeDepth {
		return
	}
	d.scan(dec, depth+1, ctx, func(ds, de int, m rules.Match, inner string) {
		ms, me := span(ds, de)
		if changed == nil || changed(ms, me, ds, de) {
			report(ms, me, m, enc(ms, me)+"+"+inner)
		}
	})
}

// nearNotify reports whether "notif" (any case) or "gcntfy" stands within
// rules.LegacyWindow bytes of buf[s:e], the context that lets a legacy key
// encoded in buf[s:e] count.
func nearNotify(buf []byte, s, e int) bool {
	lo, hi := max(0, s-rules.LegacyWindow), min(len(buf), e+rules.LegacyWindow)
	w := buf[lo:hi]
	if bytes.Contains(w, []byte("gcntfy")) {
		return true
	}
	for i := 0; ; {
		j := bytes.IndexAny(w[i:], "nN")
		if j < 0 || i+j+5 > len(w) {
			return false
		}
		i += j
		if w[i+1]|0x20 == 'o' && w[i+2]|0x20 == 't' && w[i+3]|0x20 == 'i' && w[i+4]|0x20 == 'f' {
			return true
		}
		i++
	}
}

// hexVal is the value of a hex digit (either case), or -1.
var hexVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()
