package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

// Every line is "path:line:col: rule: message", as vim's default
// errorformat and Emacs' compilation mode read it.
func TestTextIsQuickfix(t *testing.T) {
	fx := newFixture(t)
	line := regexp.MustCompile(`^([^:\n]+):(\d+):(\d+): (notify-[a-z-]+): (\S.*)$`)
	for _, name := range []string{"verified", "unverified"} {
		r := fx.reports[name]
		out := string(fx.render(t, Text, r))
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(r.Findings) {
			t.Fatalf("%s: %d lines for %d findings", name, len(lines), len(r.Findings))
		}
		for _, l := range lines {
			if !line.MatchString(l) {
				t.Errorf("%s: not a quickfix line: %q", name, l)
			}
		}
	}
	if out := fx.render(t, Text, fx.reports["empty"]); len(out) != 0 {
		t.Errorf("no findings gave %q", out)
	}
}

func TestTextShowsStatusOnlyWhenVerified(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "a.env", 1, 1)
	f.Status = rules.StatusActive
	r := &Report{Findings: []rules.Finding{f}}
	if out := string(fx.render(t, Text, r)); strings.Contains(out, "active") {
		t.Errorf("unverified report shows a status: %q", out)
	}
	r.Verified = true
	if out := string(fx.render(t, Text, r)); !strings.Contains(out, "[active]") {
		t.Errorf("verified report hides the status: %q", out)
	}
}

// Control characters in paths and git metadata cannot break lines or drive
// the terminal.
func TestTextEscapesControlCharacters(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "evil\x1b[31m\nname\xff.env", 2, 3)
	f.Git = &rules.GitProvenance{Commit: "0123456789abcdef0123456789abcdef01234567", Author: "Mallory\r\n\u2028x"}
	out := string(fx.render(t, Text, &Report{Findings: []rules.Finding{f}}))
	if strings.Count(out, "\n") != 1 || strings.ContainsAny(out, "\x1b\r\u2028") || strings.Contains(out, "\xff") {
		t.Errorf("control characters got through: %q", out)
	}
	if !strings.Contains(out, `evil\x1b[31m\nname\xff.env:2:3: `) || !strings.Contains(out, `by Mallory\r\n\u2028x`) {
		t.Errorf("unexpected escaping: %q", out)
	}
}

func TestTextArchiveAndEncoding(t *testing.T) {
	fx := newFixture(t)
	out := string(fx.render(t, Text, fx.reports["verified"]))
	if !strings.Contains(out, "dist/bundle.zip!app/settings.json:2:12: notify-api-key: ") || !strings.Contains(out, "(base64)") {
		t.Errorf("archive member or encoding missing:\n%s", out)
	}
	// A container written without the outer path is shown under it.
	f := fx.keys[0].at(rules.CurrentKeyRule, "x.zip", 1, 1)
	f.Container = "in/side.env"
	if got := displayPath(&f); got != "x.zip!in/side.env" {
		t.Errorf("displayPath = %q", got)
	}
}
