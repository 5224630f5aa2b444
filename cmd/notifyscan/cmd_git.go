package main

import (
	"errors"
	"fmt"

	"github.com/cds-snc/notifyscan/scanner"
)

func runGit(e *env, args []string) (int, error) {
	var sf scanFlags
	var g scanner.GitOptions
	fs := newFlags(e, "git", "[REPO]", "Scan everything reachable from every ref of a repository (default \".\"), bare or not:\n"+
		"branches, remote-tracking branches, tags, stash and notes, with commit and tag messages.\n"+
		"Each distinct blob is read once; findings say which commit introduced the key.")
	sf.register(fs)
	fs.StringVar(&g.Range, "range", "", "scan only BASE..HEAD: the commits reachable from HEAD and not from the merge base")
	fs.BoolVar(&g.AllObjects, "all-objects", false, "also scan unreachable objects still in the object store")
	fs.BoolVar(&g.NoDeepen, "no-deepen", false, "in a shallow clone, fail instead of running 'git fetch --deepen'")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if err := sf.check(); err != nil {
		return exitError, err
	}
	if fs.NArg() > 1 {
		return exitError, usageErr("git takes one repository", "scan several repositories with one command each")
	}
	repo := "."
	if fs.NArg() == 1 {
		repo = fs.Arg(0)
	}
	g.Options = sf.options()
	res, err := scanner.ScanGit(e.ctx, repo, g)
	if err != nil {
		return exitError, gitHint(err)
	}
	if res.Unreachable > 0 && !g.AllObjects {
		fmt.Fprintf(e.stderr, "notifyscan: note: %d key(s) are only in objects that no ref reaches (left by a rebase, reset or deleted branch); "+
			"they are still in the object store: run with --all-objects to report them\n", res.Unreachable)
	}
	return sf.finish(e, "git", res, nil)
}

func runStaged(e *env, args []string) (int, error) {
	var sf scanFlags
	fs := newFlags(e, "staged", "[REPO]", "Scan what 'git commit' would add: the index against HEAD (default repository \".\").\n"+
		"Line numbers are those of the staged file. Made for pre-commit hooks.")
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if err := sf.check(); err != nil {
		return exitError, err
	}
	repo := "."
	if fs.NArg() == 1 {
		repo = fs.Arg(0)
	} else if fs.NArg() > 1 {
		return exitError, usageErr("staged takes one repository", "")
	}
	res, err := scanner.ScanStaged(e.ctx, repo, sf.options())
	if err != nil {
		return exitError, gitHint(err)
	}
	return sf.finish(e, "staged", res, nil)
}

// gitHint adds to a git or staged scan error the hint that fixes it.
func gitHint(err error) error {
	switch {
	case errors.Is(err, scanner.ErrShallow):
		return hinted(err, "fetch the whole history: in GitHub Actions set 'fetch-depth: 0' on actions/checkout; elsewhere run 'git fetch --unshallow'")
	case errors.Is(err, scanner.ErrEmptyRange):
		return hinted(err, "nothing was scanned: check BASE and HEAD (for a pull request, BASE is the base branch's commit and HEAD the pull request's)")
	case errors.Is(err, scanner.ErrUnknownRevision):
		return hinted(err, "check the revision's name, or fetch it ('git fetch origin <revision>'; in GitHub Actions set 'fetch-depth: 0')")
	case errors.Is(err, scanner.ErrNotRepository):
		return hinted(err, "run in a git repository or pass its path; 'notifyscan dir' scans plain files")
	case errors.Is(err, scanner.ErrNoCommits):
		return hinted(err, "nothing to scan yet: use 'notifyscan staged' before the first commit, or 'notifyscan dir' for files")
	case errors.Is(err, scanner.ErrBareRepository):
		return hinted(err, "run 'notifyscan staged' in a work tree; 'notifyscan git' scans a bare repository's history")
	case errors.Is(err, scanner.ErrNoGit):
		return hinted(err, "install git (a full 'notifyscan git' scan works without it, more slowly)")
	}
	return err
}
