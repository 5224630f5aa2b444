package scanner

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// readAll hands every object in the object store to s's handlers. Packs
// are read in-process (see pack.go); loose objects, objects in packs this
// reader cannot read, and objects it leaves are read by git cat-file, at
// the same time.
func (r *gitRepo) readAll(ctx context.Context, workers int, s *objScan) error {
	objDir, err := r.objectDir(ctx)
	if err != nil {
		return err
	}
	packs, complete := openPacks(objDir)
	defer closePacks(packs)
	if len(packs) == 0 {
		return r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
			return r.listObjects(ctx, nil, out)
		}, nil)
	}
	inPacks := func(id string) bool {
		b, err := hex.DecodeString(id)
		if err != nil {
			return false
		}
		for _, p := range packs {
			if p.find(b) >= 0 {
				return true
			}
		}
		return false
	}
	// What the packs do not hold: the loose objects, or, when objects may
	// be elsewhere too (alternates, a pack this reader cannot read),
	// whatever git lists that no pack here holds.
	var loose []string
	if complete && os.Getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES") == "" && !hasAlternates(objDir) {
		ids, err := looseObjects(objDir)
		if err != nil {
			complete = false
		}
		for _, id := range ids {
			if !inPacks(id) {
				loose = append(loose, id)
			}
		}
	} else {
		complete = false
	}
	return r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
		eg, ctx := errgroup.WithContext(ctx)
		if complete {
			eg.Go(func() error { return sendBatches(ctx, loose, out) })
		} else {
			eg.Go(func() error { return r.listObjects(ctx, inPacks, out) })
		}
		eg.Go(func() error {
			left, err := readPacks(ctx, workers, packs, func() catHandler { return s.handler(ctx) })
			if err != nil {
				return err
			}
			return sendBatches(ctx, left, out)
		})
		return eg.Wait()
	}, nil)
}

// objectDir is the repository's object directory, as git finds it (the
// common directory of a linked work tree, GIT_OBJECT_DIRECTORY).
func (r *gitRepo) objectDir(ctx context.Context) (string, error) {
	out, err := r.output(ctx, nil, "rev-parse", "--git-path", "objects")
	if err != nil {
		return "", err
	}
	dir := strings.TrimSuffix(string(out), "\n")
	if !filepath.IsAbs(dir) {
		base := r.top
		if base == "" {
			base = r.gitDir
		}
		dir = filepath.Join(base, dir)
	}
	return dir, nil
}

// hasAlternates reports whether objDir borrows objects from elsewhere.
func hasAlternates(objDir string) bool {
	_, err := os.Stat(filepath.Join(objDir, "info", "alternates"))
	return err == nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// looseObjects lists the ids of the loose objects in objDir.
func looseObjects(objDir string) ([]string, error) {
	dirs, err := os.ReadDir(objDir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range dirs {
		name := d.Name()
		if len(name) != 2 || !isHex(name[0]) || !isHex(name[1]) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(objDir, name))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if id := name + f.Name(); hexOID(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}
