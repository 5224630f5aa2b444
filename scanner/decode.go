package scanner

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync"

	"github.com/cds-snc/notifyscan/rules"
)

// Encodings, as written in rules.Finding.Encoding. A key hidden in several
// layers names them outermost first, joined by "+": "base64+utf-16le" is
// UTF-16LE text that was then base64-encoded (a PowerShell -EncodedCommand).
// Archives are not encodings: they are named in Finding.Container.
//
// An encoded finding's Line and Column are those of the encoded text, in the
// file as it is: for a UTF-16 file the line is right and the column counts
// the bytes before the key as characters (two per ASCII character).
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
// Decoding runs only where it can matter: one pre-check (see scan), about
// as cheap as the plain matcher's sampling, finds the tokens long enough to
// hold an encoded key and the zones of UTF-16 text; only those are decoded.
// Decoded text is never longer than 1.5 times its source, and is scanned
// again, up to maxDecodeDepth layers.
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
	clean [maxDecodeDepth][]byte // base64 characters of a wrapped run
	seen  []seenMatch
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// The pre-check. Every encoded key but UTF-16 is a token (a run of bytes
// above ' ') of at least minToken bytes: a base64 run, an escaped key. The
// scan reads one 16-byte probe every probeStride bytes, as two words whose
// eight bytes are tested at once, and looks closer only if all sixteen are
// token bytes: any token of minToken bytes holds a whole probe, while text
// rarely has sixteen bytes without a space (one probe in thirteen in the Go
// sources). The same words show any zero byte, the mark of UTF-16, whose
// zones are then looked for in a second pass.
//
// minToken leaves out escaped keys shorter than 91 bytes: those with fewer
// than six escapes, whose plain pair the plain matcher reports anyway.
const (
	minToken    = 91 // base64 of a key is at least 97; a key with its dashes escaped at least 91 (%2D)
	probeLen    = 16
	probeStride = minToken - probeLen + 1 // 76: even, as UTF-16 units start at even offsets
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess reports whether a byte of w is below n (n <= 128).
func hasLess(w uint64, n uint64) bool { return (w-lsb*n)&^w&msb != 0 }

// word is buf[i:i+8] as a little-endian integer; i must be in range.
func word(buf []byte, i int) uint64 { return binary.LittleEndian.Uint64(buf[i:]) }

// isToken reports whether c may be part of a token.
func isToken(c byte) bool { return c > ' ' }

// scan looks for encoded regions in buf (a window at depth 0, decoded text
// below) and reports the keys they hold.
func (d *decoder) scan(buf []byte, depth int, notifyContext bool, report reportFunc) {
	var zero uint64
	for g := 0; ; {
		p, z := nextProbe(buf, g)
		zero |= z
		if p < 0 {
			break
		}
		g = max(p+probeStride, d.token(buf, p, depth, notifyContext, report))
	}
	if zero != 0 {
		zoneEnd := 0
		for g := 0; g+probeLen <= len(buf); g += probeStride {
			if g >= zoneEnd && utf16Probe(word(buf, g), word(buf, g+8)) {
				zoneEnd = d.scanUTF16(buf, g, depth, notifyContext, report)
			}
		}
	}
}

// utf16Probe reports whether the probe w0, w1 is eight code units of
// UTF-16 text in the Latin-1 range, all in one byte order: a zone long
// enough to hold a key holds such a probe, and binary data seldom does.
func utf16Probe(w0, w1 uint64) bool {
	const odd, even = 0xff00ff00ff00ff00, 0x00ff00ff00ff00ff
	le := (w0|w1)&odd == 0 && !hasLess(w0|odd, 1) && !hasLess(w1|odd, 1)
	be := (w0|w1)&even == 0 && !hasLess(w0|even, 1) && !hasLess(w1|even, 1)
	return le || be
}

// nextProbe returns the first probe at or after g whose sixteen bytes are
// all token bytes, or -1, and (not 0) whether a probe it passed has a zero
// byte in its first word (a zone of UTF-16 text holds a whole probe). It is
// the loop that reads every window: a leaf, so that it runs in registers,
// two probes an iteration and one branch for both.
func nextProbe(buf []byte, g int) (int, uint64) {
	const space = lsb * 0x21
	var zero uint64
	if g < 0 {
		return -1, 0
	}
	for ; g+probeStride+probeLen <= len(buf); g += 2 * probeStride {
		b := buf[g : g+probeStride+probeLen : g+probeStride+probeLen]
		w0, w1 := binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])
		w2, w3 := binary.LittleEndian.Uint64(b[probeStride:probeStride+8]), binary.LittleEndian.Uint64(b[probeStride+8:probeStride+16])
		zero |= (w0-lsb)&^w0 | (w2-lsb)&^w2
		t0 := ((w0-space)&^w0 | (w1-space)&^w1) & msb
		t1 := ((w2-space)&^w2 | (w3-space)&^w3) & msb
		if ((t0-1)&^t0|(t1-1)&^t1)>>63 != 0 {
			if t0 == 0 {
				return g, zero & msb
			}
			return g + probeStride, zero & msb
		}
	}
	if g+probeLen <= len(buf) {
		w0, w1 := binary.LittleEndian.Uint64(buf[g:]), binary.LittleEndian.Uint64(buf[g+8:])
		zero |= (w0 - lsb) &^ w0
		if ((w0-space)&^w0|(w1-space)&^w1)&msb == 0 {
			return g, zero & msb
		}
	}
	return -1, zero & msb
}

// tokenBytes marks with its top bit each byte of w that is a token byte
// (above ' '), exactly: no carry crosses bytes.
func tokenBytes(w uint64) uint64 {
	return ((w &^ msb) + lsb*0x5f | w) & msb
}

// token expands the probe at buf[g:g+16], all token bytes, to its token,
// and decodes the token if it is long enough to hold an encoded key. It
// returns the end of what it read.
func (d *decoder) token(buf []byte, g, depth int, notifyContext bool, report reportFunc) int {
	n := len(buf)
	e := g + probeLen
	for ; e+8 <= n; e += 8 {
		if t := tokenBytes(binary.LittleEndian.Uint64(buf[e:])); t != msb {
			e += bits.TrailingZeros64(^t&msb) / 8
			break
		}
	}
	for e+8 > n && e < n && isToken(buf[e]) {
		e++
	}
	s := g
	for ; s >= 8; s -= 8 {
		if t := tokenBytes(binary.LittleEndian.Uint64(buf[s-8:])); t != msb {
			s -= bits.LeadingZeros64(^t&msb) / 8
			break
		}
	}
	for s < 8 && s > 0 && isToken(buf[s-1]) {
		s--
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

// decoded matches dec, a decoding of part of buf, and reports what it holds,
// at its spans in buf as given by span. Keys in decoded text need the same
// Notify context as plain ones: ctx is the caller's notifyContext or
// context in buf around the encoded region (see regionContext). When
// changed is not nil, a match is reported only if changed says its encoded
// span holds an escape (so a plain key inside an escaped region is left to
// the plain matcher).
func (d *decoder) decoded(dec []byte, depth int, ctx bool, enc func(s, e int) string,
	span func(ds, de int) (int, int), changed func(s, e, ds, de int) bool, report reportFunc) {
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

// regionContext is the Notify context for keys encoded in buf[s:e].
func regionContext(notifyContext bool, buf []byte, s, e int) bool {
	return notifyContext || nearNotify(buf, s, e)
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
