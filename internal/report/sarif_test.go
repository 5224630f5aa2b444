package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cds-snc/notifyscan/rules"
)

const schemaCopy = "testdata/sarif-schema-2.1.0.json"

// The schema copy in testdata is the project's shared one, when that is
// checked out beside this repository.
func TestSchemaCopyIsCurrent(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "sarif-schema-2.1.0.json"))
	if os.IsNotExist(err) {
		t.Skip("no ../shared beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(schemaCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, copied) {
		t.Errorf("%s differs from ../shared/sarif-schema-2.1.0.json: copy it again", schemaCopy)
	}
}

func sarifValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaCopy)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchema, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchema)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestSARIFValidates(t *testing.T) {
	sch := sarifValidator(t)
	fx := newFixture(t)

	// An unknown rule id, a finding with no position, stdin, a path with
	// a colon in its first segment and non-ASCII: still valid SARIF.
	odd := *fx.reports["unverified"]
	extra := fx.keys[0].at(rules.CurrentKeyRule, "c:x/日本語 100%.env", 0, 0)
	extra.RuleID = "notify-key-reuse"
	stdin := fx.keys[1].at(rules.CurrentKeyRule, "-", 1, 1)
	odd.Findings = append(slices.Clone(odd.Findings), extra, stdin)
	odd.Tool = Tool{Name: "notifyscan", Version: "(devel)"}

	cases := map[string]*Report{
		"no findings":                 fx.reports["empty"],
		"git, archives, errors":       fx.reports["verified"],
		"unverified":                  fx.reports["unverified"],
		"odd paths and unknown rules": &odd,
		"zero report":                 {},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			out := fx.render(t, SARIF, r)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("not valid SARIF 2.1.0: %v", err)
			}
			checkCodeScanning(t, out, r)
		})
	}
}

// The schema check can fail: a log missing its version is rejected.
func TestSARIFValidatorRejects(t *testing.T) {
	sch := sarifValidator(t)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"runs":[{"tool":{"driver":{}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if sch.Validate(inst) == nil {
		t.Fatal("the validator accepted an invalid log")
	}
}

// checkCodeScanning checks what GitHub code scanning needs beyond the schema.
func checkCodeScanning(t *testing.T, out []byte, r *Report) {
	t.Helper()
	if bytes.Contains(out, []byte("null")) {
		t.Error("SARIF contains null")
	}
	if bytes.Contains(out, []byte(`"snippet"`)) {
		t.Error("SARIF contains a snippet")
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version, SemanticVersion, InformationURI string
					Rules                                          []struct {
						ID               string
						Name             string
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text, Markdown string }
						Properties       map[string]any
					}
				}
			}
			Invocations []struct {
				ExecutionSuccessful        bool
				ToolExecutionNotifications []struct{ Message struct{ Text string } }
			}
			ColumnKind string
			Results    []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				Message             struct{ Text string }
				Locations           []map[string]any
				PartialFingerprints map[string]string
				Properties          map[string]any
			}
		}
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want exactly 1", len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name == "" {
		t.Error("tool.driver.name is empty")
	}
	if r.Tool.InformationURI != "" && d.InformationURI != r.Tool.InformationURI {
		t.Errorf("informationUri = %q", d.InformationURI)
	}
	if r.Tool.Version == "v1.2.3" && (d.Version != "v1.2.3" || d.SemanticVersion != "1.2.3") {
		t.Errorf("version %q, semanticVersion %q", d.Version, d.SemanticVersion)
	}
	if run.ColumnKind != "unicodeCodePoints" {
		t.Errorf("columnKind = %q", run.ColumnKind)
	}
	all := rules.All()
	if len(d.Rules) < len(all) {
		t.Fatalf("%d rules listed, want at least %d", len(d.Rules), len(all))
	}
	for i, rule := range all {
		got := d.Rules[i]
		if got.ID != rule.ID || got.Name != rule.Name || got.ShortDescription.Text != rule.Short ||
			got.FullDescription.Text != rule.Full || got.Help.Markdown != rule.Help || got.Help.Text == "" {
			t.Errorf("rule %d does not describe %s", i, rule.ID)
		}
		if got.Properties["precision"] != rule.Precision || got.Properties["problem.severity"] != "error" {
			t.Errorf("rule %s: properties %v", rule.ID, got.Properties)
		}
		if _, ok := got.Properties["tags"].([]any); !ok {
			t.Errorf("rule %s: no tags", rule.ID)
		}
	}
	for _, rule := range d.Rules {
		sev, ok := rule.Properties["security-severity"].(string)
		if v, err := strconv.ParseFloat(sev, 64); !ok || err != nil || v < 0.1 || v > 10 {
			t.Errorf("rule %s: security-severity %v is not a string from 0.1 to 10", rule.ID, rule.Properties["security-severity"])
		}
	}
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful != (len(r.Errors) == 0) ||
		len(run.Invocations[0].ToolExecutionNotifications) != len(r.Errors) {
		t.Errorf("invocations %+v do not reflect %d errors", run.Invocations, len(r.Errors))
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(r.Findings))
	}
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(d.Rules) || d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result for %s has ruleIndex %d", res.RuleID, res.RuleIndex)
		}
		if !slices.Contains([]string{"error", "warning", "note"}, res.Level) {
			t.Errorf("level %q", res.Level)
		}
		if res.Message.Text == "" || len(res.Locations) != 1 {
			t.Errorf("result without message or with %d locations", len(res.Locations))
		}
		al := res.Locations[0]["physicalLocation"].(map[string]any)["artifactLocation"].(map[string]any)
		if al["uriBaseId"] != srcRoot || strings.HasPrefix(al["uri"].(string), "/") || strings.Contains(al["uri"].(string), `\`) {
			t.Errorf("artifactLocation %v is not relative to %s", al, srcRoot)
		}
		if fp := res.PartialFingerprints[fingerprintKey]; !strings.HasPrefix(fp, "nsfp1:") {
			t.Errorf("partialFingerprints %v", res.PartialFingerprints)
		}
		for _, p := range []string{"status", "fingerprint", "key", "serviceId", "security-severity"} {
			if _, ok := res.Properties[p]; !ok {
				t.Errorf("result properties lack %s", p)
			}
		}
	}
}

// Partial fingerprints follow the key and the file, not the line.
func TestPartialFingerprintIgnoresLines(t *testing.T) {
	fx := newFixture(t)
	r := *fx.reports["unverified"]
	moved := Report{Tool: r.Tool, Findings: slices.Clone(r.Findings)}
	for i := range moved.Findings {
		moved.Findings[i].Line += 40
		moved.Findings[i].Column += 3
	}
	fps := func(out []byte) []string {
		var log struct {
			Runs []struct {
				Results []struct{ PartialFingerprints map[string]string }
			}
		}
		if err := json.Unmarshal(out, &log); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, res := range log.Runs[0].Results {
			s = append(s, res.PartialFingerprints[fingerprintKey])
		}
		return s
	}
	a, b := fps(fx.render(t, SARIF, &r)), fps(fx.render(t, SARIF, &moved))
	if !slices.Equal(a, b) || len(a) != len(r.Findings) {
		t.Errorf("partial fingerprints changed when lines moved:\n%v\n%v", a, b)
	}
	if a[0] == a[1] {
		t.Error("two keys share a partial fingerprint")
	}
}

func TestPathURI(t *testing.T) {
	cases := map[string]string{
		"a/b.env":           "a/b.env",
		"docs/set up #1.md": "docs/set%20up%20%231.md",
		"c:x/y":             "c%3Ax/y",
		"100%/日本.txt":       "100%25/%E6%97%A5%E6%9C%AC.txt",
		"q?x/a;b":           "q%3Fx/a%3Bb",
	}
	for in, want := range cases {
		if got := pathURI(in); got != want {
			t.Errorf("pathURI(%q) = %q, want %q", in, got, want)
		}
	}
}
