package main

import (
	"github.com/cds-snc/notifyscan/scanner"
)

func runDir(e *env, args []string) (int, error) {
	var sf scanFlags
	fs := newFlags(e, "dir", "[PATH...]", "Scan files and directory trees (default \".\"); \"-\" reads standard input.\n"+
		"Every regular file is read, binary or not; symbolic links are not followed; .git/objects is left to 'notifyscan git'.\n"+
		"A key in a file git tracks is a leak into the repository; one in an ignored file is a plain-text key on disk.")
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if err := sf.check(); err != nil {
		return exitError, err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	res, err := scanner.ScanPaths(e.ctx, paths, e.stdin, sf.options())
	if err != nil {
		return exitError, hinted(err, "fix or remove the file named above")
	}
	return sf.finish(e, "dir", res, nil)
}
