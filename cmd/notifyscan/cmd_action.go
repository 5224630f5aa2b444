package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cds-snc/notifyscan/internal/ghaction"
	"github.com/cds-snc/notifyscan/internal/report"
	"github.com/cds-snc/notifyscan/rules"
	"github.com/cds-snc/notifyscan/scanner"
)

// runAction is the GitHub Action (action.yml runs it in a workflow step).
// The action's inputs arrive as INPUT_* variables and give the flags their
// defaults; INPUT_EXTRA_ARGS holds more flags, split at white space.
func runAction(e *env, args []string) (int, error) {
	in := func(name string) string { return strings.TrimSpace(e.getenv("INPUT_" + name)) }
	verify, err := inputBool("verify", in("VERIFY"))
	if err != nil {
		return exitError, err
	}
	var sf scanFlags
	var sarifFile, rng string
	fs := newFlags(e, "action", "[REPO]", "Run as the GitHub Action: scan the commits the workflow's event asks for\n"+
		"(pull request: merge base to head; push: before..after, or for a new branch the commits on no other branch;\n"+
		"other events: every branch's whole history), deepening a shallow checkout as needed; annotate findings,\n"+
		"add a job summary, write a SARIF file and the step outputs findings, active and sarif-file.\n"+
		"The action's inputs arrive as INPUT_VERIFY, INPUT_API_URL, INPUT_FAIL_ON, INPUT_SARIF_FILE, INPUT_RANGE\n"+
		"and INPUT_EXTRA_ARGS (more flags) and are overridden by flags.\n"+
		"Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and RUNNER_TEMP.")
	sf.register(fs)
	_ = fs.MarkHidden("format")
	_ = fs.MarkHidden("output")
	fs.StringVar(&sarifFile, "sarif-file", in("SARIF_FILE"), "where to write the SARIF report (default $RUNNER_TEMP/notifyscan.sarif)")
	fs.StringVar(&rng, "range", in("RANGE"), "scan BASE..HEAD instead of what the event asks for")
	// The inputs replace the shared flags' defaults; flags given replace them.
	sf.verify = verify
	sf.apiURLs = splitList(in("API_URL"))
	sf.failOn = cmp.Or(in("FAIL_ON"), sf.failOn)
	if err := parse(fs, append(strings.Fields(in("EXTRA_ARGS")), args...)); err != nil {
		return exitError, err
	}
	if fs.Changed("format") || fs.Changed("output") {
		return exitError, usageErr("action always annotates on standard output", "use the sarif-file input for a report file")
	}
	sf.format, sf.output = string(report.GitHub), "-"
	if err := sf.check(); err != nil {
		return exitError, err
	}
	if fs.NArg() > 1 {
		return exitError, usageErr("action takes one repository", "")
	}
	repo := cmp.Or(fs.Arg(0), ".")

	ev, err := ghaction.ReadEvent(e.getenv("GITHUB_EVENT_NAME"), e.getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return exitError, hinted(err, "outside GitHub Actions use 'notifyscan git --range BASE..HEAD'")
	}
	plan, err := ghaction.Prepare(e.ctx, &ghaction.Git{Dir: repo, Log: e.stderr}, ev, rng)
	if err != nil {
		return exitError, hinted(err, "check out with actions/checkout (fetch-depth: 0 avoids fetching later) and keep its credentials, or set the range input")
	}
	fmt.Fprintf(e.stderr, "notifyscan: scope: %s\n", plan.What)

	res := &scanner.Result{}
	if !plan.Nothing() {
		opts := scanner.GitOptions{Options: sf.options()}
		if !plan.Full {
			opts.Range = plan.Range
		}
		res, err = scanner.ScanGit(e.ctx, repo, opts)
		if err != nil {
			return exitError, gitHint(err)
		}
		if !plan.Full && res.Stats.Commits == 0 {
			return exitError, fmt.Errorf("the scan of %s read no commit, but the range holds %d", plan.Range, len(plan.Commits))
		}
	}

	// Annotations on standard output, the summary line, verification and the
	// exit code; then the SARIF file, the job summary and the outputs, which
	// are written even when the step fails.
	code, err := sf.finish(e, "git", res, nil)
	if err != nil {
		return exitError, err
	}
	rep := sf.report("git", res)
	if sarifFile == "" {
		sarifFile = filepath.Join(e.getenv("RUNNER_TEMP"), "notifyscan.sarif")
	}
	if sarifFile, err = filepath.Abs(sarifFile); err != nil {
		return exitError, err
	}
	if err := os.MkdirAll(filepath.Dir(sarifFile), 0o755); err != nil {
		return exitError, hinted(err, "check the sarif-file input")
	}
	if err := report.WriteFile(sarifFile, func(w io.Writer) error { return report.Write(w, report.SARIF, rep) }); err != nil {
		return exitError, hinted(fmt.Errorf("writing SARIF %s: %w", sarifFile, err), "check the sarif-file input")
	}
	var summary strings.Builder
	if err := report.Write(&summary, report.Markdown, rep); err != nil {
		return exitError, err
	}
	fmt.Fprintf(&summary, "\n<sub>Scope: %s.</sub>\n", plan.What)
	if err := ghaction.AppendFile(e.getenv("GITHUB_STEP_SUMMARY"), []byte(summary.String())); err != nil {
		return exitError, fmt.Errorf("writing the job summary: %w", err)
	}
	active := 0
	for i := range res.Findings {
		if res.Findings[i].Status == rules.StatusActive {
			active++
		}
	}
	err = ghaction.SetOutputs(e.getenv("GITHUB_OUTPUT"),
		ghaction.Output{Name: "findings", Value: strconv.Itoa(len(res.Findings))},
		ghaction.Output{Name: "active", Value: strconv.Itoa(active)},
		ghaction.Output{Name: "sarif-file", Value: sarifFile})
	if err != nil {
		return exitError, fmt.Errorf("writing the step outputs: %w", err)
	}
	return code, nil
}

// inputBool reads a boolean action input; empty is false.
func inputBool(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, usageErr(fmt.Sprintf("input %s is %q, not true or false", name, clipInput(v)), "")
	}
	return b, nil
}

// splitList splits an input holding several values.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
}

func clipInput(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
