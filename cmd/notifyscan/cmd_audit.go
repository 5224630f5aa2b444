package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
	"github.com/cds-snc/notifyscan/scanner"
)

// runAudit scans the whole history of several repositories into one report,
// verifies every distinct key once across all of them, and checks the key
// policy across repositories (one key per third party, regular rotation).
func runAudit(e *env, args []string) (int, error) {
	var sf scanFlags
	var g scanner.GitOptions
	fs := newFlags(e, "audit", "REPO...", "Audit the whole history of several repositories: one report, every distinct key\n"+
		"verified once (--verify is on; --verify=false turns it off), and GC Notify's key policy checked across them:\n"+
		"a key used by several repositories (notify-key-shared), an active key committed long ago (notify-key-not-rotated).\n"+
		"Paths in the report start with the repository's name.")
	sf.register(fs)
	fs.BoolVar(&g.AllObjects, "all-objects", false, "also scan unreachable objects still in each object store")
	if err := fs.Set("verify", "true"); err != nil {
		return exitError, err
	}
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if err := sf.check(); err != nil {
		return exitError, err
	}
	if fs.NArg() == 0 {
		return exitError, usageErr("audit needs at least one repository", "notifyscan audit ../repo-a ../repo-b")
	}
	g.Options = sf.options()
	total := &scanner.Result{}
	names := repoNames(fs.Args())
	var hints []string // how to fix the repositories that could not be scanned
	for i, repo := range fs.Args() {
		if err := e.ctx.Err(); err != nil {
			return exitError, err
		}
		res, err := scanner.ScanGit(e.ctx, repo, g)
		if err != nil {
			// One unreadable repository does not hide the others' findings,
			// and still makes the audit fail.
			msg := strings.TrimPrefix(err.Error(), repo+": ")
			total.Errors = append(total.Errors, &scanner.InputError{Input: repo, Err: errors.New(msg)})
			var ce *cliError
			if errors.As(gitHint(err), &ce) && ce.hint != "" {
				hints = append(hints, repo+": "+ce.hint)
			}
			continue
		}
		for _, f := range res.Findings {
			f.Path = names[i] + "/" + f.Path
			total.Findings = append(total.Findings, f)
		}
		for _, ie := range res.Errors {
			total.Errors = append(total.Errors, &scanner.InputError{Input: names[i] + ": " + ie.Input, Err: ie.Err})
		}
		total.Ignored += res.Ignored
		total.Stats.Files += res.Stats.Files
		total.Stats.Bytes += res.Stats.Bytes
		total.Stats.Blobs += res.Stats.Blobs
		total.Stats.Commits += res.Stats.Commits
	}
	rules.Sort(total.Findings)
	repoOf := func(f *rules.Finding) string {
		name, _, _ := strings.Cut(f.Path, "/")
		return name
	}
	code, err := sf.finish(e, "audit", total, repoOf)
	for _, h := range hints {
		fmt.Fprintf(e.stderr, "notifyscan: hint: %s\n", h)
	}
	return code, err
}

// repoNames gives each repository argument a distinct short name: its base
// name, with "-2", "-3"... for repeats.
func repoNames(repos []string) []string {
	seen := map[string]int{}
	out := make([]string, len(repos))
	for i, r := range repos {
		abs, err := filepath.Abs(r)
		if err != nil {
			abs = r
		}
		name := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(abs), ".git"), "/", "_")
		seen[name]++
		if n := seen[name]; n > 1 {
			name = fmt.Sprintf("%s-%d", name, n)
		}
		out[i] = name
	}
	return out
}
