package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

// writeText writes one line per finding in the form editors read as a
// quickfix or compilation list:
//
//	path:line:col: rule-id: <redacted key> [status] (encoding) in commit abc1234 by Author on 2024-01-02
//
// The status is shown only when verification ran. Control characters in
// paths, names and details are escaped, so every finding stays one line and
// cannot drive the terminal.
func writeText(w io.Writer, v *view) error {
	var b strings.Builder
	for i := range v.findings {
		f := &v.findings[i]
		b.WriteString(printable(displayPath(f)))
		if f.Line > 0 {
			fmt.Fprintf(&b, ":%d", f.Line)
			if f.Column > 0 {
				fmt.Fprintf(&b, ":%d", f.Column)
			}
		}
		b.WriteString(": ")
		b.WriteString(printable(f.RuleID))
		b.WriteString(": ")
		b.WriteString(printable(textMessage(v, f)))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// textMessage describes a finding in one line: the redacted key, the status
// when verification ran, the encoding, and where in history it came from.
func textMessage(v *view, f *rules.Finding) string {
	parts := []string{f.Key.Redacted()}
	if v.Verified {
		s := "[" + v.status(f).Label()
		if f.StatusDetail != "" {
			s += ": " + f.StatusDetail
		}
		parts = append(parts, s+"]")
	}
	if f.Encoding != "" {
		parts = append(parts, "("+f.Encoding+")")
	}
	if g := provenance(f); g != "" {
		parts = append(parts, g)
	}
	if f.Note != "" {
		parts = append(parts, "- "+f.Note)
	}
	return strings.Join(parts, " ")
}

// provenance is "in commit abc1234 by Author on 2024-01-02" for history
// findings, "" otherwise.
func provenance(f *rules.Finding) string {
	g := f.Git
	if g == nil || g.Commit == "" {
		return ""
	}
	s := "in commit " + shortCommit(g.Commit)
	if g.Message {
		s = "in the message of commit " + shortCommit(g.Commit)
	}
	if g.Author != "" {
		s += " by " + g.Author
	}
	if g.Date != "" {
		s += " on " + day(g.Date)
	}
	return s
}

// printable escapes control characters and invalid UTF-8 in s as Go escapes
// (\n, \x1b, ...), leaving everything else as it is.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			q := fmt.Sprintf("%+q", r) // '\n', '\x1b', '\u2028'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
