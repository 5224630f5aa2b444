package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/cds-snc/notifyscan/internal/report"
	"github.com/cds-snc/notifyscan/rules"
	"github.com/cds-snc/notifyscan/scanner"
)

// scanFlags are the flags every scanning command shares.
type scanFlags struct {
	format      string
	output      string
	concurrency int
	noDecode    bool
	verify      bool
	verifyFlags
	failOn    string
	quiet     bool
	maxKeyAge time.Duration
}

func (s *scanFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&s.format, "format", "f", "text", "report format: text, json, sarif, github, markdown")
	fs.StringVarP(&s.output, "output", "o", "-", "write the report to this file (\"-\" is standard output)")
	fs.IntVarP(&s.concurrency, "concurrency", "j", 0, "content workers (0: twice the number of CPUs)")
	fs.BoolVar(&s.noDecode, "no-decode", false, "do not look inside base64, UTF-16, escapes and archives")
	fs.BoolVar(&s.verify, "verify", false, "ask the Notify API whether each key is live (signed request; the secret is never sent)")
	s.verifyFlags.register(fs)
	fs.StringVar(&s.failOn, "fail-on", "any", "which findings make the exit code 1: any, unknown (active or unknown), active; the last two need --verify")
	fs.BoolVarP(&s.quiet, "quiet", "q", false, "do not print the summary line and the fix hint on standard error")
	fs.DurationVar(&s.maxKeyAge, "max-key-age", rules.DefaultMaxKeyAge, "with --verify on history: report active keys first committed longer ago than this (notify-key-not-rotated)")
}

// check validates the flags before any work starts.
func (s *scanFlags) check() error {
	if _, err := report.ParseFormat(s.format); err != nil {
		return usageErr(err.Error(), "use one of text, json, sarif, github, markdown")
	}
	switch s.failOn {
	case "any":
	case "active", "unknown":
		if !s.verify {
			return usageErr("--fail-on "+s.failOn+" needs --verify", "without --verify no key has a status; add --verify or use --fail-on any")
		}
	default:
		return usageErr(fmt.Sprintf("--fail-on %q is not one of any, unknown, active", s.failOn), "")
	}
	if (len(s.apiURLs) > 0 || s.fallbackURLs != nil) && !s.verify {
		return usageErr("--api-url and --fallback-api-url are only used with --verify", "add --verify")
	}
	if s.concurrency < 0 {
		return usageErr("--concurrency must be 0 or more", "")
	}
	return nil
}

func (s *scanFlags) options() scanner.Options {
	return scanner.Options{Concurrency: s.concurrency, NoDecode: s.noDecode}
}

// fails reports whether a finding makes the run fail under --fail-on.
func (s *scanFlags) fails(f *rules.Finding) bool {
	switch s.failOn {
	case "active":
		return f.Status == rules.StatusActive
	case "unknown":
		return f.Status == rules.StatusActive || f.Status == rules.StatusUnknown
	}
	return true
}

// finish verifies (if asked), checks the key policy, writes the report,
// prints the summary and returns the exit code: input errors beat findings,
// because an incomplete scan must never pass. repoOf names a finding's
// repository for the shared-key policy (nil outside audits).
func (s *scanFlags) finish(e *env, command string, res *scanner.Result, repoOf func(*rules.Finding) string) (int, error) {
	if s.verify && len(res.Findings) > 0 {
		if err := verifyFindings(e, &s.verifyFlags, res.Findings); err != nil {
			return exitError, err
		}
	}
	policy := rules.Policy{Now: time.Now(), MaxAge: s.maxKeyAge, Repository: repoOf}
	if extra := policy.Check(res.Findings); len(extra) > 0 {
		res.Findings = append(res.Findings, extra...)
		rules.Sort(res.Findings)
	}
	rep := s.report(command, res)
	format, _ := report.ParseFormat(s.format)
	write := func(w io.Writer) error { return report.Write(w, format, rep) }
	var err error
	if s.output == "-" || s.output == "" {
		err = write(e.stdout)
	} else {
		err = report.WriteFile(s.output, write)
	}
	if err != nil {
		return exitError, hinted(fmt.Errorf("writing report %s: %w", s.output, err), "check that the directory exists and is writable")
	}
	for _, ie := range res.Errors {
		fmt.Fprintf(e.stderr, "notifyscan: error: cannot read %s\n", ie.Error())
	}
	failing := 0
	for i := range res.Findings {
		if s.fails(&res.Findings[i]) {
			failing++
		}
	}
	if !s.quiet {
		fmt.Fprintln(e.stderr, summary(command, res, s.verify))
	}
	if failing > 0 && !s.quiet {
		fmt.Fprintln(e.stderr, "notifyscan: hint: "+fixHint(command))
	}
	switch {
	case len(res.Errors) > 0:
		fmt.Fprintf(e.stderr, "notifyscan: error: the scan is incomplete: %d input(s) could not be read\n", len(res.Errors))
		return exitError, nil
	case failing > 0:
		return exitFindings, nil
	}
	return exitClean, nil
}

// fixHint is the one-line fix printed after findings.
func fixHint(command string) string {
	if command == "staged" {
		return "remove the key from the staged file and read it from a secret manager or the environment instead, " +
			"then commit again (a false positive: add notifyscan:allow to the line); if the key was ever shared, revoke it in GC Notify"
	}
	return "revoke each key in GC Notify (API integration > API keys > Revoke), keep the new one in a secret manager, " +
		"and purge the old one from history; see 'notifyscan rules' and the report's help"
}

// report is the report of a scan's result.
func (s *scanFlags) report(command string, res *scanner.Result) *report.Report {
	rep := &report.Report{
		Tool:     report.Tool{Name: "notifyscan", Version: version(), InformationURI: "https://github.com/cds-snc/notifyscan"},
		Command:  command,
		Findings: res.Findings,
		Ignored:  res.Ignored,
		Stats:    report.Stats(res.Stats),
		Verified: s.verify,
	}
	for _, err := range res.Errors {
		rep.Errors = append(rep.Errors, err.Error())
	}
	return rep
}

// summary is the one line printed on standard error after a scan.
func summary(command string, res *scanner.Result, verified bool) string {
	st := res.Stats
	what := fmt.Sprintf("%d files, %s", st.Files, humanBytes(st.Bytes))
	switch {
	case command == "staged":
		what = fmt.Sprintf("%d staged file%s, %s", st.Blobs, plural(int(st.Blobs)), humanBytes(st.Bytes))
	case st.Commits > 0 || st.Blobs > 0:
		what = fmt.Sprintf("%d commits, %d blobs, %s", st.Commits, st.Blobs, humanBytes(st.Bytes))
	}
	keys, policy := 0, 0
	counts := map[rules.Status]int{}
	for _, f := range res.Findings {
		if f.Note != "" {
			policy++
			continue
		}
		keys++
		counts[f.Status]++
	}
	found := fmt.Sprintf("%d finding%s", keys, plural(keys))
	if verified {
		parts := ""
		for _, st := range rules.Statuses {
			if counts[st] > 0 {
				parts += fmt.Sprintf(", %d %s", counts[st], st)
			}
		}
		if parts != "" {
			found += " (" + parts[2:] + ")"
		}
	}
	if policy > 0 {
		found += fmt.Sprintf(", %d policy finding%s", policy, plural(policy))
	}
	if res.Ignored > 0 {
		found += fmt.Sprintf(", %d ignored", res.Ignored)
	}
	return fmt.Sprintf("notifyscan: %s in %s", found, what)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
