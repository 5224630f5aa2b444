package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/cds-snc/notifyscan/internal/verify"
	"github.com/cds-snc/notifyscan/rules"
)

// verifyFlags choose the API hosts a key is checked against.
type verifyFlags struct {
	apiURLs      []string
	fallbackURLs []string
	concurrency  int
	deadline     time.Duration
}

func (v *verifyFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&v.apiURLs, "api-url", nil, "Notify API base URL to verify against (repeatable; default GC Notify production)")
	fs.StringArrayVar(&v.fallbackURLs, "fallback-api-url", nil, "where a legacy key that every --api-url calls invalid is tried next (repeatable; default GOV.UK Notify; \"none\" for none)")
	fs.IntVar(&v.concurrency, "verify-concurrency", 0, "keys verified at once (default 4)")
	fs.DurationVar(&v.deadline, "verify-deadline", 0, "stop verifying after this long; keys not checked by then are unknown (default: no limit)")
}

// newClient builds the verification client from the flags.
func (v *verifyFlags) newClient() (*verify.Client, error) {
	c, err := verify.New(version(), v.apiURLs...)
	if err != nil {
		return nil, hinted(err, "use an https:// URL (http:// only for loopback test servers)")
	}
	if v.fallbackURLs != nil {
		c.FallbackHosts = nil
		for _, u := range v.fallbackURLs {
			if u == "none" {
				continue
			}
			h, err := verify.ValidateHost(u)
			if err != nil {
				return nil, hinted(err, "use an https:// URL (http:// only for loopback test servers)")
			}
			c.FallbackHosts = append(c.FallbackHosts, h)
		}
	}
	if v.concurrency > 0 {
		c.Concurrency = v.concurrency
	}
	c.Deadline = v.deadline
	return c, nil
}

// verifyFindings fills each finding's status from the Notify API. It returns
// when every finding has a status, also when interrupted (the rest are
// unknown), so that the report is still written.
func verifyFindings(e *env, vf *verifyFlags, fs []rules.Finding) error {
	c, err := vf.newClient()
	if err != nil {
		return err
	}
	c.VerifyFindings(e.ctx, fs)
	return nil
}

func runVerify(e *env, args []string) (int, error) {
	var vf verifyFlags
	fs := newFlags(e, "verify", "< key-file", "Check one key, read from standard input (never from the command line, where other\n"+
		"users of the machine can read it), against the Notify API. The request is signed with the secret; the\n"+
		"secret itself is never sent. Prints the status; exit 0 active, 1 revoked/invalid/inactive, 2 unknown or error.")
	vf.register(fs)
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if fs.NArg() > 0 {
		return exitError, usageErr("verify reads the key from standard input, not from arguments",
			"notifyscan verify < key.txt  (a key on the command line is visible to every user of the machine)")
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return exitError, fmt.Errorf("reading the key from standard input: %w", err)
	}
	k, err := rules.ParseKey(strings.TrimSpace(line))
	if err != nil {
		return exitError, hinted(fmt.Errorf("standard input: %w", err), "give exactly one key, gcntfy-<name>-<service_id>-<secret>, on one line")
	}
	c, err := vf.newClient()
	if err != nil {
		return exitError, err
	}
	r := c.Verify(e.ctx, k)
	fmt.Fprintf(e.stdout, "%s %s %s\n", k.Redacted(), r.Status.Label(), r.Detail())
	switch r.Status {
	case rules.StatusActive:
		return exitClean, nil
	case rules.StatusUnknown:
		return exitError, nil
	}
	return exitFindings, nil
}
