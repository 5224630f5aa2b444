package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/cds-snc/notifyscan/internal/ignore"
)

// goGitRepo is the full scan's way into a repository when there is no git
// binary. It finds what the git path finds: packs are read in-process as
// with git, loose objects and the rest one at a time with go-git (which
// reads a packed blob about half as fast as git). Ranges and staged scans
// need git.
type goGitRepo struct {
	arg  string
	repo *git.Repository
	objs storer.EncodedObjectStorer
	top  string // work tree root; "" for a bare repository
	// objDir is the object directory when the repository is on disk.
	objDir string
}

// largeObject is the size above which go-git streams a packed object
// instead of inflating it into memory.
const largeObject = 8 << 20

func scanHistoryGoGit(ctx context.Context, path string, opts GitOptions) (*Result, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", path, cleanErr(err))
	}
	// The path itself (a work tree root or a bare repository), else the
	// repository around it.
	repo, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	}
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotRepository)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &goGitRepo{arg: path, repo: repo, objs: repo.Storer}
	if fs, ok := repo.Storer.(*filesystem.Storage); ok {
		r.objs = filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRUDefault(),
			filesystem.Options{LargeObjectThreshold: largeObject, AlternatesFS: fs.Filesystem()})
		r.objDir = filepath.Join(fs.Filesystem().Root(), "objects")
	}
	if wt, err := repo.Worktree(); err == nil {
		r.top = wt.Filesystem.Root()
	}
	return scanHistory(ctx, r, opts)
}

func (r *goGitRepo) name() string { return r.arg }

func (r *goGitRepo) refs(ctx context.Context) ([]gitRef, string, error) {
	var refs []gitRef
	iter, err := r.repo.References()
	if err != nil {
		return nil, "", err
	}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference && ref.Name() != plumbing.HEAD {
			refs = append(refs, gitRef{ref.Name().String(), ref.Hash().String()})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var head string
	if h, err := r.repo.Head(); err == nil {
		head = h.Hash().String()
		if h.Name() == plumbing.HEAD {
			refs = append(refs, gitRef{"HEAD", head})
		}
	}
	return refs, head, nil
}

func (r *goGitRepo) ignoreList(ctx context.Context, head string) (*ignore.List, error) {
	if r.top != "" {
		return ignore.Load(filepath.Join(r.top, ignore.FileName))
	}
	if head == "" {
		return &ignore.List{}, nil
	}
	c, err := r.repo.CommitObject(plumbing.NewHash(head))
	if err != nil {
		return &ignore.List{}, nil
	}
	f, err := c.File(ignore.FileName)
	if err != nil {
		return &ignore.List{}, nil
	}
	text, err := f.Contents()
	if err != nil {
		return nil, err
	}
	return ignore.Parse(head[:12]+":"+ignore.FileName, bytes.NewReader([]byte(text)))
}

// readAll reads the packs in-process when it can (as the git path does)
// and the loose objects, and what that reader left, with go-git; else
// every object with go-git.
func (r *goGitRepo) readAll(ctx context.Context, workers int, s *objScan) error {
	if r.objDir != "" {
		st := openPackedStore(r.objDir)
		defer st.close()
		if len(st.packs) > 0 && st.complete {
			left, err := readPacks(ctx, workers, st.packs, func() catHandler { return s.handler(ctx) })
			if err != nil {
				return err
			}
			return r.read(ctx, 1, s, append(left, st.loose...), func(s *objScan) catHandler { return s.handler(ctx) })
		}
	}
	iter, err := r.objs.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		return err
	}
	h := s.handler(ctx)
	return iter.ForEach(func(o plumbing.EncodedObject) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch o.Type() {
		case plumbing.BlobObject, plumbing.CommitObject, plumbing.TagObject, plumbing.TreeObject:
			return r.hand(o, h)
		}
		return nil
	})
}

func (r *goGitRepo) missing(ctx context.Context, ids []string) ([]string, error) {
	var gone []string
	for _, id := range ids {
		if r.objs.HasEncodedObject(plumbing.NewHash(id)) != nil {
			gone = append(gone, id)
		}
	}
	return gone, nil
}

func (r *goGitRepo) read(ctx context.Context, workers int, s *objScan, ids []string, newHandler func(*objScan) catHandler) error {
	h := newHandler(s)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := r.objs.EncodedObject(plumbing.AnyObject, plumbing.NewHash(id))
		if err != nil {
			h.fail(id, err)
			continue
		}
		if err := r.hand(o, h); err != nil {
			return err
		}
	}
	return nil
}

// hand gives one object to a handler, as cat-file would.
func (r *goGitRepo) hand(o plumbing.EncodedObject, h catHandler) error {
	id := o.Hash().String()
	rc, err := o.Reader()
	if err != nil {
		h.fail(id, err)
		return nil
	}
	defer rc.Close()
	body := &errReader{r: rc}
	if err := h.object(id, o.Type().String(), o.Size(), body); err != nil {
		return err
	}
	if body.err == nil {
		_, _ = io.Copy(io.Discard, body)
	}
	if body.err != nil {
		h.fail(id, body.err)
	}
	return nil
}

// errReader remembers a read error other than EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
