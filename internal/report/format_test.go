package report

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

func TestGolden(t *testing.T) {
	fx := newFixture(t)
	for name, r := range fx.reports {
		for _, f := range Formats() {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				out := fx.render(t, f, r)
				golden(t, name+"."+extensions[f], fx.scrub(out))
			})
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		for _, s := range []string{string(f), strings.ToUpper(string(f)), " " + string(f) + " "} {
			got, err := ParseFormat(s)
			if err != nil || got != f {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q", s, got, err, f)
			}
		}
	}
	for _, s := range []string{"", "xml", "html", "sarif2"} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) accepted an unknown format", s)
		}
	}
	if err := Write(&bytes.Buffer{}, Format("xml"), &Report{}); err == nil {
		t.Error("Write accepted an unknown format")
	}
}

// Every format gives the same bytes for the same report, whatever the order
// of its findings, even for findings rules.Compare calls equal.
func TestDeterministic(t *testing.T) {
	fx := newFixture(t)
	r := fx.reports["verified"]
	// A twin of the first finding that differs only in its status detail.
	twin := r.Findings[0]
	twin.StatusDetail = "a different answer"
	base := *r
	base.Findings = append(slices.Clone(r.Findings), twin)

	for _, f := range Formats() {
		want := fx.render(t, f, &base)
		if again := fx.render(t, f, &base); !bytes.Equal(want, again) {
			t.Errorf("%s: two writes of one report differ", f)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 20 {
			shuffled := base
			shuffled.Findings = slices.Clone(base.Findings)
			rng.Shuffle(len(shuffled.Findings), func(i, j int) {
				shuffled.Findings[i], shuffled.Findings[j] = shuffled.Findings[j], shuffled.Findings[i]
			})
			if got := fx.render(t, f, &shuffled); !bytes.Equal(want, got) {
				t.Fatalf("%s: shuffle %d gives different bytes", f, i)
			}
		}
	}
	// Write sorted a copy: the caller's slice is untouched.
	if base.Findings[len(base.Findings)-1].StatusDetail != "a different answer" {
		t.Error("Write reordered the caller's findings")
	}
}

// Write refuses output that would hold a secret, in every format, and writes
// nothing at all then.
func TestWriteRefusesSecrets(t *testing.T) {
	fx := newFixture(t)
	r := *fx.reports["verified"]
	r.Findings = slices.Clone(r.Findings)
	k := r.Findings[0].Key
	r.Findings[0].StatusDetail = "server said: " + k.Secret()
	r.Errors = []string{"could not parse " + k.Secret()[4:]}
	for _, f := range Formats() {
		var buf bytes.Buffer
		err := Write(&buf, f, &r)
		if !errors.Is(err, ErrSecretInOutput) {
			t.Errorf("%s: Write = %v, want ErrSecretInOutput", f, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: Write wrote %d bytes before refusing", f, buf.Len())
		}
	}
}

func TestNilReport(t *testing.T) {
	for _, f := range Formats() {
		if err := Write(&bytes.Buffer{}, f, nil); err != nil {
			t.Errorf("%s: Write(nil report) = %v", f, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	fx := newFixture(t)
	want := errors.New("disk full")
	for _, f := range Formats() {
		if err := Write(failWriter{want}, f, fx.reports["verified"]); !errors.Is(err, want) {
			t.Errorf("%s: Write to a failing writer = %v, want %v", f, err, want)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// The severity table in the package comment is what the code does.
func TestLevelsAndSeverities(t *testing.T) {
	cases := []struct {
		s     rules.Status
		level string
		sev   string
	}{
		{rules.StatusActive, "error", "9.8"},
		{rules.StatusUnknown, "error", "8.0"},
		{rules.StatusUnverified, "error", "9.0"},
		{rules.StatusInactive, "warning", "3.9"},
		{rules.StatusRevoked, "warning", "2.0"},
		{rules.StatusInvalid, "note", "1.0"},
	}
	for _, c := range cases {
		if got := level(c.s); got != c.level {
			t.Errorf("level(%s) = %s, want %s", c.s.Label(), got, c.level)
		}
		if got := formatSeverity(severity(c.s, rules.CurrentKeyRule.ID)); got != c.sev {
			t.Errorf("severity(%s) = %s, want %s", c.s.Label(), got, c.sev)
		}
	}
	if got := formatSeverity(severity(rules.StatusUnverified, rules.LegacyKeyRule.ID)); got != fmt.Sprintf("%.1f", rules.LegacyKeyRule.Severity) {
		t.Errorf("unverified legacy severity = %s, want the rule's", got)
	}
	for _, s := range rules.Statuses {
		if v := severity(s, rules.CurrentKeyRule.ID); v < 0.1 || v > 10 {
			t.Errorf("severity(%s) = %v, out of GitHub's range", s, v)
		}
	}
}

// A status that is not one of rules' is shown as unknown, never dropped or
// trusted; without verification there is no status and no server answer.
func TestStatusShown(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "a.env", 1, 1)
	f.Status, f.StatusDetail = rules.Status("bogus"), "HTTP 418"
	r := &Report{Findings: []rules.Finding{f}, Verified: true}
	out := string(fx.render(t, JSON, r))
	if !strings.Contains(out, `"status": "unknown"`) || !strings.Contains(out, `"statusDetail": "HTTP 418"`) {
		t.Errorf("verified, bogus status:\n%s", out)
	}
	r.Verified = false
	out = string(fx.render(t, JSON, r))
	if !strings.Contains(out, `"status": "unverified"`) || strings.Contains(out, "HTTP 418") {
		t.Errorf("unverified:\n%s", out)
	}
}
