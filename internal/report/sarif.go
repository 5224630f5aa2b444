package report

import (
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

// The SARIF log is built from the small subset of the SARIF 2.1.0 object
// model notifyscan fills, so the output holds only members with a meaning
// (no empty graphs, addresses or policies) and its member order is fixed.

const (
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion = "2.1.0"
	srcRoot      = "%SRCROOT%"
	// fingerprintKey names notifyscan's partial fingerprint: the key's
	// fingerprint and the file, so it survives lines moving.
	fingerprintKey = "notifyscan/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	ColumnKind  string            `json:"columnKind"`
	Results     []sarifResult     `json:"results"`
	Properties  sarifRunProps     `json:"properties"`
}

type sarifRunProps struct {
	Command  string    `json:"command"`
	Verified bool      `json:"verified"`
	Ignored  int       `json:"ignored"`
	Stats    jsonStats `json:"stats"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri,omitempty"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 *sarifText     `json:"help,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision,omitempty"`
	ProblemSeverity  string   `json:"problem.severity"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// sarifResultProps is what code scanning shows beside a result. Git members
// are set for history findings only.
type sarifResultProps struct {
	Status           string   `json:"status"`
	StatusDetail     string   `json:"statusDetail,omitempty"`
	StatusHost       string   `json:"statusHost,omitempty"`
	SecuritySeverity string   `json:"security-severity"`
	Fingerprint      string   `json:"fingerprint"`
	Key              string   `json:"key"`
	Name             string   `json:"name,omitempty"`
	ServiceID        string   `json:"serviceId"`
	Tracking         string   `json:"tracking,omitempty"`
	Encoding         string   `json:"encoding,omitempty"`
	Container        string   `json:"container,omitempty"`
	Commit           string   `json:"commit,omitempty"`
	Author           string   `json:"author,omitempty"`
	AuthorEmail      string   `json:"authorEmail,omitempty"`
	Date             string   `json:"date,omitempty"`
	Commits          []string `json:"commits,omitempty"`
	Refs             []string `json:"refs,omitempty"`
	AtHead           *bool    `json:"atHead,omitempty"`
	Blob             string   `json:"blob,omitempty"`
	CommitMessage    bool     `json:"commitMessage,omitempty"`
}

func writeSARIF(w io.Writer, v *view) error {
	rs, index := sarifRules(v.findings)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:            v.Tool.Name,
			Version:         v.Tool.Version,
			SemanticVersion: semanticVersion(v.Tool.Version),
			InformationURI:  v.Tool.InformationURI,
			Rules:           rs,
		}},
		Invocations: []sarifInvocation{{
			ExecutionSuccessful: len(v.Errors) == 0,
			Notifications:       []sarifNotification{},
		}},
		ColumnKind: "unicodeCodePoints",
		Results:    make([]sarifResult, 0, len(v.findings)),
		Properties: sarifRunProps{Command: v.Command, Verified: v.Verified, Ignored: v.Ignored, Stats: jsonStats(v.Stats)},
	}
	if run.Tool.Driver.Name == "" {
		run.Tool.Driver.Name = "notifyscan"
	}
	for _, e := range v.Errors {
		run.Invocations[0].Notifications = append(run.Invocations[0].Notifications,
			sarifNotification{Level: "error", Message: sarifText{Text: e}})
	}
	for i := range v.findings {
		run.Results = append(run.Results, sarifResultOf(v, &v.findings[i], index))
	}
	return encodeJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// sarifRules describes every rule of rules.All, in that order, then any other
// rule id the findings use, sorted; index maps an id to its position.
func sarifRules(fs []rules.Finding) (out []sarifRule, index map[string]int) {
	index = map[string]int{}
	for _, r := range rules.All() {
		index[r.ID] = len(out)
		out = append(out, sarifRule{
			ID:                   r.ID,
			Name:                 r.Name,
			ShortDescription:     sarifText{Text: r.Short},
			FullDescription:      sarifText{Text: r.Full},
			Help:                 &sarifText{Text: plainText(r.Help), Markdown: r.Help},
			DefaultConfiguration: sarifConfig{Level: "error"},
			Properties: sarifRuleProps{
				Tags:             nonNil(slices.Compact(slices.Sorted(slices.Values(r.Tags)))),
				Precision:        r.Precision,
				ProblemSeverity:  "error",
				SecuritySeverity: formatSeverity(r.Severity),
			},
		})
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
		out = append(out, sarifRule{
			ID:                   id,
			ShortDescription:     sarifText{Text: id},
			FullDescription:      sarifText{Text: id},
			DefaultConfiguration: sarifConfig{Level: "error"},
			Properties: sarifRuleProps{
				Tags:             []string{"secret", "security"},
				ProblemSeverity:  "error",
				SecuritySeverity: formatSeverity(severity(rules.StatusUnverified, id)),
			},
		})
	}
	return out, index
}

func sarifResultOf(v *view, f *rules.Finding, index map[string]int) sarifResult {
	st := v.status(f)
	loc := sarifPhysical{ArtifactLocation: sarifArtifact{URI: pathURI(f.Path), URIBaseID: srcRoot}}
	if f.Line > 0 {
		loc.Region = &sarifRegion{StartLine: f.Line}
		if f.Column > 0 {
			loc.Region.StartColumn = f.Column
			if f.EndColumn > f.Column {
				loc.Region.EndColumn = f.EndColumn
			}
		}
	}
	p := sarifResultProps{
		Status:           st.Label(),
		SecuritySeverity: formatSeverity(severity(st, f.RuleID)),
		Fingerprint:      f.Fingerprint(),
		Key:              f.Key.Redacted(),
		Name:             f.Key.Name(),
		ServiceID:        f.Key.ServiceID(),
		Tracking:         f.Tracking,
		Encoding:         f.Encoding,
		Container:        f.Container,
	}
	if v.Verified {
		p.StatusDetail, p.StatusHost = f.StatusDetail, f.StatusHost
	}
	if g := f.Git; g != nil {
		p.Commit, p.Author, p.AuthorEmail, p.Date = g.Commit, g.Author, g.AuthorEmail, g.Date
		p.Commits, p.Refs, p.Blob, p.CommitMessage = g.Commits, g.Refs, g.Blob, g.Message
		p.AtHead = &g.AtHead
	}
	return sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           index[f.RuleID],
		Level:               level(st),
		Message:             sarifText{Text: sarifMessage(v, f, st)},
		Locations:           []sarifLocation{{PhysicalLocation: loc}},
		PartialFingerprints: map[string]string{fingerprintKey: f.Fingerprint() + ":" + displayPath(f)},
		Properties:          p,
	}
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
