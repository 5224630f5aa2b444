package scanner

import (
	"bytes"
	"math/bits"

	"github.com/cds-snc/notifyscan/rules"
)

// findKeys matches win for plain keys and for keys hidden in encodings, in
// one pass over win, and reports each with the name of its encoding ("" for
// a plain key). Matches must end in (lo, hi]. An encoded match's Start and
// End are those of the encoded text in win, so the finding's line and
// column are where the encoded key stands.
//
// Decoding runs only where it can matter. The plain matcher's pass
// (rules.FindDense) also hands over the stretches of text without spaces:
// from them the pre-check (see denseScan.dense) finds the tokens long
// enough to hold an encoded key and the lines of wrapped base64, and learns
// whether there may be UTF-16 text (see zones); the base64 filter (see
// b64Filter) keeps the runs, and their alignments, whose decoding can hold
// a key; only those are decoded, each once. Decoded text is never longer
// than 1.5 times its source, and is scanned again (see decoded), up to
// maxDecodeDepth layers. Any input costs time linear in its size, and plain
// text little more than the plain matcher's pass over it.
func findKeys(win []byte, lo, hi int, notifyContext bool, fn func(rules.Match, string)) {
	d := decoderPool.Get().(*decoder)
	defer decoderPool.Put(d)
	d.seen = d.seen[:0]
	d.notify = notifyContext
	report := func(s, e int, m rules.Match, enc string) {
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
	}
	none := mark{-1, 0}
	dn := denseScan{d: d, buf: win, report: report, mk: marks{row: none, esc: [2]mark{none, none}, zero: none}}
	zero := rules.FindDense(win, notifyContext, func(m rules.Match) bool {
		if m.End > lo && m.End <= hi {
			fn(m, "")
		}
		return true
	}, dn.dense)
	if zero || dn.mk.zeros {
		d.zones(win, 0, report)
	}
	for i := range d.bufs {
		if cap(d.bufs[i]) > 4<<20 {
			d.bufs[i] = nil // do not pin a large decode in the pool
		}
	}
}

// denseScan is the pre-check of a window as rules.FindDense drives it, one
// stretch of dense bytes at a time, in order.
type denseScan struct {
	d      *decoder
	buf    []byte
	report reportFunc
	mk     marks // the cursors of lines (see marks)
	done   int   // the end of what has been read
}

// dense decodes what the token that holds the dense stretch buf[a:b] can
// hold (see lines), if it is minToken bytes or more or a line of wrapped
// base64, and returns the end of what it read.
func (dn *denseScan) dense(a, b int) int {
	buf, done := dn.buf, dn.done
	if b <= done {
		return done
	}
	// Most stretches are most of a short token: its ends are read a word
	// at a time, a word each side.
	s, e := a, b
	if e+8 <= len(buf) {
		if t := tokenBytes(word(buf, e)); t != msb {
			e += bits.TrailingZeros64(^t&msb) / 8
		} else {
			e = tokenRight(buf, e+8, a+minToken)
		}
	} else {
		e = tokenRight(buf, e, a+minToken)
	}
	if s >= 8 {
		if t := tokenBytes(word(buf, s-8)); t != msb {
			s -= bits.LeadingZeros64(^t&msb) / 8
		} else {
			s = tokenLeft(buf, s-8, e-minToken)
		}
	} else {
		s = tokenLeft(buf, s, e-minToken)
	}
	switch w := e - s; {
	case w >= minToken:
		// lines reads from where the line can hold a token that has not
		// been read: the start of this one, or further back.
		s = tokenLeft(buf, s, done)
		done = dn.d.lines(buf, max(done, s-probeStride), e, 0, &dn.mk, dn.report)
	case (w == 64 || w == 76) && isBase64(buf[s:e]):
		done = dn.d.block(buf, s, e, e, 0, dn.report) // a line of wrapped base64
	case w < 76:
		// The last, shorter line of a wrapped block, whose full lines the
		// samples may all have missed?
		done = e
		for _, width := range [2]int{64, 76} {
			if q, ok := b64LineAbove(buf, s, width); ok {
				if isBase64(bytes.TrimRight(buf[s:e], "=")) {
					done = dn.d.block(buf, q, q+width, e, 0, dn.report)
				}
				break
			}
		}
	default:
		done = e
	}
	dn.done = done
	return done
}
