package report

import (
	"encoding/json"
	"io"

	"github.com/cds-snc/notifyscan/rules"
)

// jsonVersion is the version of the JSON report schema (see the package
// comment).
const jsonVersion = 1

type jsonReport struct {
	Version  int           `json:"version"`
	Tool     jsonTool      `json:"tool"`
	Command  string        `json:"command"`
	Verified bool          `json:"verified"`
	Findings []jsonFinding `json:"findings"`
	Ignored  int           `json:"ignored"`
	Errors   []string      `json:"errors"`
	Stats    jsonStats     `json:"stats"`
}

type jsonTool struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"informationUri"`
}

type jsonStats struct {
	Files   int64 `json:"files"`
	Bytes   int64 `json:"bytes"`
	Blobs   int64 `json:"blobs"`
	Commits int64 `json:"commits"`
}

type jsonFinding struct {
	Rule         string   `json:"rule"`
	Path         string   `json:"path"`
	Line         int      `json:"line"`
	Column       int      `json:"column"`
	EndColumn    int      `json:"endColumn"`
	Key          string   `json:"key"`
	Name         string   `json:"name"`
	ServiceID    string   `json:"serviceId"`
	Fingerprint  string   `json:"fingerprint"`
	Status       string   `json:"status"`
	StatusDetail string   `json:"statusDetail"`
	StatusHost   string   `json:"statusHost"`
	Encoding     string   `json:"encoding"`
	Container    string   `json:"container"`
	Tracking     string   `json:"tracking"`
	Note         string   `json:"note"`
	Git          *jsonGit `json:"git"`
}

type jsonGit struct {
	Commit      string   `json:"commit"`
	Author      string   `json:"author"`
	AuthorEmail string   `json:"authorEmail"`
	Date        string   `json:"date"`
	Commits     []string `json:"commits"`
	Refs        []string `json:"refs"`
	AtHead      bool     `json:"atHead"`
	Blob        string   `json:"blob"`
	Message     bool     `json:"message"`
}

// newJSONFinding describes f with status s; the server's answer is shown
// only when verification ran.
func newJSONFinding(f *rules.Finding, s rules.Status, verified bool) jsonFinding {
	j := jsonFinding{
		Rule:        f.RuleID,
		Path:        f.Path,
		Line:        f.Line,
		Column:      f.Column,
		EndColumn:   f.EndColumn,
		Key:         f.Key.Redacted(),
		Name:        f.Key.Name(),
		ServiceID:   f.Key.ServiceID(),
		Fingerprint: f.Fingerprint(),
		Status:      s.Label(),
		Encoding:    f.Encoding,
		Container:   f.Container,
		Tracking:    f.Tracking,
		Note:        f.Note,
	}
	if verified {
		j.StatusDetail, j.StatusHost = f.StatusDetail, f.StatusHost
	}
	if g := f.Git; g != nil {
		j.Git = &jsonGit{
			Commit:      g.Commit,
			Author:      g.Author,
			AuthorEmail: g.AuthorEmail,
			Date:        g.Date,
			Commits:     nonNil(g.Commits),
			Refs:        nonNil(g.Refs),
			AtHead:      g.AtHead,
			Blob:        g.Blob,
			Message:     g.Message,
		}
	}
	return j
}

func writeJSON(w io.Writer, v *view) error {
	doc := jsonReport{
		Version:  jsonVersion,
		Tool:     jsonTool(v.Tool),
		Command:  v.Command,
		Verified: v.Verified,
		Findings: make([]jsonFinding, 0, len(v.findings)),
		Ignored:  v.Ignored,
		Errors:   nonNil(v.Errors),
		Stats:    jsonStats(v.Stats),
	}
	for i := range v.findings {
		f := &v.findings[i]
		doc.Findings = append(doc.Findings, newJSONFinding(f, v.status(f), v.Verified))
	}
	return encodeJSON(w, doc)
}

// encodeJSON writes doc indented by two spaces, without HTML escaping, and
// ends it with a newline.
func encodeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
