package scanner

import (
	"cmp"
	"context"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cds-snc/notifyscan/internal/ignore"
	"github.com/cds-snc/notifyscan/rules"
)

// Options tune a scan. The zero Options are the defaults.
type Options struct {
	// Concurrency is the number of content workers; 0 means twice GOMAXPROCS.
	Concurrency int
	// NoDecode turns off the search for keys in encodings and archives.
	NoDecode bool
}

func (o Options) workers() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// Stats counts what a scan read.
type Stats struct {
	Files   int64 // files (or blobs, messages) matched
	Bytes   int64 // bytes matched, before decoding
	Blobs   int64 // distinct git blobs read
	Commits int64 // git commits walked
}

// Result is what a scan found and what it could not read.
type Result struct {
	Findings []rules.Finding // sorted with rules.Sort
	Ignored  int             // findings suppressed by notifyscan:allow or the ignore file
	Errors   []*InputError   // inputs that could not be read, sorted
	Stats    Stats
	// Unreachable counts keys found only in git objects that no ref
	// reaches; a history scan reports them only with GitOptions.AllObjects.
	Unreachable int
}

// InputError names an input (a path, a blob, a ref) that could not be read
// completely. A scan with input errors is incomplete and must not pass.
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return e.Input + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// unit is one piece of content a source hands to the engine.
type unit struct {
	path   string // report path, slash-separated
	rel    string // path relative to the root, for ignore globs
	fsPath string // file system path, for work-tree tracking; empty if none
	open   func() (io.ReadCloser, error)
	ign    *ignore.List
}

// collector gathers findings and errors from concurrent workers.
type collector struct {
	mu       sync.Mutex
	findings []rules.Finding
	errors   []*InputError
	ignored  int
	files    atomic.Int64
	bytes    atomic.Int64
}

// add records a hit for a place; l decides whether it is ignored.
func (c *collector) add(h hit, l *ignore.List, rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.allowed || l.Fingerprint(h.f.Key.Fingerprint()) || l.Path(rel) {
		c.ignored++
		return
	}
	c.findings = append(c.findings, h.f)
}

func (c *collector) fail(input string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, &InputError{Input: input, Err: err})
}

// result sorts and returns what was collected.
func (c *collector) result() *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	rules.Sort(c.findings)
	slices.SortFunc(c.errors, func(a, b *InputError) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Err.Error(), b.Err.Error()))
	})
	return &Result{
		Findings: c.findings,
		Ignored:  c.ignored,
		Errors:   c.errors,
		Stats:    Stats{Files: c.files.Load(), Bytes: c.bytes.Load()},
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize+overlap); return &b }}

// runUnits scans every unit that produce sends, with a bounded pool of
// workers. produce must stop when send returns an error (the context is
// done). The returned error is the context's or produce's; input errors are
// in the collector.
func runUnits(ctx context.Context, opts Options, c *collector, produce func(ctx context.Context, send func(unit) error) error) error {
	g, ctx := errgroup.WithContext(ctx)
	units := make(chan unit)
	g.Go(func() error {
		defer close(units)
		return produce(ctx, func(u unit) error {
			select {
			case units <- u:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	for range opts.workers() {
		g.Go(func() error {
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			for u := range units {
				if err := scanUnit(ctx, opts, c, u, *bp); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// scanUnit reads one unit through the matcher. Read errors are recorded
// against the unit; only cancellation stops the pool.
func scanUnit(ctx context.Context, opts Options, c *collector, u unit, buf []byte) error {
	rc, err := u.open()
	if err != nil {
		c.fail(u.path, cleanErr(err))
		return nil
	}
	defer rc.Close()
	m := &matcher{
		notifyContext: pathHintsNotify(u.rel),
		decode:        !opts.NoDecode,
		path:          u.path,
		emit: func(h hit) {
			h.f.Path = u.path
			c.add(h, u.ign, u.rel)
		},
	}
	n, err := scanContent(ctx, m, rc, buf)
	c.files.Add(1)
	c.bytes.Add(n)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A path the ignore file names is not asked for: what could not be
		// read in it (a deliberate archive-bomb fixture, say) does not fail
		// the scan.
		if !u.ign.Path(u.rel) {
			c.fail(u.path, cleanErr(err))
		}
	}
	return nil
}

// scanContent is the one place content is matched: plain text, then (unless
// turned off) what is encoded or archived in it. Containers (zip, tar, gzip)
// are recognised by their first bytes and their members scanned instead of
// their raw bytes. It returns the bytes read from r, and an error if r could
// not be read (the content is incomplete) or, as an *ArchiveError, if
// containers in it could not be read completely (everything else was, and
// its hits stand).
func scanContent(ctx context.Context, m *matcher, r io.Reader, buf []byte) (int64, error) {
	if !m.decode {
		return m.scanStream(ctx, r, buf)
	}
	return scanArchived(ctx, m, r, buf)
}
