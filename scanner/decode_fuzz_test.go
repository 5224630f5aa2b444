package scanner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

// fuzzUUID derives a random-looking version 4 UUID from seed, so that a
// fuzz input always builds the same key (fuzzing needs determinism) and no
// key is ever written to the corpus.
func fuzzUUID(seed []byte, n byte) string {
	h := sha256.Sum256(append([]byte{n}, seed...))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// fuzzEncodings are the encoders the invariant is checked for, with the
// encoding the finding must name.
var fuzzEncodings = []struct {
	enc string
	do  func(string) []byte
}{
	{EncBase64, func(k string) []byte { return []byte(base64.StdEncoding.EncodeToString([]byte(k))) }},
	{EncBase64, func(k string) []byte { return []byte(base64.RawStdEncoding.EncodeToString([]byte(k))) }},
	{EncBase64URL, func(k string) []byte { return []byte(base64.RawURLEncoding.EncodeToString([]byte(k))) }},
	{EncUTF16LE, func(k string) []byte { return utf16Bytes("\n"+k+"\n", false, false) }},
	{EncUTF16BE, func(k string) []byte { return utf16Bytes("\n"+k+"\n", true, true) }},
	{EncPercent, func(k string) []byte { return []byte(strings.ReplaceAll(k, "-", "%2D")) }},
	{EncPercent, func(k string) []byte { return []byte(percentAll(k)) }},
	{EncJSON, func(k string) []byte { return []byte(strings.ReplaceAll(k, "-", `\u002d`)) }},
	{EncJS, func(k string) []byte { return []byte(strings.ReplaceAll(k, "-", `\x2d`)) }},
}

// FuzzEncodedKeyFound: a key, encoded any supported way and set in any
// bytes (on lines of its own), is found, under its encoding, once, at the
// same place whether the content is matched whole or through windows of
// any size.
func FuzzEncodedKeyFound(f *testing.F) {
	f.Add([]byte("# config\n"), []byte("\nmore: text\n"), "prod", uint8(0), uint16(0))
	f.Add([]byte{0, 1, 2, 0xff}, []byte("\x00\x00"), "", uint8(3), uint16(700))
	f.Add([]byte(strings.Repeat("data: ", 2000)), []byte("end"), "k8s_key", uint8(1), uint16(3000))
	f.Add([]byte("notify"), []byte(strings.Repeat("Zm9v", 3000)), "x-y", uint8(6), uint16(1))
	f.Fuzz(func(t *testing.T, prefix, suffix []byte, name string, which uint8, window uint16) {
		clean := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' {
				return r
			}
			return -1
		}, name)
		seed := append(append([]byte(clean), prefix...), suffix...)
		key := "gcntfy-" + clean[:min(len(clean), 40)] + "-" + fuzzUUID(seed, 1) + "-" + fuzzUUID(seed, 2)
		k, err := rules.ParseKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rules.Placeholder(k); ok {
			t.Skip()
		}
		e := fuzzEncodings[int(which)%len(fuzzEncodings)]
		if len(prefix)%2 == 0 {
			prefix = append(prefix, '\n') // UTF-16 text, after prefix and "\n", starts at an even offset
		}
		encoded := e.do(key)
		want := e.enc
		if want == EncBase64URL && !bytes.ContainsAny(encoded, "-_") {
			want = EncBase64 // the same text in either alphabet
		}
		data := bytes.Join([][]byte{prefix, encoded, suffix}, []byte("\n"))
		match := func(fs []rules.Finding) []string {
			var out []string
			for _, f := range fs {
				if f.Key.Fingerprint() == k.Fingerprint() {
					out = append(out, fmt.Sprintf("%d:%d:%s", f.Line, f.Column, f.Encoding))
				}
			}
			return out
		}
		whole := match(decodeHits(data))
		if len(whole) != 1 || !strings.HasSuffix(whole[0], ":"+want) {
			t.Fatalf("%s: found %q", want, whole)
		}
		var fs []rules.Finding
		m := &matcher{decode: true, emit: func(h hit) { fs = append(fs, h.f) }}
		bufSize := overlap + margin + 2*(int(window)%4096+1) // even
		if _, err := m.scanStream(context.Background(), bytes.NewReader(data), make([]byte, bufSize)); err != nil {
			t.Fatal(err)
		}
		if got := match(fs); len(got) != 1 || got[0] != whole[0] {
			t.Fatalf("%s: windows of %d bytes found %q, whole %q", e.enc, bufSize, got, whole)
		}
	})
}

// FuzzDecoders: any bytes decode without a panic, within bounds: decoded
// text is never more than 1.5 times its source (UTF-16 to UTF-8; the buffer
// may have grown to twice that), and every reported span lies in the input.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte("a: " + strings.Repeat("QUJD", 40) + "=="))
	f.Add([]byte(`"\u00e9\ud83d\ude00\u{1F600}\x41\` + strings.Repeat(`\u002d`, 30)))
	f.Add([]byte(strings.Repeat("%2D%2", 50)))
	f.Add(utf16Bytes(strings.Repeat("héllo wörld ", 30), false, true))
	f.Add(append([]byte{0xd8, 0x00, 0xd8}, utf16Bytes(strings.Repeat("x", 200), true, false)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &decoder{notify: true}
		d.scan(data, 0, func(s, e int, m rules.Match, enc string) {
			if s < 0 || e > len(data) || s >= e || enc == "" {
				t.Fatalf("span %d-%d of %d, %q", s, e, len(data), enc)
			}
		})
		for i := range d.bufs {
			if cap(d.bufs[i]) > 3*len(data)+1024 {
				t.Fatalf("layer %d decoded into %d bytes from %d", i, cap(d.bufs[i]), len(data))
			}
		}
		checkEscapeDecoders(t, data)
	})
}

// FuzzContainers: any bytes, read as content that may be an archive, are
// read to the end or reported, never panic, and never read past the limits.
func FuzzContainers(f *testing.F) {
	f.Add(zipOf(f, file{"a/b.txt", "hello"}, file{"c.env", "X=1\n"}))
	f.Add(tarOf(f, file{"x", "y"}))
	f.Add(gzipOf(f, tarOf(f, file{"d/e", strings.Repeat("z", 1000)})))
	f.Add(gzipOf(f, zipOf(f, file{"in.zip", string(zipOf(f, file{"deep", "text"}))})))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &matcher{decode: true, emit: func(hit) {}}
		for _, r := range []io.Reader{bytes.NewReader(data), io.MultiReader(bytes.NewReader(data))} {
			n, err := scanContent(context.Background(), m, r, make([]byte, chunkSize+overlap))
			if err != nil {
				if _, ok := err.(*ArchiveError); !ok {
					t.Fatalf("error %v", err)
				}
			}
			if n != int64(len(data)) {
				t.Fatalf("read %d of %d bytes", n, len(data))
			}
		}
	})
}
