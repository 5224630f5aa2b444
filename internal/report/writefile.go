package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile puts what write writes into the file at path. A report is never
// half-written, and a non-regular target such as /dev/null, /dev/stdout or a
// pipe is written into, never replaced:
//
//   - If path names something other than a regular file (after following
//     symbolic links), it is opened for writing and written directly.
//   - Otherwise the output goes to a temporary file in the same directory,
//     which is synced and renamed over path only when write and the sync
//     succeed. On any error the old file, if any, is left untouched and the
//     temporary file is removed. A replaced file keeps its permissions; a
//     new one gets 0644.
//
// Errors name path. Callers handle "-" for standard output themselves.
func WriteFile(path string, write func(io.Writer) error) error {
	if err := writeFile(path, write); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	target := path
	perm := fs.FileMode(0o644)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return errors.New("is a directory")
	case err == nil && !fi.Mode().IsRegular():
		return writeInto(path, write)
	case err == nil:
		perm = fi.Mode().Perm()
		// Replace the file a symbolic link points to, not the link.
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}

	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// writeInto writes into an existing non-regular file (a device or a pipe).
func writeInto(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	werr := write(f)
	cerr := f.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

// syncDir makes a rename in dir durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
