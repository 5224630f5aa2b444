package scanner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cds-snc/notifyscan/rules"
)

func newKey(name string) string {
	return "gcntfy-" + name + "-" + rules.NewUUID() + "-" + rules.NewUUID()
}

// streamHits scans data through windows of a buf of bufSize bytes.
func streamHits(t *testing.T, data []byte, bufSize int) []rules.Finding {
	t.Helper()
	var out []rules.Finding
	m := &matcher{emit: func(h hit) { out = append(out, h.f) }}
	buf := make([]byte, bufSize)
	n, err := m.scanStream(context.Background(), iotest.HalfReader(bytes.NewReader(data)), buf)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("scanStream: %d bytes, %v", n, err)
	}
	return out
}

// A key is found exactly once, with the right line and column, wherever it
// falls relative to window boundaries.
func TestStreamFindsKeyAtEveryBoundary(t *testing.T) {
	key := newKey("edge")
	bufSize := overlap + margin + 1500 // small windows: boundaries every 1500+margin bytes
	step := bufSize - overlap
	filler := strings.Repeat("abcdefghi\n", 4*bufSize/10) // 10-byte lines
	for pos := 0; pos < 2*bufSize+step; pos += 7 {
		data := []byte(filler[:pos] + key + "\n" + filler[:step])
		got := streamHits(t, data, bufSize)
		if len(got) != 1 {
			t.Fatalf("key at %d: %d findings", pos, len(got))
		}
		wantLine := pos/10 + 1
		wantCol := pos%10 + 1
		if got[0].Line != wantLine || got[0].Column != wantCol || got[0].EndColumn != wantCol+len(key) {
			t.Fatalf("key at %d: line %d col %d-%d, want %d col %d", pos, got[0].Line, got[0].Column, got[0].EndColumn, wantLine, wantCol)
		}
	}
}

// Columns count code points and carry across windows on one long line.
func TestStreamColumnsOnLongLines(t *testing.T) {
	key := newKey("long")
	bufSize := overlap + margin + 1000
	prefix := strings.Repeat("é", 5000) // 2 bytes each, one line
	data := []byte("first line\n" + prefix + key)
	got := streamHits(t, data, bufSize)
	if len(got) != 1 || got[0].Line != 2 || got[0].Column != 5001 {
		t.Fatalf("got %+v", got)
	}
}

func TestAllowComment(t *testing.T) {
	key := newKey("ok")
	var allowed, reported int
	m := &matcher{emit: func(h hit) {
		if h.allowed {
			allowed++
		} else {
			reported++
		}
	}}
	m.scanBytes([]byte("a=" + key + " # notifyscan:allow\nb=" + newKey("no") + "\n"))
	if allowed != 1 || reported != 1 {
		t.Fatalf("allowed %d reported %d", allowed, reported)
	}
}
