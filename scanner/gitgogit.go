package scanner

import "context"

func scanHistoryGoGit(ctx context.Context, repo string, opts GitOptions) (*Result, error) {
	return nil, ErrNoGit
}
