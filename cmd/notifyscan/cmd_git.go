package main

import (
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
		return exitError, err
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
		return exitError, err
	}
	return sf.finish(e, "staged", res, nil)
}
