package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes: the one table from outcomes to codes.
const (
	exitClean    = 0 // nothing found that fails the run
	exitFindings = 1 // findings (per --fail-on)
	exitError    = 2 // usage, input or internal error; or the scan was incomplete
)

// env is what a command may touch of the outside world.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) (int, error)
}

func commands() []command {
	return []command{
		{"dir", "scan files and directories (\"-\" for standard input)", runDir},
		{"git", "scan a repository's history, or a range of commits", runGit},
		{"staged", "scan what `git commit` would add (for pre-commit hooks)", runStaged},
		{"action", "scan what a GitHub Actions event asks for, with annotations, summary and SARIF (action.yml)", runAction},
		{"audit", "audit the history of several repositories: verified, with the key policy checked across them", runAudit},
		{"verify", "check one key, read from standard input, against the Notify API", runVerify},
		{"revoke", "report verified-active leaked keys to GC Notify for revocation (operations staff)", runRevoke},
		{"rules", "list the detection rules", runRules},
		{"version", "print the version", runVersion},
	}
}

// run is the whole program: it returns the exit code and never calls os.Exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		usage(stderr)
		return exitError
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "--help", "help":
		usage(stdout)
		return exitClean
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			code, err := c.run(e, rest)
			if err != nil {
				return fail(stderr, err)
			}
			return code
		}
	}
	return fail(stderr, usageErr(fmt.Sprintf("unknown command %q", name), "run 'notifyscan --help' for the commands"))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "notifyscan finds GC Notify API keys and checks whether they are live.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: notifyscan <command> [flags] [args]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit codes: 0 nothing found, 1 findings, 2 usage, input or internal error.")
	fmt.Fprintln(w, "Run 'notifyscan <command> --help' for a command's flags.")
}

// cliError is an error with an optional hint, and whether it is a usage error.
type cliError struct {
	msg, hint string
}

func (e *cliError) Error() string { return e.msg }

func usageErr(msg, hint string) error { return &cliError{msg: msg, hint: hint} }

func hinted(err error, hint string) error { return &cliError{msg: err.Error(), hint: hint} }

// fail prints err as "notifyscan: error: ..." (one line) with its hint, and
// returns the error exit code. Help requests are not errors.
func fail(stderr io.Writer, err error) int {
	if errors.Is(err, pflag.ErrHelp) {
		return exitClean
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "notifyscan: error: interrupted")
		return exitError
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(stderr, "notifyscan: error: %s\n", msg)
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		fmt.Fprintf(stderr, "notifyscan: hint: %s\n", ce.hint)
	}
	return exitError
}

// newFlags makes a flag set for a subcommand that prints its usage on -h.
func newFlags(e *env, name, argsUsage, about string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = true
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: notifyscan %s [flags] %s\n\n%s\n\nFlags:\n%s", name, argsUsage, about, fs.FlagUsages())
	}
	return fs
}

// parse parses args, turning pflag's errors into usage errors with a hint.
func parse(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usageErr(err.Error(), fmt.Sprintf("run 'notifyscan %s --help' for its flags", fs.Name()))
	}
	return nil
}

// version is the module version from the build info ("(devel)" for a local build).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func runVersion(e *env, args []string) (int, error) {
	fs := newFlags(e, "version", "", "Print notifyscan's version.")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	fmt.Fprintf(e.stdout, "notifyscan %s\n", version())
	return exitClean, nil
}
