package scanner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

// Window geometry. Data is read in chunks of chunkSize and matched in windows
// that repeat the last overlap bytes of the previous window, so that a key
// (with its legacy context) that straddles a chunk boundary is found, and
// found once: a window accepts a match only if it ends after the previous
// window's acceptance limit, and a window that is not the last accepts
// matches ending at least margin bytes before its end.
const (
	chunkSize = 1 << 20
	overlap   = 8 << 10
	margin    = 2 << 10
)

// allowMarker on a key's line suppresses the finding.
const allowMarker = "notifyscan:allow"

// hit is a match found in content, before the source gives it a place.
type hit struct {
	f       rules.Finding // RuleID, Line, Column, EndColumn, Key, Encoding, Container
	allowed bool          // the line carries notifyscan:allow
}

// matcher turns windows of content into hits. It holds the per-content
// position state; one matcher serves one stream at a time.
type matcher struct {
	notifyContext bool   // the source says the content is about Notify
	decode        bool   // also look for encoded keys
	path          string // the input's report path, to write Container as "path!member"; may be empty
	emit          func(hit)

	line int // line number of the window's first byte
	col  int // code points between the last newline and the window's first byte
}

// find matches win, accepting matches that end in (lo, hi], and reports hits.
func (m *matcher) find(win []byte, lo, hi int) {
	if m.decode {
		findKeys(win, lo, hi, m.notifyContext, func(mt rules.Match, encoding string) {
			m.report(win, mt, encoding)
		})
		return
	}
	rules.Find(win, m.notifyContext, func(mt rules.Match) bool {
		if mt.End > lo && mt.End <= hi {
			m.report(win, mt, "")
		}
		return true
	})
}

// report places a match of win on its line and column and emits it.
func (m *matcher) report(win []byte, mt rules.Match, encoding string) {
	before := win[:mt.Start]
	line := m.line + bytes.Count(before, nl)
	var col int
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	if lineStart == 0 {
		col = m.col + utf8.RuneCount(before) + 1
	} else {
		col = utf8.RuneCount(before[lineStart:]) + 1
	}
	lineEnd := len(win)
	if i := bytes.IndexByte(win[mt.End:], '\n'); i >= 0 {
		lineEnd = mt.End + i
	}
	allowed := bytes.Contains(win[lineStart:lineEnd], []byte(allowMarker))
	m.emit(hit{
		f: rules.Finding{
			RuleID:    mt.Rule.ID,
			Line:      line,
			Column:    col,
			EndColumn: col + utf8.RuneCount(win[mt.Start:mt.End]),
			Key:       mt.Key,
			Encoding:  encoding,
		},
		allowed: allowed,
	})
}

// advance moves the position state past win[:n].
func (m *matcher) advance(win []byte, n int) {
	skipped := win[:n]
	m.line += bytes.Count(skipped, nl)
	if i := bytes.LastIndexByte(skipped, '\n'); i >= 0 {
		m.col = utf8.RuneCount(skipped[i+1:])
	} else {
		m.col += utf8.RuneCount(skipped)
	}
}

var nl = []byte{'\n'}

// scanBytes matches content held whole in memory.
func (m *matcher) scanBytes(data []byte) {
	m.line, m.col = 1, 0
	m.find(data, -1, len(data))
}

// scanStream matches everything r yields, in windows, using buf as its only
// memory: each window reads len(buf)-overlap new bytes (buf must be larger
// than overlap+margin). It returns the bytes read.
func (m *matcher) scanStream(ctx context.Context, r io.Reader, buf []byte) (int64, error) {
	m.line, m.col = 1, 0
	var total int64
	carry := 0 // bytes at the start of buf kept from the previous window
	lo := -1   // matches must end after lo
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := io.ReadFull(r, buf[carry:])
		total += int64(n)
		final := false
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			final = true
		default:
			return total, err
		}
		win := buf[:carry+n]
		hi := len(win)
		if !final {
			hi = len(win) - margin
		}
		m.find(win, lo, hi)
		if final {
			return total, nil
		}
		// Keep the last overlap bytes for the next window.
		shift := len(win) - overlap
		m.advance(win, shift)
		copy(buf, win[shift:])
		carry = overlap
		lo = hi - shift
	}
}
