package scanner

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// packedStore is an object directory as the pack reader sees it: the
// packs it reads and, when those and the loose objects are all the store
// holds (complete), the loose objects no pack holds.
type packedStore struct {
	packs    []*packFile
	loose    []string
	complete bool
}

// openPackedStore opens objDir's packs. The store is complete unless
// objects may be elsewhere too: alternates, or a pack this reader cannot
// read.
func openPackedStore(objDir string) *packedStore {
	st := &packedStore{}
	st.packs, st.complete = openPacks(objDir)
	if os.Getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES") != "" || hasAlternates(objDir) {
		st.complete = false
	}
	if len(st.packs) == 0 || !st.complete {
		return st
	}
	ids, err := looseObjects(objDir)
	if err != nil {
		st.complete = false
	}
	for _, id := range ids {
		if !st.inPacks(id) {
			st.loose = append(st.loose, id)
		}
	}
	return st
}

// inPacks reports whether a pack of the store holds id.
func (st *packedStore) inPacks(id string) bool {
	b, err := hex.DecodeString(id)
	if err != nil {
		return false
	}
	for _, p := range st.packs {
		if p.find(b) >= 0 {
			return true
		}
	}
	return false
}

func (st *packedStore) close() { closePacks(st.packs) }

// readAll hands every object in the object store to s's handlers. Packs
// are read in-process (see pack.go); loose objects, objects in packs this
// reader cannot read, and objects it leaves are read by git cat-file, at
// the same time.
func (r *gitRepo) readAll(ctx context.Context, workers int, s *objScan) error {
	objDir, err := r.objectDir(ctx)
	if err != nil {
		return err
	}
	st := openPackedStore(objDir)
	defer st.close()
	if len(st.packs) == 0 {
		return r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
			return r.listObjects(ctx, nil, out)
		}, nil)
	}
	return r.readObjects(ctx, workers, s, func(ctx context.Context, out chan<- catBatch) error {
		eg, ctx := errgroup.WithContext(ctx)
		if st.complete {
			eg.Go(func() error { return sendBatches(ctx, st.loose, out) })
		} else {
			// Git lists the store; what no pack here holds is git's to read.
			eg.Go(func() error { return r.listObjects(ctx, st.inPacks, out) })
		}
		eg.Go(func() error {
			left, err := readPacks(ctx, workers, st.packs, func() catHandler { return s.handler(ctx) })
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
