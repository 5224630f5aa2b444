package scanner

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

// scanKeys is what findKeys reports, as the pre-check before the plain
// matcher's pass was folded into it found them: the plain matcher, then the
// decoder's own scan of the window. It is the reference findKeys is held to.
func scanKeys(win []byte, notifyContext bool) []string {
	var out []string
	rules.Find(win, notifyContext, func(m rules.Match) bool {
		out = append(out, fmt.Sprintf("%d:%d %s", m.Start, m.End, m.Key.Fingerprint()))
		return true
	})
	d := new(decoder)
	d.notify = notifyContext
	d.scan(win, 0, func(s, e int, m rules.Match, enc string) {
		out = append(out, fmt.Sprintf("%d:%d %s %s", s, e, m.Key.Fingerprint(), enc))
	})
	slices.Sort(out)
	return slices.Compact(out)
}

func foldedKeys(win []byte, notifyContext bool) []string {
	var out []string
	findKeys(win, -1, len(win), notifyContext, func(m rules.Match, enc string) {
		s := fmt.Sprintf("%d:%d %s", m.Start, m.End, m.Key.Fingerprint())
		if enc != "" {
			s += " " + enc
		}
		out = append(out, s)
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// FuzzFindKeysAsScan: findKeys, one pass for plain and encoded keys, finds
// what the plain matcher and the decoder's scan find apart, in any bytes
// with any keys in them, encoded any supported way.
func FuzzFindKeysAsScan(f *testing.F) {
	f.Add([]byte("# config\n"), []byte("\nmore: text\n"), "prod", uint8(0), uint8(1))
	f.Add([]byte{0, 1, 2, 0xff}, []byte("\x00\x00"), "", uint8(3), uint8(2))
	f.Add([]byte(strings.Repeat("data: ", 200)), []byte("end"), "k8s_key", uint8(1), uint8(9))
	f.Add([]byte("notify"), []byte(strings.Repeat("Zm9v", 300)), "x-y", uint8(6), uint8(0))
	f.Add([]byte(strings.Repeat("-", 73)+" "), []byte(strings.Repeat("a\x00", 90)), "w", uint8(4), uint8(3))
	f.Fuzz(func(t *testing.T, prefix, suffix []byte, name string, which, glue uint8) {
		seed := append(append([]byte(name), prefix...), suffix...)
		clean := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' {
				return r
			}
			return -1
		}, name)
		key := "gcntfy-" + clean[:min(len(clean), 40)] + "-" + fuzzUUID(seed, 1) + "-" + fuzzUUID(seed, 2)
		encoded := fuzzEncodings[int(which)%len(fuzzEncodings)].do(key)
		const seps = "\n ,\"=:;\x00"
		sep := []byte{seps[int(glue)%len(seps)]}
		data := bytes.Join([][]byte{prefix, encoded, suffix, prefix}, sep)
		for _, nc := range []bool{false, true} {
			want, got := scanKeys(data, nc), foldedKeys(data, nc)
			if !slices.Equal(got, want) {
				t.Fatalf("notifyContext %v: findKeys found\n%q\nthe plain matcher and scan\n%q", nc, got, want)
			}
		}
	})
}

// On text like a source tree, with keys planted plain, in every encoding and
// in wrapped base64, findKeys finds what the plain matcher and the scan
// find.
func TestFindKeysAsScanOnSource(t *testing.T) {
	text := sourceText(1 << 20)
	var b bytes.Buffer
	for i := 0; i+4096 <= len(text); i += 4096 {
		b.Write(text[i : i+4096])
		if b.WriteByte('\n'); b.Len()%2 == 1 {
			b.WriteByte('\n') // UTF-16 text starts at an even offset
		}
		key := newKey(fmt.Sprintf("k%d", i))
		switch e := i / 4096 % (len(fuzzEncodings) + 2); e {
		case len(fuzzEncodings):
			b.WriteString("\n" + key + "\n")
		case len(fuzzEncodings) + 1:
			// A block of twenty lines or more (a short one may fall between
			// samples: see TestBase64Wrapped).
			enc := base64.StdEncoding.EncodeToString([]byte("notify:\n" + key + "\n" + strings.Repeat("# padding\n", 100)))
			for len(enc) > 64 {
				b.WriteString(enc[:64] + "\n")
				enc = enc[64:]
			}
			b.WriteString(enc + "\n")
		default:
			b.Write(fuzzEncodings[e].do(key))
			b.WriteByte('\n')
		}
	}
	data := b.Bytes()
	want, got := scanKeys(data, false), foldedKeys(data, false)
	if len(want) < 250 {
		t.Fatalf("only %d keys found", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("findKeys found %d keys, the plain matcher and scan %d", len(got), len(want))
		for _, w := range want {
			if !slices.Contains(got, w) {
				var s, e int
				fmt.Sscanf(w, "%d:%d", &s, &e)
				t.Logf("missed %s: %q", w, data[max(0, s-100):min(len(data), e+100)])
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Logf("extra %s", g)
			}
		}
	}
}
