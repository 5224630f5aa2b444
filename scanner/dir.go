package scanner

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/cds-snc/notifyscan/internal/ignore"
)

// Stdin is the path that means standard input.
const Stdin = "-"

// ScanPaths scans files and directory trees, and standard input for "-".
//
// A directory is walked without following symbolic links; every regular file
// in it is read, binary or not, except git's object store (history is the git
// scan's work). A directory's .notifyscanignore applies to the files under
// it. Findings are placed at the path as reached from the argument
// ("src/app.env" for "src", "app.env" for "."). Files that cannot be read are
// in Result.Errors; the scan goes on. The error is non-nil only when the scan
// could not run at all (cancelled, or an ignore file is invalid).
func ScanPaths(ctx context.Context, paths []string, stdin io.Reader, opts Options) (*Result, error) {
	c := &collector{}
	type root struct {
		arg  string
		info fs.FileInfo
		ign  *ignore.List
	}
	var roots []root
	for _, p := range paths {
		if p == Stdin {
			roots = append(roots, root{arg: p})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			c.fail(filepath.ToSlash(p), cleanErr(err))
			continue
		}
		r := root{arg: p, info: info}
		if info.IsDir() {
			if r.ign, err = ignore.Load(filepath.Join(p, ignore.FileName)); err != nil {
				return nil, err
			}
		}
		roots = append(roots, r)
	}
	err := runUnits(ctx, opts, c, func(ctx context.Context, send func(unit) error) error {
		for _, r := range roots {
			var err error
			switch {
			case r.arg == Stdin:
				err = send(unit{path: Stdin, rel: Stdin, open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }})
			case r.info.IsDir():
				err = walkDir(ctx, r.arg, r.ign, c, send)
			default:
				err = send(fileUnit(r.arg, path.Base(filepath.ToSlash(r.arg)), nil))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := c.result()
	markTracking(ctx, res.Findings)
	return res, nil
}

func fileUnit(p, rel string, ign *ignore.List) unit {
	return unit{
		path:   reportPath(p),
		rel:    rel,
		fsPath: p,
		ign:    ign,
		open:   func() (io.ReadCloser, error) { return os.Open(p) },
	}
}

// reportPath is p with forward slashes and no leading "./".
func reportPath(p string) string {
	return path.Clean(filepath.ToSlash(p))
}

// walkDir sends every regular file under root. Directories that cannot be
// read are recorded and skipped.
func walkDir(ctx context.Context, root string, ign *ignore.List, c *collector, send func(unit) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.fail(reportPath(p), cleanErr(err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(p, d) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symbolic links are not followed; devices, sockets and pipes are not files
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("walking %s: %w", root, err)
		}
		return send(fileUnit(p, filepath.ToSlash(rel), ign))
	})
}

// skipDir reports whether a directory holds only git's compressed object
// store, which the git scan reads properly.
func skipDir(p string, d fs.DirEntry) bool {
	switch d.Name() {
	case "objects", "lfs":
		return filepath.Base(filepath.Dir(p)) == ".git"
	}
	return false
}
