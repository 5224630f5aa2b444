package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/cds-snc/notifyscan/rules"
)

func TestReadLocationsRoundTrip(t *testing.T) {
	fx := newFixture(t)
	r := *fx.reports["verified"]
	// Odd paths must survive URI encoding in SARIF.
	weird := fx.keys[0].at(rules.CurrentKeyRule, "c:x/日本語 100%.env", 4, 2)
	r.Findings = append(slices.Clone(r.Findings), weird)

	want := make([]Location, 0, len(r.Findings))
	for _, f := range sorted(r.Findings) {
		want = append(want, LocationOf(&f))
	}
	for _, f := range []Format{JSON, SARIF} {
		out := fx.render(t, f, &r)
		got, err := ReadLocations(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s round trip:\ngot  %+v\nwant %+v", f, got, want)
		}
	}
	for _, name := range []string{"empty", "unverified"} {
		for _, f := range []Format{JSON, SARIF} {
			got, err := ReadLocations(bytes.NewReader(fx.render(t, f, fx.reports[name])))
			if err != nil || len(got) != len(fx.reports[name].Findings) {
				t.Errorf("%s %s: %d locations, %v", name, f, len(got), err)
			}
		}
	}
}

// A SARIF copy stripped of notifyscan's properties still gives fingerprints.
func TestReadLocationsPartialFingerprint(t *testing.T) {
	fx := newFixture(t)
	f := fx.keys[0].at(rules.CurrentKeyRule, "a.env", 1, 1)
	in := `{"version":"2.1.0","runs":[{"results":[{"ruleId":"notify-api-key","partialFingerprints":{"notifyscan/v1":"` +
		f.Fingerprint() + `:a.env"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.env"},"region":{"startLine":1}}}]}]}]}`
	got, err := ReadLocations(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Fingerprint != f.Fingerprint() || got[0].Path != "a.env" || got[0].Line != 1 {
		t.Errorf("got %+v", got)
	}
}

func TestReadLocationsRejects(t *testing.T) {
	for _, in := range []string{
		``,
		`not json`,
		`{}`,
		`{"version":2,"findings":[]}`,
		`{"version":"1","findings":[]}`,
		`[1,2]`,
		`{"version":"2.1.0","runs":[{"results":[{"locations":[{"physicalLocation":{"artifactLocation":{"uri":"%zz"}}}]}]}]}`,
	} {
		if _, err := ReadLocations(strings.NewReader(in)); err == nil {
			t.Errorf("ReadLocations(%q) accepted it", in)
		}
	}
}
