package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"
)

// Containers: zip (and jar, and every format built on zip), tar, gzip and
// tar.gz, recognised by their first bytes, never by their names. Their
// members are scanned as files of their own: a finding's Container is
// "outer.zip!inner/file" (nested: "a.zip!b.tar.gz!c/.env"), its Path the
// outer file, and its Line and Column those inside the member. A gzip
// stream that holds a tar is one container ("b.tar.gz!c/.env"); one that
// holds a single file is named after it ("x.log.gz!x.log").
//
// Reading is bounded: nothing is written to disk, member names are only
// ever strings in a report, and these limits hold for each input (a file, a
// blob). What is not read because of them, or because a container is
// corrupt or truncated, is reported as an *ArchiveError; the rest of the
// input, and of the scan, goes on.
const (
	MaxArchiveDepth   = 4         // containers inside containers; the next level is reported, not opened
	MaxArchiveMembers = 10000     // members read from one archive
	MaxMemberBytes    = 256 << 20 // bytes read from one member
	MaxInflatedBytes  = 1 << 30   // bytes decompressed for one input, all layers together
	MaxZipSpool       = 64 << 20  // a zip not readable in place (in a stream, in an archive) is held in memory up to this size
	BombRatio         = 100       // a layer that expands more than this many times...
	BombMinBytes      = 1 << 20   // ...past this many bytes is a bomb: it is reported and not expanded further
)

// Why a container could not be read completely; an ArchiveError's problems
// wrap one of these.
var (
	ErrArchiveBomb    = errors.New("decompression bomb: expands more than 100 times, not expanded")
	ErrArchiveLimit   = errors.New("over a reading limit")
	ErrArchiveCorrupt = errors.New("corrupt or truncated")
)

// ArchiveError is what scanContent returns when an input's containers could
// not be read completely. It is not fatal: everything else in the input was
// scanned and its findings stand; but the scan is incomplete, so the input
// belongs in Result.Errors.
type ArchiveError struct {
	Problems []ArchiveProblem // in the order met
}

// ArchiveProblem is one member (or the container itself, Member "") that
// could not be read completely.
type ArchiveProblem struct {
	Member string // the path inside the input, "b.tar.gz!c/x.zip"; "" for the input itself
	Err    error  // wraps ErrArchiveBomb, ErrArchiveLimit or ErrArchiveCorrupt
}

func (p ArchiveProblem) Error() string {
	if p.Member == "" {
		return p.Err.Error()
	}
	return p.Member + ": " + p.Err.Error()
}

// Error lists the problems on one line.
func (e *ArchiveError) Error() string {
	const show = 5
	var parts []string
	for i, p := range e.Problems {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Problems)-show))
			break
		}
		parts = append(parts, p.Error())
	}
	return "inside the archive: " + strings.Join(parts, "; ")
}

// Is lets errors.Is find the kind of any problem.
func (e *ArchiveError) Is(target error) bool {
	for _, p := range e.Problems {
		if errors.Is(p.Err, target) {
			return true
		}
	}
	return false
}

// ContainerPath is the Finding.Container of a member found inside the input
// at path: "path!inner". Sources that know an input's path only after
// scanning it (git blobs) use it to complete Container.
func ContainerPath(path, inner string) string {
	if path == "" || inner == "" || strings.HasPrefix(inner, path+"!") {
		return inner
	}
	return path + "!" + inner
}

// container kinds
const (
	kindPlain = iota
	kindZip
	kindGzip
	kindTar
)

// sniffLen is how many bytes identify a container: a tar header.
const sniffLen = 512

// sniff names the container that head, the first bytes of a stream, starts.
func sniff(head []byte) int {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip
	case len(head) >= 10 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return kindGzip
	case isTarHeader(head):
		return kindTar
	}
	return kindPlain
}

// isTarHeader reports whether head starts with a POSIX or GNU tar header
// whose checksum is right.
func isTarHeader(head []byte) bool {
	if len(head) < sniffLen || string(head[257:262]) != "ustar" {
		return false
	}
	var sum int64
	for i, c := range head[:sniffLen] {
		if 148 <= i && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	var want int64
	field := bytes.Trim(head[148:156], " \x00")
	if len(field) == 0 {
		return false
	}
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	return sum == want
}

// archiveScan is the walk through one input's containers.
type archiveScan struct {
	ctx      context.Context
	buf      []byte   // the window buffer: free whenever no member is being matched
	root     *matcher // the input's matcher; members get matchers that emit through it
	inflated int64    // bytes decompressed so far
	problems []ArchiveProblem
	stop     bool     // MaxInflatedBytes reached: no more members are read
	layers   []*guard // the guards of the layers around what is being read
	top      io.Reader
	inPlace  int64 // the size of the input, when it is a zip read in place
}

// stopped reports whether a layer around what is being read was stopped at
// a limit: a member cut short by it is not corrupt, and is not reported.
func (a *archiveScan) stopped() bool {
	for _, g := range a.layers {
		if g.err != nil {
			return true
		}
	}
	return false
}

// within reads through the layer g while f runs.
func (a *archiveScan) within(g *guard, f func() error) error {
	a.layers = append(a.layers, g)
	defer func() { a.layers = a.layers[:len(a.layers)-1] }()
	return f()
}

func (a *archiveScan) problem(chain []string, err error) {
	a.problems = append(a.problems, ArchiveProblem{Member: strings.Join(chain, "!"), Err: err})
}

// scanArchived matches r with m, looking inside containers and encodings:
// scanContent's work when decoding is on.
func scanArchived(ctx context.Context, m *matcher, r io.Reader, buf []byte) (int64, error) {
	cr := &countReader{r: r}
	a := &archiveScan{ctx: ctx, buf: buf, root: m, top: r}
	err := a.content(m, cr, nil, "")
	if err == nil && !cr.eof && a.inPlace == 0 {
		// What a container left unread (past a limit, after its end) is
		// read out, so that a stream of several inputs (git cat-file) stays
		// in step and the byte count is the input's.
		_, err = io.Copy(io.Discard, cr)
	}
	n := max(cr.n, a.inPlace)
	if err == nil && len(a.problems) > 0 {
		err = &ArchiveError{Problems: a.problems}
	}
	return n, err
}

// readerAt returns r as an io.ReaderAt and its size, if it is one (a file,
// a bytes.Reader), so that a zip can be read in place.
func readerAt(r io.Reader) (io.ReaderAt, int64) {
	switch v := r.(type) {
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return v, v.Size()
	case interface {
		io.ReaderAt
		Stat() (fs.FileInfo, error)
	}:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return v, fi.Size()
		}
	}
	return nil, 0
}

// content matches what r yields with m: plain content directly, a container
// by its members. chain is the path of r inside the input (nil for the input
// itself). gzName, when r is the output of a gzip stream, is the name its
// content gets if it is not a tar. The error is r's read error or
// cancellation; problems inside containers are recorded in a.
func (a *archiveScan) content(m *matcher, r io.Reader, chain []string, gzName string) error {
	n, err := io.ReadFull(r, a.buf)
	eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !eof {
		return err
	}
	head := a.buf[:n]
	kind := sniff(head)
	if gzName != "" && kind != kindTar {
		// A gzip stream holding one file (not a tar): name it.
		chain = append(chain[:len(chain):len(chain)], gzName)
		m = a.member(chain)
	}
	if kind != kindPlain && len(chain) >= MaxArchiveDepth {
		a.problem(chain, fmt.Errorf("%w: containers nested more than %d deep, not opened", ErrArchiveLimit, MaxArchiveDepth))
		kind = kindPlain
	}
	if kind == kindPlain {
		_, err := m.scanStream(a.ctx, &prefixReader{pre: head, r: r, eof: eof}, a.buf)
		return err
	}
	pre := bytes.Clone(head)
	rest := func() io.Reader {
		if eof {
			return bytes.NewReader(pre)
		}
		return io.MultiReader(bytes.NewReader(pre), r)
	}
	switch kind {
	case kindGzip:
		return a.gzip(m, rest(), pre, chain)
	case kindTar:
		return a.tar(rest(), chain)
	}
	var at io.ReaderAt
	var size int64
	if chain == nil {
		// The input itself: a file or an in-memory blob is read in place.
		if at, size = readerAt(a.top); at != nil {
			a.inPlace = size
		}
	}
	if at == nil {
		var err error
		if at, size, err = a.spool(m, rest(), chain); at == nil {
			return err
		}
	}
	return a.zip(m, at, size, chain)
}

// member returns the matcher for a member at chain: it reports through the
// input's matcher with Container set, and knows Notify context from the
// member's name as a file's from its path.
func (a *archiveScan) member(chain []string) *matcher {
	inner := strings.Join(chain, "!")
	return &matcher{
		notifyContext: a.root.notifyContext || pathHintsNotify(chain[len(chain)-1]),
		decode:        true,
		emit: func(h hit) {
			h.f.Container = ContainerPath(a.root.path, inner)
			a.root.emit(h)
		},
	}
}

// plain scans r's raw bytes with m, after a container could not be opened.
func (a *archiveScan) plain(m *matcher, r io.Reader) error {
	_, err := m.scanStream(a.ctx, r, a.buf)
	return err
}

// gzip matches the content of a gzip stream.
func (a *archiveScan) gzip(m *matcher, r io.Reader, pre []byte, chain []string) error {
	if _, err := gzip.NewReader(bytes.NewReader(pre)); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		// Not gzip after all: the bytes are what there is to scan.
		a.problem(chain, fmt.Errorf("%w: gzip header: %v", ErrArchiveCorrupt, err))
		return a.plain(m, r)
	}
	in := &countReader{r: r}
	src := &latch{r: in}
	zr, err := gzip.NewReader(src)
	if err != nil {
		if err := src.failed(); err != nil {
			return err
		}
		a.problem(chain, fmt.Errorf("%w: gzip: %v", ErrArchiveCorrupt, err))
		return nil
	}
	out := &guard{r: zr, a: a, in: func() int64 { return in.n }, inflate: true}
	lr := &latch{r: out}
	name := gzMember(zr.Name, chain, a.root.path)
	err = a.within(out, func() error { return a.content(m, lr, chain, name) })
	if err := src.failed(); err != nil {
		return err // the input itself could not be read
	}
	a.after(out, chain)
	if err := lr.failed(); err != nil && !src.stopped() {
		a.problem(chain, fmt.Errorf("%w: gzip: %v", ErrArchiveCorrupt, err))
	}
	return err
}

// gzMember names the file a gzip stream holds: the name in its header, or
// the container's name without ".gz".
func gzMember(header string, chain []string, root string) string {
	if header != "" {
		return cleanName(path.Base(strings.ReplaceAll(header, "\\", "/")))
	}
	outer := root
	if len(chain) > 0 {
		outer = chain[len(chain)-1]
	}
	base := path.Base(outer)
	switch {
	case strings.HasSuffix(base, ".tgz"):
		return strings.TrimSuffix(base, ".tgz") + ".tar"
	case strings.HasSuffix(base, ".gz") && len(base) > 3:
		return strings.TrimSuffix(base, ".gz")
	case strings.HasSuffix(base, ".gzip") && len(base) > 5:
		return strings.TrimSuffix(base, ".gzip")
	}
	return "gunzip"
}

// after records why a layer stopped early, if it did.
func (a *archiveScan) after(g *guard, chain []string) {
	if g.err != nil {
		a.problem(chain, g.err)
	}
}

// tar matches the members of a tar stream.
func (a *archiveScan) tar(r io.Reader, chain []string) error {
	src := &latch{r: r}
	err := a.tarMembers(tar.NewReader(src), src, chain)
	if err == nil {
		err = src.failed() // the stream the tar is in could not be read
	}
	return err
}

func (a *archiveScan) tarMembers(tr *tar.Reader, src *latch, chain []string) error {
	for count := 0; ; count++ {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if src.err == nil && !a.stopped() { // else a layer below is to blame, and says so
				a.problem(chain, fmt.Errorf("%w: tar: %v", ErrArchiveCorrupt, err))
			}
			return nil
		}
		if count == MaxArchiveMembers {
			a.problem(chain, fmt.Errorf("%w: more than %d members, the rest not read", ErrArchiveLimit, MaxArchiveMembers))
			return nil
		}
		if a.stop {
			return nil
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != '\x00' {
			continue // directories, links, devices: no content of their own
		}
		mc := append(chain[:len(chain):len(chain)], cleanName(hdr.Name))
		body := &guard{r: tr, a: a, limit: MaxMemberBytes}
		lr := &latch{r: body}
		if err := a.within(body, func() error { return a.content(a.member(mc), lr, mc, "") }); err != nil {
			return err
		}
		a.after(body, mc)
		if err := lr.failed(); err != nil {
			if src.err == nil && !a.stopped() {
				a.problem(mc, fmt.Errorf("%w: %v", ErrArchiveCorrupt, err))
			}
			return nil // the stream is broken: nothing after can be read
		}
		if src.err != nil {
			return nil
		}
	}
}

// spool reads a zip that is not in a file into memory, up to MaxZipSpool.
// A larger one is scanned as plain bytes and reported; at is then nil.
func (a *archiveScan) spool(m *matcher, r io.Reader, chain []string) (io.ReaderAt, int64, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, MaxZipSpool+1))
	if err != nil {
		return nil, 0, err
	}
	if n > MaxZipSpool {
		a.problem(chain, fmt.Errorf("%w: zip larger than %d MiB outside a file, scanned as plain bytes", ErrArchiveLimit, MaxZipSpool>>20))
		return nil, 0, a.plain(m, io.MultiReader(&b, r))
	}
	return bytes.NewReader(b.Bytes()), n, nil
}

// zip matches the members of a zip archive read in place.
func (a *archiveScan) zip(m *matcher, at io.ReaderAt, size int64, chain []string) error {
	raw := func() io.Reader { return io.NewSectionReader(at, 0, size) }
	if records, ok := zipRecords(at, size); ok && records > MaxArchiveMembers {
		a.problem(chain, fmt.Errorf("%w: more than %d members (%d), not opened; scanned as plain bytes", ErrArchiveLimit, MaxArchiveMembers, records))
		return a.plain(m, raw())
	}
	zr, err := zip.NewReader(at, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are only strings here
		a.problem(chain, fmt.Errorf("%w: zip: %v; scanned as plain bytes", ErrArchiveCorrupt, err))
		return a.plain(m, raw())
	}
	count := 0
	for _, f := range zr.File {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		if a.stop {
			return nil
		}
		mode := f.Mode()
		if mode.IsDir() || strings.HasSuffix(f.Name, "/") || mode&fs.ModeType != 0 {
			continue
		}
		if count++; count > MaxArchiveMembers {
			a.problem(chain, fmt.Errorf("%w: more than %d members, the rest not read", ErrArchiveLimit, MaxArchiveMembers))
			return nil
		}
		mc := append(chain[:len(chain):len(chain)], cleanName(f.Name))
		switch {
		case f.Flags&1 != 0:
			a.problem(mc, fmt.Errorf("%w: encrypted, not read", ErrArchiveLimit))
			continue
		case f.Method != zip.Store && f.Method != zip.Deflate:
			a.problem(mc, fmt.Errorf("%w: compression method %d not supported, not read", ErrArchiveLimit, f.Method))
			continue
		case f.UncompressedSize64 > BombMinBytes && f.UncompressedSize64/max(1, f.CompressedSize64) > BombRatio:
			a.problem(mc, fmt.Errorf("%w (%d bytes from %d)", ErrArchiveBomb, f.UncompressedSize64, f.CompressedSize64))
			continue
		}
		rc, err := f.Open()
		if err != nil {
			a.problem(mc, fmt.Errorf("%w: %v", ErrArchiveCorrupt, err))
			continue
		}
		compressed := int64(f.CompressedSize64)
		body := &guard{r: rc, a: a, limit: MaxMemberBytes, in: func() int64 { return compressed }, inflate: f.Method == zip.Deflate}
		lr := &latch{r: body}
		err = a.within(body, func() error { return a.content(a.member(mc), lr, mc, "") })
		rc.Close()
		if err != nil {
			return err
		}
		a.after(body, mc)
		if err := lr.failed(); err != nil {
			a.problem(mc, fmt.Errorf("%w: %v", ErrArchiveCorrupt, err))
		}
	}
	return nil
}

// zipRecords reads the number of entries a zip's end-of-central-directory
// record declares, so that a zip with millions of entries is refused before
// archive/zip allocates one header for each.
func zipRecords(at io.ReaderAt, size int64) (uint64, bool) {
	const eocdLen, maxComment = 22, 65535
	tail := min(size, eocdLen+maxComment)
	b := make([]byte, tail)
	if _, err := at.ReadAt(b, size-tail); err != nil && err != io.EOF {
		return 0, false
	}
	i := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if i < 0 || i+eocdLen > len(b) {
		return 0, false
	}
	records := uint64(binary.LittleEndian.Uint16(b[i+10:]))
	if records != 0xffff || i < 20 || string(b[i-20:i-16]) != "PK\x06\x07" {
		return records, true
	}
	off := int64(binary.LittleEndian.Uint64(b[i-20+8:]))
	var z [56]byte
	if off < 0 || off > size-56 {
		return 0, false
	}
	if _, err := at.ReadAt(z[:], off); err != nil || string(z[:4]) != "PK\x06\x06" {
		return 0, false
	}
	return binary.LittleEndian.Uint64(z[32:]), true
}

// cleanName makes a member name safe to print: control characters and
// invalid UTF-8 become U+FFFD, and it is cut to 512 bytes. It is never used
// as a file system path.
func cleanName(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i >= 512 {
			b.WriteString("...")
			break
		}
		if r < ' ' || r == 0x7f || (r == utf8.RuneError) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// errStopped ends a stream that a guard stopped; the guard reports why.
var errStopped = errors.New("stopped at a reading limit")

// guard bounds one layer: a member's bytes (limit) and, for a layer that
// decompresses (inflate), its expansion over the compressed bytes it read
// (in) and the input's MaxInflatedBytes. Past a bound it ends the stream
// early with errStopped and keeps the reason in err.
type guard struct {
	r       io.Reader
	a       *archiveScan
	limit   int64        // 0: no limit of its own
	in      func() int64 // compressed bytes read so far; nil when not decompressing
	inflate bool
	n       int64 // bytes produced
	err     error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, errStopped
	}
	if g.limit > 0 && g.n+int64(len(p)) > g.limit {
		p = p[:max(0, g.limit-g.n)]
		if len(p) == 0 {
			// Is there more? Then the member was cut.
			var one [1]byte
			if k, _ := g.r.Read(one[:]); k > 0 {
				g.err = fmt.Errorf("%w: larger than %d MiB, only the first %d MiB read", ErrArchiveLimit, g.limit>>20, g.limit>>20)
				return 0, errStopped
			}
			return 0, io.EOF
		}
	}
	k, err := g.r.Read(p)
	g.n += int64(k)
	if g.inflate {
		g.a.inflated += int64(k)
		if in := g.in(); g.n > BombMinBytes && g.n > BombRatio*max(in, 1) {
			g.err = fmt.Errorf("%w (over %d bytes from %d)", ErrArchiveBomb, g.n, in)
			return k, errStopped
		}
		if g.a.inflated > MaxInflatedBytes {
			g.a.stop = true
			g.err = fmt.Errorf("%w: more than %d MiB decompressed for this input, the rest not read", ErrArchiveLimit, MaxInflatedBytes>>20)
			return k, errStopped
		}
	}
	return k, err
}

// latch passes a stream through until its first error other than io.EOF,
// which it keeps and turns into io.EOF: the matcher then matches what was
// read (a truncated member's first part) and the caller reports the error.
// A guard's errStopped is kept as well, but is no error of the stream:
// failed hides it.
type latch struct {
	r   io.Reader
	err error
}

// failed is the stream's error, if it had one.
func (l *latch) failed() error {
	if errors.Is(l.err, errStopped) {
		return nil
	}
	return l.err
}

// stopped reports whether a guard below stopped the stream.
func (l *latch) stopped() bool { return errors.Is(l.err, errStopped) }

func (l *latch) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, io.EOF
	}
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		l.err = err
		err = io.EOF
	}
	return n, err
}

// countReader counts the bytes read through it, and sees the end.
type countReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	return n, err
}

// prefixReader yields pre, then r: the first bytes of a stream, already
// read into the window buffer to see what the stream is, and the rest. Its
// first Read is given that same buffer, so the copy moves nothing.
type prefixReader struct {
	pre []byte
	r   io.Reader
	eof bool // r has nothing after pre
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		var n int
		if len(b) >= len(p.pre) && &b[0] == &p.pre[0] {
			n = len(p.pre) // already in place
		} else {
			n = copy(b, p.pre)
		}
		p.pre = p.pre[n:]
		return n, nil
	}
	if p.eof {
		return 0, io.EOF
	}
	return p.r.Read(b)
}
