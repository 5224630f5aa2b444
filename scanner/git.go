package scanner

import (
	"context"
	"errors"
)

// GitOptions tune a history scan.
type GitOptions struct {
	Options
	// Range is "BASE..HEAD": scan the commits reachable from HEAD and not
	// from the merge base of BASE and HEAD. Empty scans every ref.
	Range string
	// AllObjects also scans unreachable objects in the object store.
	AllObjects bool
	// NoDeepen makes a shallow clone an error instead of deepening it.
	NoDeepen bool
}

// ScanGit scans a repository's history. (Being built: see issue 3.)
func ScanGit(ctx context.Context, repo string, opts GitOptions) (*Result, error) {
	return nil, errors.New("git scanning is not built yet")
}

// ScanStaged scans the index against HEAD. (Being built: see issue 3.)
func ScanStaged(ctx context.Context, repo string, opts Options) (*Result, error) {
	return nil, errors.New("staged scanning is not built yet")
}
