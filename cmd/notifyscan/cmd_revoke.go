package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cds-snc/notifyscan/internal/report"
	"github.com/cds-snc/notifyscan/internal/revoke"
	"github.com/cds-snc/notifyscan/rules"
	"github.com/cds-snc/notifyscan/scanner"
)

// sreSecretEnv holds the operator's SRE client secret; never a flag.
const sreSecretEnv = "NOTIFY_SRE_CLIENT_SECRET"

func runRevoke(e *env, args []string) (int, error) {
	var vf verifyFlags
	var reportFile, root, journal, sreUser string
	var yes, force, history bool
	fs := newFlags(e, "revoke", "[PATH...]", "For GC Notify's operations staff: report leaked keys that verify active to\n"+
		"POST /sre-tools/api-key-revoke, which revokes each key and emails the service's users.\n"+
		"Keys come from a notifyscan JSON or SARIF report (--report; the keys are re-read from the reported\n"+
		"locations under --root, since reports never hold them), or from a scan of PATH... (--git: of a repository's history).\n"+
		"A dry run unless --yes. Each key is sent at most once, ever: a journal records what was sent.\n"+
		"The SRE client secret is read from $"+sreSecretEnv+".")
	vf.register(fs)
	fs.StringVar(&reportFile, "report", "", "read findings from this notifyscan JSON or SARIF report")
	fs.StringVar(&root, "root", ".", "with --report: the directory or repository the report's paths are relative to")
	fs.BoolVar(&history, "git", false, "without --report: scan the history of the repository PATH (default \".\")")
	fs.BoolVar(&yes, "yes", false, "send the reports (default: dry run, print what would be sent)")
	fs.StringVar(&journal, "journal", defaultJournal(), "journal of keys already sent")
	fs.BoolVar(&force, "force-resend", false, "resend keys whose earlier send has no known outcome and that still verify active")
	fs.StringVar(&sreUser, "sre-user", revoke.DefaultSREUser, "the JWT issuer of the SRE client")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if reportFile != "" && fs.NArg() > 0 {
		return exitError, usageErr("--report and paths to scan do not go together", "give either --report FILE or the paths to scan")
	}
	secret := e.getenv(sreSecretEnv)
	if yes && secret == "" {
		return exitError, usageErr(sreSecretEnv+" is not set", "export the SRE client secret in the environment; it is never taken as a flag")
	}
	findings, problems, err := revokeInput(e, reportFile, root, history, fs.Args())
	if err != nil {
		return exitError, err
	}
	verifier, err := vf.newClient()
	if err != nil {
		return exitError, err
	}
	leaks := make([]revoke.Leak, 0, len(findings))
	for _, f := range findings {
		url, source := leakURL(e.ctx, root, &f)
		leaks = append(leaks, revoke.Leak{Finding: f, URL: url, Source: source})
	}
	results, err := revoke.Run(e.ctx, revoke.Options{
		Leaks: leaks, Verifier: verifier, SREUser: sreUser, SRESecret: secret,
		Journal: journal, Yes: yes, ForceResend: force,
	})
	for _, r := range results {
		fmt.Fprintln(e.stdout, r.String())
	}
	if err != nil {
		return exitError, err
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "notifyscan: error: %s\n", p)
	}
	bad := len(problems)
	for _, r := range results {
		switch r.Action {
		case revoke.Failed, revoke.Uncertain, revoke.NeedsManualCheck:
			bad++
		}
	}
	if !yes && len(results) > 0 {
		fmt.Fprintln(e.stderr, "notifyscan: dry run: nothing was sent; add --yes to send")
	}
	if bad > 0 {
		return exitError, nil
	}
	return exitClean, nil
}

// defaultJournal is $XDG_STATE_HOME/notifyscan/revoke-journal.jsonl, or the
// same under ~/.local/state.
func defaultJournal() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "notifyscan-revoke-journal.jsonl"
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "notifyscan", "revoke-journal.jsonl")
}

// revokeInput finds the keys to report: re-read from a report's locations,
// or found by a scan. problems are locations that no longer hold their key.
func revokeInput(e *env, reportFile, root string, history bool, paths []string) ([]rules.Finding, []string, error) {
	if reportFile == "" {
		var res *scanner.Result
		var err error
		if history {
			repo := "."
			if len(paths) > 0 {
				repo = paths[0]
			}
			res, err = scanner.ScanGit(e.ctx, repo, scanner.GitOptions{})
		} else {
			if len(paths) == 0 {
				paths = []string{"."}
			}
			res, err = scanner.ScanPaths(e.ctx, paths, e.stdin, scanner.Options{})
		}
		if err != nil {
			return nil, nil, err
		}
		var problems []string
		for _, ie := range res.Errors {
			problems = append(problems, "cannot read "+ie.Error())
		}
		return res.Findings, problems, nil
	}
	data, err := os.ReadFile(reportFile)
	if err != nil {
		return nil, nil, hinted(fmt.Errorf("reading report: %w", err), "give the path of a notifyscan JSON or SARIF report")
	}
	locs, err := report.ReadLocations(bytes.NewReader(data))
	if err != nil {
		return nil, nil, hinted(fmt.Errorf("%s: %w", reportFile, err), "revoke reads reports written by notifyscan -f json or -f sarif")
	}
	return recoverKeys(e.ctx, root, locs)
}

// recoverKeys re-reads each location (the file under root, or the file's
// blob at the commit) and returns the findings there whose fingerprint the
// report names. Reports never hold keys, so this is how revoke gets them back
// without a secret ever being written to disk.
func recoverKeys(ctx context.Context, root string, locs []report.Location) ([]rules.Finding, []string, error) {
	var out []rules.Finding
	var problems []string
	for _, l := range locs {
		if l.Fingerprint == "" || !strings.HasPrefix(l.RuleID, "notify-") || rules.ByID(l.RuleID) == nil {
			continue
		}
		var found []rules.Finding
		var err error
		if l.Commit != "" {
			found, err = scanBlob(ctx, root, l.Commit, l.Path)
		} else {
			var res *scanner.Result
			res, err = scanner.ScanPaths(ctx, []string{filepath.Join(root, filepath.FromSlash(l.Path))}, nil, scanner.Options{})
			if err == nil && len(res.Errors) > 0 {
				err = res.Errors[0]
			}
			if res != nil {
				found = res.Findings
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v", l.Path, l.Line, err))
			continue
		}
		ok := false
		for _, f := range found {
			if f.Fingerprint() == l.Fingerprint {
				f.Path, f.Line, f.Column, f.EndColumn = l.Path, l.Line, l.Column, l.EndColumn
				if l.Commit != "" {
					f.Git = &rules.GitProvenance{Commit: l.Commit}
				}
				out = append(out, f)
				ok = true
				break
			}
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s:%d: the key %s is no longer there", l.Path, l.Line, l.Fingerprint))
		}
	}
	return out, problems, nil
}

// scanBlob scans the version of path at commit in the repository at root.
func scanBlob(ctx context.Context, root, commit, p string) ([]rules.Finding, error) {
	if !regexp.MustCompile(`^[0-9a-f]{7,64}$`).MatchString(commit) {
		return nil, fmt.Errorf("not a commit id: %q", commit)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", root, "cat-file", "blob", commit+":"+p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	blob, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file %s:%s: %s", commit[:min(12, len(commit))], p, strings.TrimSpace(stderr.String()))
	}
	res, err := scanner.ScanPaths(ctx, []string{scanner.Stdin}, bytes.NewReader(blob), scanner.Options{})
	if err != nil {
		return nil, err
	}
	return res.Findings, nil
}

var githubRemote = regexp.MustCompile(`^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([^/]+/[^/]+?)(?:\.git)?/?$`)

// leakURL says where a key leaked: a GitHub link to the file at the commit
// (or the default branch) and line when the repository's origin is on
// GitHub, else the file's path on this machine. source is "commit" for
// history findings and "content" otherwise.
func leakURL(ctx context.Context, root string, f *rules.Finding) (string, string) {
	source := "content"
	ref := "HEAD"
	if f.Git != nil && f.Git.Commit != "" {
		source, ref = "commit", f.Git.Commit
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "remote", "get-url", "origin").Output()
	if err == nil {
		if m := githubRemote.FindStringSubmatch(strings.TrimSpace(string(out))); m != nil {
			return fmt.Sprintf("https://github.com/%s/blob/%s/%s#L%d", m[1], ref, path.Clean(f.Path), f.Line), source
		}
	}
	abs, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(f.Path)))
	if err != nil {
		abs = f.Path
	}
	return "file://" + filepath.ToSlash(abs), source
}
