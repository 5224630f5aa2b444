package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

// Tool names the program that made the report.
type Tool struct{ Name, Version, InformationURI string }

// Stats says how much was scanned.
type Stats struct{ Files, Bytes, Blobs, Commits int64 }

// Report is everything a report shows. Write never modifies it.
type Report struct {
	Tool     Tool
	Command  string          // "dir", "git", "staged", "stdin", ...
	Findings []rules.Finding // callers pass them sorted with rules.Sort; Write sorts a copy anyway
	Ignored  int             // findings suppressed by notifyscan:allow or .notifyscanignore
	Errors   []string        // one line each, already scrubbed: what could not be read
	Stats    Stats
	Verified bool // verification ran: statuses are meaningful
}

// Format is a report format.
type Format string

// The report formats.
const (
	Text     Format = "text"     // path:line:col: rule: message, one line per finding
	JSON     Format = "json"     // the version 1 document described in the package comment
	SARIF    Format = "sarif"    // SARIF 2.1.0 for code scanning
	GitHub   Format = "github"   // GitHub Actions workflow commands (annotations)
	Markdown Format = "markdown" // a GitHub Actions job summary
)

// Formats lists every format, in the order help texts show them.
func Formats() []Format { return []Format{Text, JSON, SARIF, GitHub, Markdown} }

// ParseFormat returns the format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown report format %q (want %s)", clip(s, 40), strings.Join(names, ", "))
}

// ErrSecretInOutput is returned by Write when the rendered report would
// contain a finding's secret (for example in an error line that was not
// scrubbed); nothing is written.
var ErrSecretInOutput = errors.New("report: refusing to write a report that contains a secret")

// Write renders r in format f to w. Findings are shown in report order
// whatever order they come in, and the same Report always gives the same
// bytes. Write writes nothing if the output would contain a secret of one
// of r's findings, or any part of one but its first four characters.
func Write(w io.Writer, f Format, r *Report) error {
	if r == nil {
		r = &Report{}
	}
	v := view{Report: r, findings: sorted(r.Findings)}
	var buf bytes.Buffer
	var err error
	switch f {
	case Text:
		err = writeText(&buf, &v)
	case JSON:
		err = writeJSON(&buf, &v)
	case SARIF:
		err = writeSARIF(&buf, &v)
	case GitHub:
		err = writeGitHub(&buf, &v)
	case Markdown:
		err = writeMarkdown(&buf, &v)
	default:
		_, err = ParseFormat(string(f))
	}
	if err != nil {
		return err
	}
	if leaks(buf.Bytes(), v.findings) {
		return ErrSecretInOutput
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// view is a Report with its findings sorted, as every writer sees it.
type view struct {
	*Report
	findings []rules.Finding
}

// sorted returns a copy of fs in report order (rules.Compare), with ties
// between findings that differ only in details broken by those details, so
// that input order never shows in the output.
func sorted(fs []rules.Finding) []rules.Finding {
	out := slices.Clone(fs)
	slices.SortFunc(out, func(a, b rules.Finding) int {
		if c := rules.Compare(&a, &b); c != 0 {
			return c
		}
		return bytes.Compare(tieKey(&a), tieKey(&b))
	})
	return out
}

// tieKey is every shown field of f, for ordering findings rules.Compare
// calls equal.
func tieKey(f *rules.Finding) []byte {
	b, err := json.Marshal(newJSONFinding(f, f.Status, true))
	if err != nil {
		return nil
	}
	return b
}

// status is the finding's status as reports show it: unverified when
// verification did not run, unknown when the value is not a declared status.
func (v *view) status(f *rules.Finding) rules.Status {
	switch {
	case !v.Verified:
		return rules.StatusUnverified
	case !f.Status.Valid():
		return rules.StatusUnknown
	}
	return f.Status
}

// leaks reports whether out holds the tail (all but the first four
// characters) of any finding's secret. A secret's tail has the shape
// "hhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh", so one pass over out finds them all.
func leaks(out []byte, fs []rules.Finding) bool {
	const tailLen = rules.UUIDLen - 4
	tails := make(map[string]bool, len(fs))
	for i := range fs {
		if s := fs[i].Key.Secret(); len(s) == rules.UUIDLen {
			tails[s[4:]] = true
		}
	}
	if len(tails) == 0 {
		return false
	}
	for i := 0; i+tailLen <= len(out); i++ {
		if out[i+4] == '-' && out[i+9] == '-' && out[i+14] == '-' && out[i+19] == '-' && tails[string(out[i:i+tailLen])] {
			return true
		}
	}
	return false
}

// displayPath is where a finding is for people: the path, or for an archive
// member "outer.zip!inner/file".
func displayPath(f *rules.Finding) string {
	switch {
	case f.Container == "":
		return f.Path
	case strings.HasPrefix(f.Container, f.Path+"!"):
		return f.Container
	}
	return f.Path + "!" + f.Container
}

// memberPath is the path inside the archive, "" outside archives.
func memberPath(f *rules.Finding) string {
	if f.Container == "" {
		return ""
	}
	return strings.TrimPrefix(displayPath(f), f.Path+"!")
}

// level is how loud a finding is, by status: "error" for keys that are or
// may be live, "warning" for keys that are genuine but cannot be used now,
// "note" for keys no Notify host knows.
func level(s rules.Status) string {
	switch s {
	case rules.StatusInactive, rules.StatusRevoked:
		return "warning"
	case rules.StatusInvalid:
		return "note"
	}
	return "error"
}

// severity is the GitHub security-severity of a finding (0.1 to 10).
func severity(s rules.Status, ruleID string) float64 {
	switch s {
	case rules.StatusActive:
		return 9.8
	case rules.StatusUnknown:
		return 8.0
	case rules.StatusInactive:
		return 3.9
	case rules.StatusRevoked:
		return 2.0
	case rules.StatusInvalid:
		return 1.0
	}
	if r := rules.ByID(ruleID); r != nil {
		return r.Severity
	}
	return 7.0
}

// shortCommit is the abbreviated commit id people read.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

// day is the date part of an RFC 3339 time, or the text as given.
func day(date string) string {
	if len(date) >= 10 && date[4] == '-' && date[7] == '-' {
		return date[:10]
	}
	return date
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// fixHint is the one-sentence remedy for a key in a given state; the rule's
// Help has the whole story.
func fixHint(s rules.Status) string {
	switch s {
	case rules.StatusActive:
		return "Revoke it now, then keep the new key in a secret manager."
	case rules.StatusUnknown:
		return "It could not be verified: treat it as live, revoke it and keep the new key in a secret manager."
	case rules.StatusInactive:
		return "Its service is archived or suspended: revoke the key and remove it from source."
	case rules.StatusRevoked:
		return "It is revoked: remove it from source."
	case rules.StatusInvalid:
		return "No Notify host knows it: remove it, or allow it if it is an example."
	}
	return "Treat it as live: revoke it and keep the new key in a secret manager."
}
