package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sourceText generates n bytes of plain source text: code, comments,
// strings with escapes and format verbs, URLs, hex ids and short base64
// tokens, in proportions like those of the Go sources (where one 16-byte
// probe in thirteen is free of spaces), the way a repository without
// archives or long base64 runs looks.
func sourceText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("func return if else for range err nil value config client request response handler " +
		"service notification template email sms user id name status data buffer reader writer context cancel " +
		"deadline timeout retry backoff append len make string int bool byte error fmt Printf Errorf json yaml " +
		"the a of to and in is that it for with as on be this by from at or an are")
	lines := []struct {
		weight int
		line   func() string
	}{
		{40, func() string {
			return "\t" + pick(r, words) + " := " + pick(r, words) + "." + pick(r, words) + "(ctx, " + pick(r, words) + ")"
		}},
		{25, func() string { return "\t// " + strings.Join(picks(r, words, 6+r.IntN(10)), " ") + "." }},
		{10, func() string {
			return "\tif err != nil {\n\t\treturn fmt.Errorf(\"" + pick(r, words) + ": %w\", err)\n\t}"
		}},
		{15, func() string { return []string{"", "}", "\t}", "\treturn nil"}[r.IntN(4)] }},
		{3, func() string { return "\tlog.Printf(\"%d items in %5.2fs\\n\", n, d)" }},
		{2, func() string {
			return "\turl := \"https://api.example.org/v2/" + pick(r, words) + "?q=a%20b&page=" + fmt.Sprint(r.IntN(99)) + "\""
		}},
		{2, func() string {
			return fmt.Sprintf("\tid := \"%08x-%04x-4%03x-8%03x-%012x\"", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48))
		}},
		{1, func() string { return "\tre := regexp.MustCompile(`^[a-z]+\\d{2,}\\s*$`)" }},
		{1, func() string { return "\ttoken := \"" + b64(fmt.Sprint(r.Uint64()))[:16] + "\" // short base64" }},
		{1, func() string {
			return "\tpath := \"/usr/local/share/" + pick(r, words) + "/" + pick(r, words) + ".conf\""
		}},
	}
	total := 0
	for _, l := range lines {
		total += l.weight
	}
	var b bytes.Buffer
	for b.Len() < n {
		w := r.IntN(total)
		for _, l := range lines {
			if w -= l.weight; w < 0 {
				b.WriteString(l.line())
				break
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

func pick(r *rand.Rand, w []string) string { return w[r.IntN(len(w))] }

func picks(r *rand.Rand, w []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = pick(r, w)
	}
	return out
}

// goSources returns the Go standard library's non-test sources (real text
// with escapes, URLs and hex), up to n bytes, or nil.
func goSources(n int) []byte {
	var b bytes.Buffer
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || b.Len() >= n {
			return filepath.SkipAll
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			if data, err := os.ReadFile(p); err == nil {
				b.Write(data)
			}
		}
		return nil
	})
	if b.Len() < n {
		return nil
	}
	return b.Bytes()[:n]
}

func benchScan(b *testing.B, data []byte, decode bool) {
	m := &matcher{decode: decode, emit: func(hit) {}}
	buf := make([]byte, chunkSize+overlap)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := scanContent(context.Background(), m, bytes.NewReader(data), buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanText compares the scanner on plain source text with decoding
// off (NoDecode) and on. The cost of decoding is the ratio of the two.
func BenchmarkScanText(b *testing.B) {
	data := sourceText(16 << 20)
	b.Run("generated/NoDecode", func(b *testing.B) { benchScan(b, data, false) })
	b.Run("generated/Decode", func(b *testing.B) { benchScan(b, data, true) })
	if src := goSources(16 << 20); src != nil {
		b.Run("gosrc/NoDecode", func(b *testing.B) { benchScan(b, src, false) })
		b.Run("gosrc/Decode", func(b *testing.B) { benchScan(b, src, true) })
	}
}

// writeTree writes files of generated source text, sizes 2 to 64 KiB, that
// add up to about total bytes, and returns the root.
func writeTree(tb testing.TB, total int) string {
	root := tb.TempDir()
	text := sourceText(total + 64<<10)
	r := rand.New(rand.NewPCG(3, 4))
	for i, off := 0, 0; off < total; i++ {
		n := 2<<10 + r.IntN(62<<10)
		p := filepath.Join(root, fmt.Sprintf("pkg%02d", i%40), fmt.Sprintf("file%04d.go", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, text[off:off+n], 0o644); err != nil {
			tb.Fatal(err)
		}
		off += n
	}
	return root
}

// BenchmarkScanTree scans a tree of plain source files (no archives, no long
// base64 runs) with decoding off and on, one worker and the default pool.
func BenchmarkScanTree(b *testing.B) {
	const total = 32 << 20
	root := writeTree(b, total)
	for _, j := range []int{1, 0} {
		for _, noDecode := range []bool{true, false} {
			b.Run(fmt.Sprintf("j%d/NoDecode=%v", j, noDecode), func(b *testing.B) {
				b.SetBytes(total)
				for b.Loop() {
					if _, err := ScanPaths(context.Background(), []string{root}, nil, Options{Concurrency: j, NoDecode: noDecode}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// worstCase is an input built to make the decoders work: long runs of the
// base64 alphabet, hex, UTF-16, escapes, minified code. bound is the most
// decoding may cost, as a ratio of CPU time with decoding on to off: the
// measured ratio with room for a busy machine. Text dense with escapes must
// be decoded whole (a key may be in it); everything else is mostly passed
// over by the pre-check and the base64 filter.
type worstCase struct {
	name  string
	data  []byte
	bound float64
}

// worstCases builds each worst case, n bytes long.
func worstCases(n int) []worstCase {
	r := rand.New(rand.NewPCG(9, 10))
	const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	fill := func(line func(*bytes.Buffer)) []byte {
		var b bytes.Buffer
		b.Grow(n + 64<<10)
		for b.Len() < n {
			line(&b)
		}
		return b.Bytes()[:n]
	}
	repeat := func(s string, sep string) []byte {
		return fill(func(b *bytes.Buffer) { b.WriteString(s); b.WriteString(sep) })
	}
	random := func(alphabet string, width int) []byte {
		return fill(func(b *bytes.Buffer) {
			for range width {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
			b.WriteByte('\n')
		})
	}
	text := sourceText(n/2 + 1)
	return []worstCase{
		{"base64 alphabet, lines of 100", repeat(strings.Repeat("x", 100), "\n"), 8},
		{"base64 alphabet, lines of 1000", repeat(strings.Repeat("x", 1000), "\n"), 3.5},
		{"base64 alphabet, lines of 76", repeat(strings.Repeat("x", 76), "\n"), 7},
		{"base64 alphabet, one line", bytes.Repeat([]byte("x"), n), 3},
		{"base64 of zeros, lines of 1000", repeat(strings.Repeat("A", 1000), "\n"), 3.5},
		{"random base64, lines of 1000", random(b64Alphabet, 1000), 4},
		{"random base64, wrapped at 76", random(b64Alphabet, 76), 6},
		{"random hex, lines of 1000", random("0123456789abcdef", 1000), 4},
		{"UTF-16 text", utf16Bytes(string(text), false, true)[:n], 6},
		{"UTF-16 units of hex", bytes.Repeat([]byte("a\x00b\x00"), n/4), 4},
		{"percent escapes", repeat(strings.Repeat("%41", 300), "\n"), 12},
		{"percent-escaped dashes", repeat(strings.Repeat("a%2D", 300), "\n"), 15},
		{"JSON escapes", repeat(strings.Repeat(`\u0041`, 300), "\n"), 12},
		{"minified JavaScript", repeat(`var a="\u00e9t\u00e9",u="/x?q=%20";function f(b){return b.c+a+u}`, ""), 3},
		// Base64 of text is decoded (the filter cannot tell it from base64
		// of base64), and the text it decodes to is scanned again.
		{"base64 of text, lines of 1000", fill(func(b *bytes.Buffer) {
			i := r.IntN(len(text) - 750)
			b.WriteString(base64.StdEncoding.EncodeToString(text[i : i+750]))
			b.WriteByte('\n')
		}), 5},
	}
}

// BenchmarkScanWorst scans each worst case with decoding off and on.
func BenchmarkScanWorst(b *testing.B) {
	for _, c := range worstCases(16 << 20) {
		b.Run(c.name+"/NoDecode", func(b *testing.B) { benchScan(b, c.data, false) })
		b.Run(c.name+"/Decode", func(b *testing.B) { benchScan(b, c.data, true) })
	}
}
