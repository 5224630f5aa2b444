package report

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

// At most ten errors and ten warnings, most severe first, then one notice
// with what was left out.
func TestGitHubLimits(t *testing.T) {
	fx := newFixture(t)
	r := &Report{Verified: true}
	add := func(n int, s rules.Status) {
		for range n {
			p := plant(t, len(fx.keys)+1, "gcntfy-k-")
			fx.keys = append(fx.keys, p)
			f := p.at(rules.CurrentKeyRule, fmt.Sprintf("f%03d.env", len(r.Findings)), 1, 1)
			f.Status = s
			r.Findings = append(r.Findings, f)
		}
	}
	add(9, rules.StatusUnknown) // first in report order, but less severe than active
	add(4, rules.StatusActive)
	add(8, rules.StatusRevoked)
	add(5, rules.StatusInvalid)

	out := string(fx.render(t, GitHub, r))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var errs, warns []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "::error "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "::warning "):
			warns = append(warns, l)
		}
	}
	if len(errs) != 10 || len(warns) != 10 || len(lines) != 21 {
		t.Fatalf("%d errors, %d warnings, %d lines; want 10, 10, 21:\n%s", len(errs), len(warns), len(lines), out)
	}
	for i, l := range errs[:4] {
		if !strings.Contains(l, "(active)") {
			t.Errorf("error %d is not an active key: %s", i, l)
		}
	}
	for i, l := range warns[:8] {
		if !strings.Contains(l, "(revoked)") {
			t.Errorf("warning %d is not a revoked key: %s", i, l)
		}
	}
	notice := lines[len(lines)-1]
	if !strings.HasPrefix(notice, "::notice ") || !strings.Contains(notice, "6 more findings are not annotated (3 errors, 3 warnings)") {
		t.Errorf("last line is not the right notice: %s", notice)
	}

	r.Findings = r.Findings[:3]
	if out := string(fx.render(t, GitHub, r)); strings.Contains(out, "::notice") {
		t.Errorf("a notice with nothing left out:\n%s", out)
	}
}

func TestGitHubEscaping(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "a,b:c%d\ne.env", 2, 5)
	f.Git = &rules.GitProvenance{Commit: "0123456789abcdef0123456789abcdef01234567", Author: "Eve\r\n::error::pwned 100%"}
	out := string(fx.render(t, GitHub, &Report{Findings: []rules.Finding{f}}))
	// The runner reads a command up to the first "::" after the name, so
	// properties must hold no ':' and the data no line break.
	if strings.Count(out, "\n") != 1 || !regexp.MustCompile(`^::error [^:\n]*::[^\n]*\n$`).MatchString(out) {
		t.Fatalf("injected a command or a line: %q", out)
	}
	if !strings.HasPrefix(out, "::error file=a%2Cb%3Ac%25d%0Ae.env,line=2,col=5,endColumn=") {
		t.Errorf("file property not escaped: %q", out)
	}
	if !strings.Contains(out, "by Eve%0D%0A::error::pwned 100%25") {
		t.Errorf("message not escaped: %q", out)
	}
	for _, c := range []struct{ in, data, prop string }{
		{"50%", "50%25", "50%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"x:y,z", "x:y,z", "x%3Ay%2Cz"},
	} {
		if got := escapeData(c.in); got != c.data {
			t.Errorf("escapeData(%q) = %q, want %q", c.in, got, c.data)
		}
		if got := escapeProperty(c.in); got != c.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", c.in, got, c.prop)
		}
	}
}

// Archive members are annotated on the archive, and the message names the member.
func TestGitHubArchive(t *testing.T) {
	fx := newFixture(t)
	out := string(fx.render(t, GitHub, fx.reports["verified"]))
	re := regexp.MustCompile(`(?m)^::warning file=dist/bundle\.zip,line=2,col=12,endColumn=\d+,title=[^:]+::in archive member app/settings\.json: `)
	if !re.MatchString(out) {
		t.Errorf("no annotation on the archive naming its member:\n%s", out)
	}
}
