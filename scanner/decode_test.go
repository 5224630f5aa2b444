package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cds-snc/notifyscan/rules"
)

// decodeHits scans data whole with decoding on and returns what was found.
func decodeHits(data []byte) []rules.Finding {
	var out []rules.Finding
	m := &matcher{decode: true, emit: func(h hit) { out = append(out, h.f) }}
	m.scanBytes(data)
	rules.Sort(out)
	return out
}

// hitsOf describes findings as "line:col-endcol:encoding:secret-prefix".
func hitsOf(fs []rules.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d-%d:%s:%s", f.Line, f.Column, f.EndColumn, f.Encoding, f.Key.Secret()[:8]))
	}
	return out
}

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func utf16Bytes(s string, be, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// percentAll escapes every byte, as some URL builders do.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func secretOf(key string) string { return key[len(key)-8-28 : len(key)-28] }

// expectOne checks that data holds exactly key, once, under enc, at the
// encoded text's line and column.
func expectOne(t *testing.T, name string, data []byte, key, enc string, line, col, endCol int) {
	t.Helper()
	got := hitsOf(decodeHits(data))
	want := []string{fmt.Sprintf("%d:%d-%d:%s:%s", line, col, endCol, enc, secretOf(key))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", name, got, want)
	}
}

func TestKubernetesSecretBase64(t *testing.T) {
	key := newKey("k8s")
	enc := b64(key)
	yaml := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: notify\ndata:\n  NOTIFY_API_KEY: " + enc + "\n  OTHER: " + b64("hello") + "\n"
	col := len("  NOTIFY_API_KEY: ") + 1
	expectOne(t, "key alone", []byte(yaml), key, EncBase64, 6, col, col+len(enc))
}

// A key inside an encoded multi-line .env is found at each of the three
// byte alignments, and its columns are those of the characters encoding it.
func TestBase64EnvAtEveryAlignment(t *testing.T) {
	for pad := range 3 {
		key := newKey("env")
		env := "# prod\nDEBUG=0" + strings.Repeat("x", pad) + "\nNOTIFY_API_KEY=" + key + "\nREGION=ca-central-1\n"
		enc := b64(env)
		data := "data:\n  .env: " + enc + "\n"
		off := strings.Index(env, key)
		col := len("  .env: ") + 1 + off*8/6
		endCol := len("  .env: ") + 1 + (8*(off+len(key))+5)/6
		expectOne(t, fmt.Sprintf("alignment %d", off%3), []byte(data), key, EncBase64, 2, col, endCol)
	}
}

func TestBase64URLUnpadded(t *testing.T) {
	key := newKey("url_safe")
	for i := range 3 { // some alignment gives '-' or '_' in the encoding
		text := strings.Repeat("~", i) + key + "?>>"
		enc := b64url(text)
		data := "token=" + enc + "&x=1"
		got := decodeHits([]byte(data))
		if len(got) != 1 || got[0].Key.Secret() != key[len(key)-36:] {
			t.Fatalf("base64url %d: %q", i, hitsOf(got))
		}
		want := EncBase64
		if strings.ContainsAny(enc, "-_") {
			want = EncBase64URL
		}
		if got[0].Encoding != want {
			t.Errorf("encoding %q, want %q", got[0].Encoding, want)
		}
	}
}

// Base64 wrapped at 76 or 64 columns (base64(1), openssl, PEM), also in an
// indented YAML block. The pre-check samples one line in a few (its probes
// fall in any line they fit in as the line period drifts against the
// probe stride), and a sampled line brings in its whole block: a block of
// twenty lines is always found. A short block may fall between samples.
func TestBase64Wrapped(t *testing.T) {
	key := newKey("wrapped")
	env := "A=1\nB=2\nNOTIFY_API_KEY=" + key + "\n" + strings.Repeat("# padding to make the block longer\n", 30)
	enc := b64(env)
	for _, width := range []int{76, 64} {
		var lines []string
		for s := enc; s != ""; {
			n := min(width, len(s))
			lines = append(lines, s[:n])
			s = s[n:]
		}
		if len(lines) < 20 {
			t.Fatalf("%d lines", len(lines))
		}
		for _, indent := range []string{"", "  ", "    "} {
			for shift := range 2 * probeStride {
				data := strings.Repeat("x", shift) + "\nblob: |\n" + indent + strings.Join(lines, "\n"+indent) + "\n"
				got := decodeHits([]byte(data))
				if len(got) != 1 || got[0].Encoding != EncBase64 || got[0].Line != 3+(23*8/6)/width {
					t.Fatalf("width %d indent %q shift %d: %q", width, indent, shift, hitsOf(got))
				}
			}
		}
	}
}

// A legacy key needs Notify context; context outside the encoded value counts.
func TestBase64LegacyContext(t *testing.T) {
	legacy := "prod-" + rules.NewUUID() + "-" + rules.NewUUID()
	if got := decodeHits([]byte("trace: " + b64(legacy) + "\n")); len(got) != 0 {
		t.Errorf("no context: %q", hitsOf(got))
	}
	got := decodeHits([]byte("NOTIFY_API_KEY: " + b64(legacy) + "\n"))
	if len(got) != 1 || got[0].RuleID != rules.LegacyKeyRule.ID {
		t.Errorf("context: %q", hitsOf(got))
	}
}

func TestUTF16(t *testing.T) {
	key := newKey("ps")
	script := "# deploy.ps1\r\n$env:NOTIFY_API_KEY = \"" + key + "\"\r\nWrite-Host 'done'\r\n"
	col := len("$env:NOTIFY_API_KEY = \"")
	// Columns count the bytes as read: each unit is two, and in UTF-16LE the
	// line starts with the zero byte of the previous line's '\n'.
	for _, c := range []struct {
		be, bom bool
		enc     string
	}{{false, false, EncUTF16LE}, {false, true, EncUTF16LE}, {true, false, EncUTF16BE}, {true, true, EncUTF16BE}} {
		data := utf16Bytes(script, c.be, c.bom)
		start := 2*col + 1
		if !c.be {
			start++
		}
		expectOne(t, fmt.Sprintf("be=%v bom=%v", c.be, c.bom), data, key, c.enc, 2, start, start+2*len(key))
	}
}

func TestUTF16NonASCIIName(t *testing.T) {
	key := "gcntfy-日本語-" + rules.NewUUID() + "-" + rules.NewUUID()
	data := utf16Bytes("キー: "+key+"\n", false, true)
	got := decodeHits(data)
	if len(got) != 1 || got[0].Key.Name() != "日本語" || got[0].Encoding != EncUTF16LE {
		t.Fatalf("got %q", hitsOf(got))
	}
}

func TestPercentEncoded(t *testing.T) {
	key := newKey("web")
	q := url.QueryEscape(strings.ReplaceAll(key, "-", "%2D")) // double-encoded in some proxies
	_ = q
	one := strings.ReplaceAll(key, "-", "%2D")
	data := "GET /send?api_key=" + one + "&to=x HTTP/1.1\n"
	col := len("GET /send?api_key=") + 1
	expectOne(t, "%2D", []byte(data), key, EncPercent, 1, col, col+len(one))
	all := percentAll(key)
	expectOne(t, "every byte", []byte("https://x.example/?k="+all), key, EncPercent, 1, 22, 22+len(all))
	// A plain key beside an escape is the plain matcher's, not a second finding.
	if got := decodeHits([]byte("?a=%20&k=" + key + "&b=%2F")); len(got) != 1 || got[0].Encoding != "" {
		t.Errorf("plain key in a URL: %q", hitsOf(got))
	}
}

func TestStringEscapes(t *testing.T) {
	key := newKey("nb")
	json := strings.ReplaceAll(key, "-", `\u002d`)
	expectOne(t, "json", []byte(`{"cells":[{"source":["key = \"`+json+`\"\n"]}]}`), key, EncJSON, 1, 31, 31+len(json))
	js := strings.ReplaceAll(key, "-", `\x2d`)
	expectOne(t, "js", []byte("const k = '"+js+"';"), key, EncJS, 1, 12, 12+len(js))
	brace := strings.ReplaceAll(key, "-", `\u{2d}`)
	expectOne(t, "js brace", []byte("k = `"+brace+"`"), key, EncJS, 1, 6, 6+len(brace))
	var all strings.Builder
	for _, r := range key {
		fmt.Fprintf(&all, `\u%04x`, r)
	}
	expectOne(t, "every char", []byte(`"`+all.String()+`"`), key, EncJSON, 1, 2, 2+all.Len())
}

func TestNestedEncodings(t *testing.T) {
	key := newKey("deep")
	// PowerShell -EncodedCommand: base64 of UTF-16LE.
	cmd := "$k = '" + key + "'; Invoke-Thing $k"
	enc := base64.StdEncoding.EncodeToString(utf16Bytes(cmd, false, false))
	got := decodeHits([]byte("powershell.exe -EncodedCommand " + enc + "\n"))
	if len(got) != 1 || got[0].Encoding != EncBase64+"+"+EncUTF16LE {
		t.Errorf("base64 of utf-16: %q", hitsOf(got))
	}
	// A Kubernetes Secret whose value is itself base64.
	twice := b64("KEY=" + b64(key))
	got = decodeHits([]byte("data:\n  x: " + twice + "\n"))
	if len(got) != 1 || got[0].Encoding != "base64+base64" || got[0].Column != 6+4*8/6 {
		t.Errorf("base64 of base64: %q", hitsOf(got))
	}
	// Too deep: four layers are not decoded.
	four := b64(b64(b64(b64(key))))
	if got := decodeHits([]byte("x " + four)); len(got) != 0 {
		t.Errorf("four layers: %q", hitsOf(got))
	}
}

func TestPlaceholdersInEncodingsAreNotFindings(t *testing.T) {
	for _, p := range []string{
		"gcntfy-my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0",
		"gcntfy-notAKey-f6c7cc49-b5b7-4e67-a8ff-24f34be34523-f6c7cc49-b5b7-4e67-a8ff-24f34be34523",
		"gcntfy-zero-00000000-0000-0000-0000-000000000000-" + rules.NewUUID(),
	} {
		data := strings.Join([]string{
			"k: " + b64(p), "u: " + b64url(p), string(utf16Bytes(p, false, true)),
			"p: " + percentAll(p), "j: " + strings.ReplaceAll(p, "-", `\u002d`), "x: " + strings.ReplaceAll(p, "-", `\x2d`),
		}, "\n")
		if got := decodeHits([]byte(data)); len(got) != 0 {
			t.Errorf("placeholder %.20s: %q", p, hitsOf(got))
		}
	}
}

// The allow comment applies to the line of the encoded text.
func TestAllowOnEncodedLine(t *testing.T) {
	data := "a: " + b64(newKey("a")) + " # notifyscan:allow\nb: " + b64(newKey("b")) + "\n"
	var allowed, reported int
	m := &matcher{decode: true, emit: func(h hit) {
		if h.allowed {
			allowed++
		} else {
			reported++
		}
	}}
	m.scanBytes([]byte(data))
	if allowed != 1 || reported != 1 {
		t.Fatalf("allowed %d reported %d", allowed, reported)
	}
}

// Plain text with no encodings gives nothing from the decoders, and decoding
// off finds no encoded key.
func TestDecodeOff(t *testing.T) {
	data := []byte("k: " + b64(newKey("off")) + "\n")
	var n int
	m := &matcher{emit: func(hit) { n++ }}
	m.scanBytes(data)
	if n != 0 {
		t.Fatalf("decode off found %d", n)
	}
}

// An encoded key is found exactly once, with the same place, wherever the
// window boundaries fall.
func TestEncodedAtEveryBoundary(t *testing.T) {
	key := newKey("edge")
	env := "A=1\nNOTIFY_API_KEY=" + key + "\nB=2\n"
	long := b64(strings.Repeat("padding line\n", 300) + env + strings.Repeat("tail line\n", 300))
	samples := map[string]string{
		"base64":      "data: " + b64(env) + "\n",
		"long base64": "data: " + long + "\n",
		"utf-16":      string(utf16Bytes("x = '"+key+"'\r\n", false, false)),
		"percent":     "/x?k=" + percentAll(key) + "\n",
		"json":        `"` + strings.ReplaceAll(key, "-", `\u002d`) + `"` + "\n",
	}
	bufSize := overlap + margin + 1500 // even, so windows start at even offsets
	step := bufSize - overlap
	filler := strings.Repeat("abcdefghi\n", 4*bufSize/10)
	for name, sample := range samples {
		var want []string
		for pos := 0; pos < 2*bufSize+step; pos += 2 * 37 {
			data := []byte(filler[:pos] + sample + filler[:step])
			whole := hitsOf(decodeHits(data))
			if len(whole) != 1 {
				t.Fatalf("%s at %d: whole scan %q", name, pos, whole)
			}
			var got []rules.Finding
			m := &matcher{decode: true, emit: func(h hit) { got = append(got, h.f) }}
			if _, err := m.scanStream(context.Background(), bytes.NewReader(data), make([]byte, bufSize)); err != nil {
				t.Fatal(err)
			}
			if g := hitsOf(got); !reflect.DeepEqual(g, whole) {
				t.Fatalf("%s at %d: windows %q, whole %q", name, pos, g, whole)
			}
			want = whole
		}
		_ = want
	}
}

// TestBase64WrappedShort: a key base64-encoded by itself, as `base64`
// prints it (76 columns, so two lines), is found at every alignment; at 64
// columns (openssl, PEM) a block of two or three lines is missed only
// where every sample falls on the line breaks and indentation.
func TestBase64WrappedShort(t *testing.T) {
	for _, width := range []int{76, 64} {
		for _, pre := range []string{"", "NOTIFY_API_KEY=", "notify:\n", "A=1\nB=2\nNOTIFY_API_KEY="} {
			enc := b64(pre + newKey("short") + "\n")
			var lines []string
			for s := enc; s != ""; {
				n := min(width, len(s))
				lines = append(lines, s[:n])
				s = s[n:]
			}
			missed := 0
			for shift := range 2 * probeStride {
				data := strings.Repeat("x", shift) + "\nblob: |\n  " + strings.Join(lines, "\n  ") + "\n"
				if got := decodeHits([]byte(data)); len(got) != 1 || got[0].Encoding != EncBase64 {
					missed++
				}
			}
			if width == 76 && missed > 0 || missed > 2*probeStride/8 {
				t.Errorf("width %d, %q and a key, %d lines: missed at %d of %d alignments", width, pre, len(lines), missed, 2*probeStride)
			}
		}
	}
}
