package scanner

import (
	"bytes"
	"encoding/binary"
	"math"
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

// reportFunc receives a key found in a buffer under encodings: [s, e) is the
// span of its encoded text in that buffer.
type reportFunc func(s, e int, m rules.Match, enc string)

type seenMatch struct {
	start, end int
	key        rules.Key
}

// decoder holds the scratch memory of one findKeys call: one decode
// buffer per layer, reused across candidate regions.
type decoder struct {
	bufs  [maxDecodeDepth][]byte
	clean [maxDecodeDepth][]byte   // base64 characters of a wrapped run
	segs  [maxDecodeDepth][]b64Seg // the lines of a run
	seen  []seenMatch

	notify bool                         // the window is about Notify
	around [maxDecodeDepth]notifyRegion // where each layer's decoding came from
}

// notifyRegion is an encoded region, buf[s:e], whose surroundings give the
// keys decoded from it their Notify context (see nearNotify). It is looked
// at only when a legacy key needs context; found remembers the answer.
type notifyRegion struct {
	buf   []byte
	s, e  int
	found int8 // 0: not looked at yet, 1: no context, 2: context
}

// enter records that the text decoded at depth comes from buf[s:e]; a nil
// buf gives no context (UTF-16, whose context is in the decoded text).
func (d *decoder) enter(depth int, buf []byte, s, e int) {
	d.around[depth] = notifyRegion{buf: buf, s: s, e: e}
	if buf == nil {
		d.around[depth].found = 1
	}
}

// hasContext reports whether keys decoded at depth have Notify context from
// outside the decoded text: the window's, or that around a region they
// were decoded from, at any layer.
func (d *decoder) hasContext(depth int) bool {
	if d.notify {
		return true
	}
	for k := 0; k <= depth; k++ {
		r := &d.around[k]
		if r.found == 0 {
			r.found = 1
			if nearNotify(r.buf, r.s, r.e) {
				r.found = 2
			}
		}
		if r.found == 2 {
			return true
		}
	}
	return false
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// The pre-check. Every encoded key but UTF-16 is in a token (a run of bytes
// above ' ') of at least minToken bytes, a base64 run or an escaped key, or
// on lines of wrapped base64, 64 or 76 characters wide. The scan reads one
// 16-byte probe every probeStride bytes, as two words whose eight bytes are
// tested at once, and looks closer only if all sixteen are token bytes: any
// token of minToken bytes holds a whole probe, while text rarely has sixteen
// bytes without a space (one probe in thirteen in the Go sources). A probe
// in a shorter token is passed over, unless the token is a line of wrapped
// base64; one in a token of minToken bytes brings in its line, which is
// read whole with bytes.IndexByte-class code and the base64 filter (see
// b64Filter), not one byte at a time, and then skipped. Only the tokens of
// the line that the filter passes or that hold an escape, and a wrapped run
// the line ends, are decoded: a line of a megabyte of base64 alphabet costs
// about as much as the plain matcher's pass over it. Zones of UTF-16 text
// are looked for where a probe or a line read whole has a zero byte.
//
// minToken leaves out escaped keys shorter than 91 bytes: those with fewer
// than six escapes, whose plain pair the plain matcher reports anyway.
const (
	minToken    = 91 // base64 of a key is at least 97; a key with its dashes escaped at least 91 (%2D)
	minLine     = 64 // the narrowest line of wrapped base64
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

// scan looks for encoded regions in buf, decoded text (or, in tests, a
// window), and reports the keys they hold. findKeys does its work for a
// window in the plain matcher's pass.
func (d *decoder) scan(buf []byte, depth int, report reportFunc) {
	none := mark{-1, 0} // nothing known yet
	mk := marks{row: none, esc: [2]mark{none, none}, zero: none}
	var zero uint64
	for g, done := 0, 0; ; {
		p, z := nextProbe(buf, g)
		zero |= z
		if p < 0 {
			break
		}
		if s, e, long := probeToken(buf, p); long {
			done = d.lines(buf, max(done, p-probeStride), e, depth, &mk, report)
		} else if w := e - s; (w == 64 || w == 76) && isBase64(buf[s:e]) {
			done = d.block(buf, s, e, e, depth, report) // a line of wrapped base64
		} else {
			done = e
		}
		g = max(p+probeStride, done+1) // done is not a token byte
	}
	if zero != 0 || mk.zeros {
		d.zones(buf, depth, report)
	}
}

// zones decodes the zones of UTF-16 text in buf that can hold a key: each
// holds a probe of eight code units (see utf16Probe).
func (d *decoder) zones(buf []byte, depth int, report reportFunc) {
	zoneEnd := 0
	for g := 0; g+probeLen <= len(buf); g += probeStride {
		if g >= zoneEnd && utf16Probe(word(buf, g), word(buf, g+8)) {
			zoneEnd = d.scanUTF16(buf, g, depth, report)
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

// lines decodes what the line that holds buf[e-1], a token byte, can hold
// from ls on, and the lines after it as long as they start with minLine
// token bytes. It returns the end of what it read.
//
// The scan calls it for a token of minToken bytes or more, which the probe
// at p found, with ls the last probe before p that was not all token bytes
// (or done): the line before that holds no token of minToken bytes that a
// probe has not already brought in; findKeys, with ls probeStride before
// the token (or done). A shorter token can only be a line of wrapped
// base64, which the scan decodes itself.
func (d *decoder) lines(buf []byte, ls, e, depth int, mk *marks, report reportFunc) int {
	le := lineEnd(buf, e)
	for {
		end := d.region(buf, ls, le, depth, mk, report)
		if end != le || le == len(buf) {
			return end
		}
		if q := le + 1; q+minLine > len(buf) || !allTokenBytes(buf[q:q+minLine]) {
			return end
		}
		ls, le = le+1, lineEnd(buf, le+1+minLine)
	}
}

// lineEnd returns the index of the first '\n' at or after i, or len(buf).
func lineEnd(buf []byte, i int) int {
	if j := bytes.IndexByte(buf[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(buf)
}

// allTokenBytes reports whether b, minLine bytes, is all token bytes.
func allTokenBytes(b []byte) bool {
	b = b[:minLine:minLine]
	t := tokenBytes(word(b, 0)) & tokenBytes(word(b, 8)) & tokenBytes(word(b, 16)) & tokenBytes(word(b, 24)) &
		tokenBytes(word(b, 32)) & tokenBytes(word(b, 40)) & tokenBytes(word(b, 48)) & tokenBytes(word(b, 56))
	return t == msb
}

// probeToken returns the token that holds the probe buf[p:p+16] if it is
// shorter than minToken bytes; else long is true, and s and e only mark
// bytes of it. It reads no more than minToken bytes around the probe.
func probeToken(buf []byte, p int) (s, e int, long bool) {
	e = tokenRight(buf, p+probeLen, p+minToken)
	s = tokenLeft(buf, p, e-minToken)
	return s, e, e-s >= minToken
}

// tokenSpan returns the token that holds buf[i], a token byte.
func tokenSpan(buf []byte, i int) (s, e int) {
	e = tokenRight(buf, i+1, math.MaxInt)
	return tokenLeft(buf, i, math.MinInt), e
}

// tokenRight moves e right over token bytes, eight at a time, and stops at
// the first other byte or once e reaches limit.
func tokenRight(buf []byte, e, limit int) int {
	n := len(buf)
	for ; e < limit; e += 8 {
		if e+8 > n {
			for e < n && isToken(buf[e]) {
				e++
			}
			return e
		}
		if t := tokenBytes(word(buf, e)); t != msb {
			return e + bits.TrailingZeros64(^t&msb)/8
		}
	}
	return e
}

// tokenLeft moves s left over token bytes, eight at a time, and stops after
// the first other byte or once s is at or below limit.
func tokenLeft(buf []byte, s, limit int) int {
	for ; s > limit; s -= 8 {
		if s < 8 {
			for s > 0 && isToken(buf[s-1]) {
				s--
			}
			return s
		}
		if t := tokenBytes(word(buf, s-8)); t != msb {
			return s - bits.LeadingZeros64(^t&msb)/8
		}
	}
	return s
}

// marks are a scan's cursors: the start of the next row of the scan's
// base64 filter (scanFilter), the next escape of each kind ('%', '\\') and
// the next zero byte. A search reads markAhead bytes past the line it is
// for, so that lines of long tokens, one after another, are searched about
// once, not once a line, while one such line in other text costs a
// search of its own length and a little more.
type marks struct {
	row   mark
	esc   [2]mark
	zero  mark
	zeros bool // a line read whole held a zero byte: look for UTF-16
}

const markAhead = 4 << 10

// mark is one cursor: where the next one is, at or after where the scan
// last looked, or at -1 if there is none before until.
type mark struct{ at, until int }

// stale reports whether m cannot tell whether buf[i:le] holds one.
func (m mark) stale(i, le int) bool { return m.at < i && (m.at >= 0 || m.until < le) }

// in reports whether m, not stale, is in buf[:le].
func (m mark) in(le int) bool { return uint(m.at) < uint(le) }

// search returns where a new search for m from i starts, and where it
// stops, for a line that ends at le.
func (m mark) search(buf []byte, i, le int) (int, int) {
	if m.at < 0 {
		i = max(i, m.until)
	}
	return i, min(len(buf), max(le, i+markAhead))
}

// nextRow returns the mark of the first row of f in buf[i:lim].
func nextRow(f *b64Filter, buf []byte, i, lim int) mark {
	if r := f.next(buf[:lim], i); r >= 0 {
		return mark{r, r}
	}
	if lim < len(buf) {
		lim = max(i, lim-f.n+1) // a row may start before lim and end after
	}
	return mark{-1, lim}
}

// nextByte returns the mark of the first c in buf[i:lim].
func nextByte(buf []byte, i, lim int, c byte) mark {
	if j := bytes.IndexByte(buf[i:lim], c); j >= 0 {
		return mark{i + j, i + j}
	}
	return mark{-1, lim}
}

// region decodes what the line buf[ls:le] can hold: the tokens of minToken
// bytes or more that hold a row of base64 the filter passes or an escape,
// and a wrapped base64 run that ends the line. It returns the end of what
// it read, past le when a wrapped run goes on over the next lines.
func (d *decoder) region(buf []byte, ls, le, depth int, mk *marks, report reportFunc) int {
	if !mk.zeros {
		if mk.zero.stale(ls, le) {
			i, lim := mk.zero.search(buf, ls, le)
			mk.zero = nextByte(buf, i, lim, 0)
		}
		mk.zeros = mk.zero.in(le)
	}
	// Rows and escapes are in tokens of minToken bytes, which a run of
	// wrapped base64 is not: when the line is no more than such a run and
	// what comes before it is shorter, they are not looked for.
	run, t := trailingRun(buf, ls, le)
	if run < 0 || run-ls >= minToken {
		end := le
		if mk.row.stale(ls, le) {
			i, lim := mk.row.search(buf, ls, le)
			mk.row = nextRow(scanFilter(depth), buf, i, lim)
		}
		if mk.row.in(le) {
			end = d.rows(buf, le, depth, mk, report)
		}
		for k := range mk.esc {
			if mk.esc[k].stale(ls, le) {
				i, lim := mk.esc[k].search(buf, ls, le)
				mk.esc[k] = nextEscape(buf, i, lim, escLeads[k])
			}
			if mk.esc[k].in(le) {
				d.escapes(buf, le, k, depth, mk, report)
			}
		}
		if end > le {
			return end // a wrapped run was read from a token above
		}
	}
	if run < 0 {
		return le
	}
	return d.block(buf, run, t, le, depth, report)
}

// trailingRun returns the start and end of the run of 64 or 76 base64
// characters that ends the line buf[ls:le] (before a '\r'); run is -1 if
// there is none.
func trailingRun(buf []byte, ls, le int) (run, t int) {
	t = le
	if t > ls && buf[t-1] == '\r' {
		t--
	}
	if t <= ls || b64val[buf[t-1]] < 0 {
		return -1, t // the line does not end with base64, most often
	}
	for w := 64; w <= 76; w += 76 - 64 {
		if s := t - w; s >= ls && (s == 0 || b64val[buf[s-1]] < 0) && isBase64(buf[s:t]) {
			return s, t
		}
	}
	return -1, t
}

// block decodes the wrapped base64 block one of whose lines is buf[run:t],
// on the line that ends at le. It returns the end of what it read: le or
// the block's end.
func (d *decoder) block(buf []byte, run, t, le, depth int, report reportFunc) int {
	s := b64BlockStart(buf, run, t-run)
	return max(le, d.scanBase64(buf, s, s+t-run, depth, report))
}

// escLeads are the first bytes of the escapes marks.esc look for.
var escLeads = [2]byte{'%', '\\'}

// rows decodes the tokens of minToken bytes or more that hold a row, from
// mk.row to le. It returns the end of what it read.
func (d *decoder) rows(buf []byte, le, depth int, mk *marks, report reportFunc) int {
	end := le
	for mk.row.in(le) {
		s, e := tokenSpan(buf, mk.row.at)
		if e-s >= minToken {
			end = max(end, d.scanBase64(buf, s, e, depth, report))
		}
		mk.row = nextRow(scanFilter(depth), buf, e, min(len(buf), max(le, e+markAhead)))
	}
	return end
}

// escapes decodes the tokens of minToken bytes or more that hold an escape
// that starts with escLeads[k], from mk.esc[k] to le.
func (d *decoder) escapes(buf []byte, le, k, depth int, mk *marks, report reportFunc) {
	for mk.esc[k].in(le) {
		s, e := tokenSpan(buf, mk.esc[k].at)
		if e-s >= minToken {
			if k == 0 {
				d.scanPercent(buf, s, e, depth, report)
			} else {
				d.scanEscapes(buf, s, e, depth, report)
			}
		}
		mk.esc[k] = nextEscape(buf, e, min(len(buf), max(le, e+markAhead)), escLeads[k])
	}
}

// nextEscape returns the mark of the first escape in buf[i:lim] that starts
// with lead, '%' or '\\'.
func nextEscape(buf []byte, i, lim int, lead byte) mark {
	for i < lim {
		j := bytes.IndexByte(buf[i:lim], lead)
		if j < 0 {
			break
		}
		i += j
		if lead == '%' && isPercent(buf, i) || lead == '\\' && isStringEscape(buf, i) {
			return mark{i, i}
		}
		i++
	}
	return mark{-1, lim}
}

// decoded matches dec, a decoding of part of buf made at depth, and reports
// what it holds, at its spans in buf as given by span. Keys in decoded text
// need the same Notify context as plain ones: in the decoded text, or
// around the regions it was decoded from (see hasContext). When changed is
// not nil, a match is reported only if changed says its encoded span holds
// an escape (so a plain key inside an escaped region is left to the plain
// matcher).
func (d *decoder) decoded(dec []byte, depth int, enc func(s, e int) string,
	span func(ds, de int) (int, int), changed func(s, e, ds, de int) bool, report reportFunc) {
	rules.Find(dec, true, func(m rules.Match) bool {
		if m.Rule == rules.LegacyKeyRule && !nearNotify(dec, m.Start, m.End) && !d.hasContext(depth) {
			return true
		}
		ms, me := span(m.Start, m.End)
		if changed == nil || changed(ms, me, m.Start, m.End) {
			report(ms, me, m, enc(ms, me))
		}
		return true
	})
	if depth+1 >= maxDecodeDepth {
		return
	}
	d.scan(dec, depth+1, func(ds, de int, m rules.Match, inner string) {
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
