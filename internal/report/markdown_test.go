package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

// unescapedPipes counts the '|' that split a GFM table row.
var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

func TestMarkdownCellsAreEscaped(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "a|b\nc<script>.env", 3, 1)
	f.Git = &rules.GitProvenance{Commit: "0123456789abcdef0123456789abcdef01234567", Author: "Bob | *Evil*\n# Heading", Date: "2024-05-06T07:08:09-04:00"}
	r := &Report{Findings: []rules.Finding{f}, Errors: []string{"x|y\n## not a heading"}}
	out := string(fx.render(t, Markdown, r))
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d table lines, want header, rule and 1 row:\n%s", len(rows), out)
	}
	for _, row := range rows {
		if n := len(unescapedPipe.FindAllString(row, -1)); n != 9 {
			t.Errorf("row has %d cell separators, want 9: %s", n, row)
		}
	}
	for _, want := range []string{`a\|b c\<script\>.env:3`, `Bob \| \*Evil\* \# Heading`, "`0123456`", "2024-05-06", `- x\|y \#\# not a heading`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "\n## not") {
		t.Errorf("markup got through:\n%s", out)
	}
}

func TestMarkdownNoFindings(t *testing.T) {
	fx := newFixture(t)
	out := string(fx.render(t, Markdown, fx.reports["empty"]))
	for _, want := range []string{"No Notify API keys found", "Scanned (staged): 5 files, 2.0 KiB."} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| Key |") || strings.Contains(out, "How to fix") {
		t.Errorf("a table or fix for no findings:\n%s", out)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 123456: "120.6 KiB", 5 << 30: "5.0 GiB", 3 << 40: "3.0 TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
