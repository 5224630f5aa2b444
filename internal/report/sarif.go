package report

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/cds-snc/notifyscan/rules"
)

// The SARIF log is built with go-sarif's object model. Its constructors
// fill every member the model always writes with the schema's default (an
// empty array, -1 for "no offset", "en-US"), so the log holds no null and
// means what it would without those members.

const (
	sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	srcRoot     = "%SRCROOT%"
	// fingerprintKey names notifyscan's partial fingerprint: the key's
	// fingerprint and the file, so it survives lines moving.
	fingerprintKey = "notifyscan/v1"
)

func writeSARIF(w io.Writer, v *view) error {
	rs, index := sarifRules(v.findings)

	name := v.Tool.Name
	if name == "" {
		name = "notifyscan"
	}
	driver := sarif.NewToolComponent().WithName(name).WithRules(rs)
	if v.Tool.Version != "" {
		driver.WithVersion(v.Tool.Version)
	}
	if sv := semanticVersion(v.Tool.Version); sv != "" {
		driver.WithSemanticVersion(sv)
	}
	if v.Tool.InformationURI != "" {
		driver.WithInformationURI(v.Tool.InformationURI)
	}

	inv := sarif.NewInvocation().WithExecutionSuccessful(len(v.Errors) == 0)
	for _, e := range v.Errors {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel(sarif.LevelError).WithMessage(sarif.NewTextMessage(e)))
	}

	run := sarif.NewRun().
		WithTool(sarif.NewTool().WithDriver(driver)).
		AddInvocation(inv).
		WithColumnKind("unicodeCodePoints").
		WithProperties(sarif.NewPropertyBag().
			Add("command", v.Command).
			Add("verified", v.Verified).
			Add("ignored", v.Ignored).
			Add("stats", jsonStats(v.Stats)))
	for i := range v.findings {
		run.AddResult(sarifResultOf(v, &v.findings[i], index))
	}

	log := sarif.NewReport().AddRun(run)
	log.Schema = sarifSchema
	// encodeJSON rather than log.PrettyWrite, for a final newline and no
	// HTML escaping ("<name>", not "\u003cname\u003e"). Property bags are
	// marshalled by go-sarif itself, so <, > and & in their values are still
	// escaped: the same strings to any JSON reader.
	return encodeJSON(w, dropUnsetInts(log))
}

// unsetInts are the integer members go-sarif always writes, with -1 (the
// schema's "not given") when nobody set them. They say nothing and make
// validators warn (SARIF2004), so they are left out.
var unsetInts = map[string]bool{"index": true, "byteOffset": true, "charOffset": true, "id": true, "rank": true}

// dropUnsetInts re-reads v as generic JSON and removes every unsetInts
// member whose value is -1. Objects come out with sorted members, as
// go-sarif writes them, so the output stays deterministic.
func dropUnsetInts(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return v
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if n, ok := val.(json.Number); ok && unsetInts[k] && n.String() == "-1" {
					delete(t, k)
					continue
				}
				walk(val)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(doc)
	return doc
}

// sarifRules describes every rule of rules.All and rules.PolicyRules, in that
// order, then any other rule id the findings use, sorted; index maps an id to
// its position.
func sarifRules(fs []rules.Finding) (out []*sarif.ReportingDescriptor, index map[string]int) {
	index = map[string]int{}
	for _, r := range append(rules.All(), rules.PolicyRules()...) {
		index[r.ID] = len(out)
		d := sarif.NewRule(r.ID).
			WithShortDescription(text(r.Short)).
			WithFullDescription(text(r.Full)).
			WithHelp(text(plainText(r.Help)).WithMarkdown(r.Help)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarif.LevelError))
		if r.Name != "" {
			d.WithName(r.Name)
		}
		props := sarif.NewPropertyBag().WithTags(nonNil(slices.Compact(slices.Sorted(slices.Values(r.Tags)))))
		if r.Precision != "" {
			props.Add("precision", r.Precision)
		}
		props.Add("problem.severity", sarif.LevelError).Add("security-severity", formatSeverity(r.Severity))
		out = append(out, d.WithProperties(props))
	}
	var extra []string
	for i := range fs {
		if _, ok := index[fs[i].RuleID]; !ok && !slices.Contains(extra, fs[i].RuleID) {
			extra = append(extra, fs[i].RuleID)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		index[id] = len(out)
		out = append(out, sarif.NewRule(id).
			WithShortDescription(text(id)).
			WithFullDescription(text(id)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarif.LevelError)).
			WithProperties(sarif.NewPropertyBag().
				WithTags([]string{"secret", "security"}).
				Add("problem.severity", sarif.LevelError).
				Add("security-severity", formatSeverity(severity(rules.StatusUnverified, id)))))
	}
	return out, index
}

func text(s string) *sarif.MultiformatMessageString {
	return sarif.NewMultiformatMessageString().WithText(s)
}

func sarifResultOf(v *view, f *rules.Finding, index map[string]int) *sarif.Result {
	st := v.status(f)
	loc := sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(pathURI(f.Path)).WithURIBaseID(srcRoot))
	if f.Line > 0 {
		rg := sarif.NewRegion().WithStartLine(f.Line)
		if f.Column > 0 {
			rg.WithStartColumn(f.Column)
			if f.EndColumn > f.Column {
				rg.WithEndColumn(f.EndColumn)
			}
		}
		loc.WithRegion(rg)
	}

	// What code scanning shows beside a result; git members for history
	// findings only.
	p := sarif.NewPropertyBag().
		Add("status", st.Label()).
		Add("security-severity", formatSeverity(severity(st, f.RuleID))).
		Add("fingerprint", f.Fingerprint()).
		Add("key", f.Key.Redacted()).
		Add("serviceId", f.Key.ServiceID())
	addString := func(k, s string) {
		if s != "" {
			p.Add(k, s)
		}
	}
	addString("name", f.Key.Name())
	addString("tracking", f.Tracking)
	addString("encoding", f.Encoding)
	addString("container", f.Container)
	if v.Verified {
		addString("statusDetail", f.StatusDetail)
		addString("statusHost", f.StatusHost)
	}
	if g := f.Git; g != nil {
		addString("commit", g.Commit)
		addString("author", g.Author)
		addString("authorEmail", g.AuthorEmail)
		addString("date", g.Date)
		if len(g.Commits) > 0 {
			p.Add("commits", g.Commits)
		}
		if len(g.Refs) > 0 {
			p.Add("refs", g.Refs)
		}
		p.Add("atHead", g.AtHead)
		addString("blob", g.Blob)
		if g.Message {
			p.Add("commitMessage", true)
		}
	}

	return sarif.NewRuleResult(f.RuleID).
		WithRuleIndex(index[f.RuleID]).
		WithLevel(level(st)).
		WithMessage(sarif.NewTextMessage(sarifMessage(v, f, st))).
		AddLocation(sarif.NewLocationWithPhysicalLocation(loc)).
		WithPartialFingerprints(map[string]string{fingerprintKey: f.Fingerprint() + ":" + displayPath(f)}).
		WithProperties(p)
}

// sarifMessage says what was found and how bad it is, with the redacted key.
// For an archive member it names the member, since the location is the
// archive itself.
func sarifMessage(v *view, f *rules.Finding, st rules.Status) string {
	what := "Notify API key"
	if r := rules.ByID(f.RuleID); r != nil {
		what = strings.TrimSuffix(r.Short, " in plain text")
	}
	var b strings.Builder
	if f.Note != "" {
		what += ":" // a policy finding: "A Notify API key is still active ...: <key>"
	}
	b.WriteString(what + " " + f.Key.Redacted())
	if m := memberPath(f); m != "" {
		b.WriteString(" in archive member " + m)
	}
	if f.Encoding != "" {
		b.WriteString(", " + f.Encoding + "-encoded")
	}
	if g := provenance(f); g != "" {
		b.WriteString(", " + g)
	}
	if v.Verified {
		b.WriteString(". Status: " + st.Label())
		if f.StatusDetail != "" {
			b.WriteString(" (" + f.StatusDetail + ")")
		}
	}
	if f.Note != "" {
		b.WriteString(". " + upperFirst(f.Note))
	}
	b.WriteString(". " + fixHint(st))
	return b.String()
}

// pathURI turns a slash-separated relative path into a relative URI
// reference: each segment percent-encoded, and ':' always encoded so that a
// first segment such as "c:x" is not read as a scheme.
func pathURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// formatSeverity gives a security-severity as GitHub reads it: "9.0".
func formatSeverity(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) }

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// semanticVersion is version without a leading "v" when it is a Semantic
// Version 2.0, "" otherwise (a development build, say).
func semanticVersion(version string) string {
	s := strings.TrimPrefix(version, "v")
	if semverRE.MatchString(s) {
		return s
	}
	return ""
}

// plainText drops the Markdown emphasis and code marks from md, for
// viewers that cannot render Markdown.
func plainText(md string) string {
	return strings.NewReplacer("**", "", "`", "", "*", "").Replace(md)
}

// upperFirst capitalises the first letter of an ASCII sentence.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
