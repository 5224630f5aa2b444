package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/rules"
)

// file is one archive member: name and content.
type file struct{ name, body string }

func zipOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i, f := range files {
		method := zip.Deflate
		if i%2 == 1 {
			method = zip.Store // both methods, alternately
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, f.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, f := range files {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// contentHits runs scanContent on data as the input "in/put" and returns
// the findings (as "container:line:col:encoding") and the error.
func contentHits(t testing.TB, data []byte, asStream bool) ([]string, []rules.Finding, error) {
	t.Helper()
	var fs []rules.Finding
	m := &matcher{decode: true, path: "in/put", emit: func(h hit) { fs = append(fs, h.f) }}
	var r io.Reader = bytes.NewReader(data)
	if asStream {
		r = io.MultiReader(r) // not an io.ReaderAt: a zip is spooled
	}
	n, err := scanContent(context.Background(), m, r, make([]byte, chunkSize+overlap))
	if n != int64(len(data)) {
		t.Errorf("read %d of %d bytes", n, len(data))
	}
	rules.Sort(fs)
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d:%d:%s", f.Container, f.Line, f.Column, f.Encoding))
	}
	return out, fs, err
}

func expectHits(t *testing.T, name string, data []byte, want ...string) {
	t.Helper()
	for _, stream := range []bool{false, true} {
		got, _, err := contentHits(t, data, stream)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s (stream %v):\n got %q\nwant %q", name, stream, got, want)
		}
	}
}

func TestContainers(t *testing.T) {
	key := newKey("arch")
	env := "A=1\nNOTIFY_API_KEY=" + key + "\n"
	want := "in/put!config/.env:2:16:"
	expectHits(t, "zip", zipOf(t, file{"README", "hello"}, file{"config/.env", env}), want)
	expectHits(t, "zip stored", zipOf(t, file{"config/.env", "x"}, file{"config/.env", env}), want)
	jar := zipOf(t, file{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"}, file{"app.properties", "notify.key=" + key + "\n"})
	expectHits(t, "jar", jar, "in/put!app.properties:1:12:")
	expectHits(t, "tar", tarOf(t, file{"a.txt", "nothing"}, file{"config/.env", env}), want)
	expectHits(t, "tar.gz", gzipOf(t, tarOf(t, file{"config/.env", env})), want)
	expectHits(t, "gzip", gzipOf(t, []byte(env)), "in/put!gunzip:2:16:") // "put" has no .gz to drop
	// A base64 value inside a member: both the container and the encoding.
	expectHits(t, "base64 in zip", zipOf(t, file{"k8s/secret.yaml", "data:\n  KEY: " + b64(key) + "\n"}), "in/put!k8s/secret.yaml:2:8:base64")
	// Nested: a zip inside a tar.gz inside a zip.
	inner := zipOf(t, file{"c/.env", env})
	tgz := gzipOf(t, tarOf(t, file{"lib/b.zip", string(inner)}))
	outer := zipOf(t, file{"x.txt", "x"}, file{"dist/b.tar.gz", string(tgz)})
	expectHits(t, "nested", outer, "in/put!dist/b.tar.gz!lib/b.zip!c/.env:2:16:")
}

func TestGzipMemberName(t *testing.T) {
	key := newKey("gz")
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name = "deploy/prod.env"
	io.WriteString(w, key)
	w.Close()
	expectHits(t, "header name", b.Bytes(), "in/put!prod.env:1:1:")
	got := gzMember("", []string{"logs/app.log.gz"}, "x")
	if got != "app.log" {
		t.Errorf("gzMember: %q", got)
	}
}

// Archives found by a directory scan: Path is the outer file, Container the
// member, and archive problems are input errors while the scan goes on.
func TestScanPathsArchives(t *testing.T) {
	root := t.TempDir()
	k1, k2, k3 := newKey("one"), newKey("two"), newKey("three")
	write(t, root, "build/app.zip", string(zipOf(t, file{"config/.env", "KEY=" + k1})))
	good := tarOf(t, file{"a.env", k2}, file{"b.env", strings.Repeat("x", 5000)})
	write(t, root, "dist/cut.tar", string(good[:1536+300])) // truncated in the second member
	write(t, root, "broken.zip", "PK\x03\x04 this is not really a zip "+k3)
	write(t, root, "plain.env", k3)
	res, err := ScanPaths(context.Background(), []string{root}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string { return filepath.ToSlash(filepath.Join(root, p)) }
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Path+"|"+f.Container)
	}
	want := []string{
		rel("broken.zip") + "|", // scanned as plain bytes
		rel("build/app.zip") + "|" + rel("build/app.zip") + "!config/.env",
		rel("dist/cut.tar") + "|" + rel("dist/cut.tar") + "!a.env",
		rel("plain.env") + "|",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n got %q\nwant %q", got, want)
	}
	if len(res.Errors) != 2 {
		t.Fatalf("errors: %v", res.Errors)
	}
	for i, p := range []string{"broken.zip", "dist/cut.tar"} {
		e := res.Errors[i]
		if e.Input != rel(p) || !errors.Is(e, ErrArchiveCorrupt) {
			t.Errorf("error %d: %v", i, e)
		}
	}
	if !strings.Contains(res.Errors[1].Error(), "cut.tar: inside the archive: b.env: corrupt or truncated") {
		t.Errorf("message: %v", res.Errors[1])
	}
}

func TestTruncatedArchives(t *testing.T) {
	key := newKey("early")
	body := tarOf(t, file{"first.env", key}, file{"second.bin", strings.Repeat("y", 100000)})
	tgz := gzipOf(t, body)
	for name, data := range map[string][]byte{
		"tar.gz": tgz[:len(tgz)*2/3],
		"tar":    body[:len(body)/2],
	} {
		got, _, err := contentHits(t, data, false)
		if len(got) != 1 || !strings.HasPrefix(got[0], "in/put!first.env:") {
			t.Errorf("%s: %q", name, got)
		}
		if !errors.Is(err, ErrArchiveCorrupt) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	// A truncated zip has no central directory: its raw bytes are scanned
	// (a stored member's key is still found) and the zip is reported.
	z := zipOf(t, file{"a.bin", strings.Repeat("z", 1000)}, file{"b.env", key + "\n"}, file{"c.bin", strings.Repeat("q", 50000)})
	got, _, err := contentHits(t, z[:len(z)/2], false)
	if len(got) != 1 || !strings.HasPrefix(got[0], ":") {
		t.Errorf("truncated zip: %q", got)
	}
	if !errors.Is(err, ErrArchiveCorrupt) {
		t.Errorf("truncated zip: %v", err)
	}
}

// Containers nested deeper than MaxArchiveDepth are reported, not opened.
func TestDepthLimit(t *testing.T) {
	key := newKey("deep")
	data := []byte(key)
	var names []string
	for i := range MaxArchiveDepth + 1 {
		name := fmt.Sprintf("l%d.env", i)
		if i > 0 {
			name = fmt.Sprintf("l%d.zip", i)
		}
		names = append([]string{name}, names...)
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		fw, _ := w.Create(name)
		fw.Write(data)
		w.Close()
		data = b.Bytes()
	}
	got, _, err := contentHits(t, data, false)
	if len(got) != 0 {
		t.Errorf("found %q beyond the depth limit", got)
	}
	var ae *ArchiveError
	if !errors.As(err, &ae) || len(ae.Problems) != 1 || !errors.Is(ae.Problems[0].Err, ErrArchiveLimit) ||
		ae.Problems[0].Member != strings.Join(names[:MaxArchiveDepth], "!") {
		t.Fatalf("error %v", err)
	}
	// One level less is read through.
	got, _, err = contentHits(t, zipOf(t, file{"x.zip", string(zipOf(t, file{"y.zip", string(zipOf(t, file{"z.zip", string(zipOf(t, file{"k.env", key}))}))}))}), false)
	if err != nil || len(got) != 1 || got[0] != "in/put!x.zip!y.zip!z.zip!k.env:1:1:" {
		t.Errorf("depth 4: %q %v", got, err)
	}
}

// allocated runs f and returns the bytes it allocated and the time it took.
func allocated(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, d
}

func TestBombs(t *testing.T) {
	zeros := make([]byte, 256<<20)
	key := newKey("bomb")
	// gzip: 256 MiB of zeros in about 256 KiB, then a key that is never reached.
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(zeros)
	io.WriteString(w, key)
	w.Close()
	// zip: the same in a member, declared honestly.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	fw, _ := zw.Create("zeros.bin")
	fw.Write(zeros[:64<<20])
	zw.Close()
	// zip with a header that understates the expansion: 64 MiB declared as 2 MiB.
	lying := lyingZip(t, zeros[:64<<20], 2<<20)
	for name, data := range map[string][]byte{"gzip": gz.Bytes(), "zip": zb.Bytes(), "lying zip": lying, "tar.gz bomb": gzipOf(t, tarOf(t, file{"z", string(zeros[:64<<20])}))} {
		var got []string
		var err error
		alloc, took := allocated(func() { got, _, err = contentHits(t, data, false) })
		if !errors.Is(err, ErrArchiveBomb) && !(name == "lying zip" && errors.Is(err, ErrArchiveCorrupt)) {
			t.Errorf("%s: error %v", name, err)
		}
		if len(got) != 0 {
			t.Errorf("%s: %q", name, got)
		}
		// Expanding would allocate or read hundreds of MiB; detection reads
		// about BombMinBytes. The window buffer and spool are allocated here too.
		if alloc > 16<<20 || took > 5*time.Second {
			t.Errorf("%s: allocated %d MiB in %v", name, alloc>>20, took)
		}
		t.Logf("%s (%d KiB): %v, allocated %d KiB in %v", name, len(data)>>10, err, alloc>>10, took)
	}
}

// lyingZip writes one deflated member whose header declares declared bytes.
func lyingZip(t *testing.T, content []byte, declared uint64) []byte {
	var comp bytes.Buffer
	zw := zip.NewWriter(&comp)
	fw, _ := zw.CreateHeader(&zip.FileHeader{Name: "x", Method: zip.Deflate})
	fw.Write(content)
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(comp.Bytes()), int64(comp.Len()))
	raw, _ := zr.File[0].OpenRaw()
	rawBytes, _ := io.ReadAll(raw)
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	rw, err := w.CreateRaw(&zip.FileHeader{Name: "x", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(rawBytes)), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(rawBytes)
	w.Close()
	return b.Bytes()
}

func TestMemberLimit(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := range MaxArchiveMembers + 1 {
		w.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store})
	}
	w.Close()
	_, _, err := contentHits(t, b.Bytes(), false)
	if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "more than 10000 members") {
		t.Fatalf("error %v", err)
	}
}

// Member names are shown, never used as paths, and cleaned for printing.
func TestMemberNames(t *testing.T) {
	key := newKey("names")
	data := tarOf(t, file{"../../etc/evil\x1b[31m\n.env", key})
	got, _, err := contentHits(t, data, false)
	if err != nil || len(got) != 1 || got[0] != "in/put!../../etc/evil\ufffd[31m\ufffd.env:1:1:" {
		t.Fatalf("%q %v", got, err)
	}
}

// Placeholders stay placeholders inside archives and encodings.
func TestPlaceholdersInArchives(t *testing.T) {
	p := "gcntfy-my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
	data := gzipOf(t, tarOf(t, file{"a.env", p}, file{"b.yaml", "k: " + b64(p)}))
	if got, _, err := contentHits(t, data, false); len(got) != 0 || err != nil {
		t.Fatalf("%q %v", got, err)
	}
}

func TestArchivesSameAtAnyConcurrency(t *testing.T) {
	root := t.TempDir()
	for i := range 30 {
		k := newKey(fmt.Sprint("k", i))
		switch i % 4 {
		case 0:
			write(t, root, fmt.Sprintf("z%d.zip", i), string(zipOf(t, file{"a/.env", k}, file{"b/x.yaml", "v: " + b64(k)})))
		case 1:
			write(t, root, fmt.Sprintf("t%d.tar.gz", i), string(gzipOf(t, tarOf(t, file{"c.env", k}))))
		case 2:
			write(t, root, fmt.Sprintf("u%d.ps1", i), string(utf16Bytes("$k='"+k+"'", false, true)))
		default:
			write(t, root, fmt.Sprintf("p%d.env", i), k)
		}
	}
	var prev []string
	for _, j := range []int{1, 8} {
		res, err := ScanPaths(context.Background(), []string{root}, nil, Options{Concurrency: j})
		if err != nil || len(res.Errors) != 0 {
			t.Fatal(err, res.Errors)
		}
		var got []string
		for _, f := range res.Findings {
			got = append(got, fmt.Sprintf("%s|%s|%s|%d:%d", f.Path, f.Container, f.Encoding, f.Line, f.Column))
		}
		if len(got) != 38 {
			t.Fatalf("-j %d: %d findings", j, len(got))
		}
		if prev != nil && !reflect.DeepEqual(prev, got) {
			t.Fatalf("-j %d differs", j)
		}
		prev = got
	}
}

// With decoding off, containers are plain bytes, as before.
func TestNoDecodeReadsRawBytes(t *testing.T) {
	key := newKey("raw")
	data := zipOf(t, file{"x", "y"}, file{"stored.env", key + "\n"}) // the second member is stored
	var n int
	m := &matcher{emit: func(hit) { n++ }}
	if _, err := scanContent(context.Background(), m, bytes.NewReader(data), make([]byte, chunkSize+overlap)); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
}
