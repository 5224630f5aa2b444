package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

// Location is where a report says a key is: enough to compare two reports
// or to match findings to a baseline, and nothing secret.
type Location struct {
	RuleID, Path            string
	Line, Column, EndColumn int
	Fingerprint, Commit     string
	Container, Encoding     string
}

// LocationOf is the Location of a finding, as ReadLocations gives it back.
func LocationOf(f *rules.Finding) Location {
	l := Location{
		RuleID: f.RuleID, Path: f.Path,
		Line: f.Line, Column: f.Column, EndColumn: f.EndColumn,
		Fingerprint: f.Fingerprint(), Container: f.Container, Encoding: f.Encoding,
	}
	if f.Git != nil {
		l.Commit = f.Git.Commit
	}
	return l
}

// ReadLocations reads a notifyscan JSON report (version 1) or a SARIF 2.1.0
// log written by notifyscan, and returns its findings' locations in the
// order the report lists them.
func ReadLocations(r io.Reader) ([]Location, error) {
	var doc struct {
		Version  json.RawMessage `json:"version"`
		Findings []jsonFinding   `json:"findings"`
		Runs     []readRun       `json:"runs"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	switch {
	case doc.Runs != nil:
		return sarifLocations(doc.Runs)
	case doc.Findings != nil:
		var v int
		if err := json.Unmarshal(doc.Version, &v); err != nil || v != jsonVersion {
			return nil, fmt.Errorf("reading report: unsupported notifyscan JSON version %s", clip(string(doc.Version), 20))
		}
		out := make([]Location, 0, len(doc.Findings))
		for _, f := range doc.Findings {
			l := Location{
				RuleID: f.Rule, Path: f.Path,
				Line: f.Line, Column: f.Column, EndColumn: f.EndColumn,
				Fingerprint: f.Fingerprint, Container: f.Container, Encoding: f.Encoding,
			}
			if f.Git != nil {
				l.Commit = f.Git.Commit
			}
			out = append(out, l)
		}
		return out, nil
	}
	return nil, errors.New("reading report: neither a notifyscan JSON report nor a SARIF log")
}

// readRun is the part of a SARIF run ReadLocations needs.
type readRun struct {
	Results []struct {
		RuleID    string `json:"ruleId"`
		Locations []struct {
			PhysicalLocation struct {
				ArtifactLocation struct {
					URI string `json:"uri"`
				} `json:"artifactLocation"`
				Region *struct {
					StartLine   int `json:"startLine"`
					StartColumn int `json:"startColumn"`
					EndColumn   int `json:"endColumn"`
				} `json:"region"`
			} `json:"physicalLocation"`
		} `json:"locations"`
		Partial map[string]string `json:"partialFingerprints"`
		Props   struct {
			Fingerprint string `json:"fingerprint"`
			Commit      string `json:"commit"`
			Container   string `json:"container"`
			Encoding    string `json:"encoding"`
		} `json:"properties"`
	} `json:"results"`
}

func sarifLocations(runs []readRun) ([]Location, error) {
	out := []Location{}
	for _, run := range runs {
		for _, res := range run.Results {
			l := Location{
				RuleID:      res.RuleID,
				Fingerprint: res.Props.Fingerprint,
				Commit:      res.Props.Commit,
				Container:   res.Props.Container,
				Encoding:    res.Props.Encoding,
			}
			if l.Fingerprint == "" {
				// A copy that lost the properties still has the partial
				// fingerprint, "nsfp1:<32 hex>:<path>".
				l.Fingerprint = fingerprintOfPartial(res.Partial[fingerprintKey])
			}
			if len(res.Locations) > 0 {
				pl := res.Locations[0].PhysicalLocation
				p, err := url.PathUnescape(pl.ArtifactLocation.URI)
				if err != nil {
					return nil, fmt.Errorf("reading report: result location: %w", err)
				}
				l.Path = p
				if rg := pl.Region; rg != nil {
					l.Line, l.Column, l.EndColumn = rg.StartLine, rg.StartColumn, rg.EndColumn
				}
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// fingerprintOfPartial is the key fingerprint a partial fingerprint starts with.
func fingerprintOfPartial(p string) string {
	const n = len("nsfp1:") + 32
	if len(p) > n && strings.HasPrefix(p, "nsfp1:") && p[n] == ':' {
		return p[:n]
	}
	return ""
}
