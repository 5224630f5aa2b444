package rules

import (
	"cmp"
	"slices"
)

// Finding is one key at one place. Its exported fields are safe to print and
// serialise: the Key marshals redacted and the secret is reachable only
// through Key.Secret.
type Finding struct {
	RuleID string `json:"rule"`
	// Path is slash-separated and relative to the scan root (or to the
	// repository for git scans). "-" is standard input.
	Path string `json:"path"`
	// Line, Column and EndColumn are 1-based; columns count Unicode code
	// points, EndColumn is one past the key's last character.
	Line      int `json:"line"`
	Column    int `json:"column"`
	EndColumn int `json:"endColumn"`

	Key Key `json:"key"`

	// Encoding names how the key was hidden ("base64", "utf-16le", ...), empty
	// when it stood in plain text. Container is the path inside an archive,
	// written "outer.zip!inner/file"; when set the location is that of the
	// archive member's text, or of the encoded run in the outer file.
	Encoding  string `json:"encoding,omitempty"`
	Container string `json:"container,omitempty"`

	// Tracking says, for a file in a git work tree, whether git tracks it
	// ("tracked"), ignores it ("ignored") or neither ("untracked").
	Tracking string `json:"tracking,omitempty"`

	// Git is set for findings in repository history.
	Git *GitProvenance `json:"git,omitempty"`

	// Status is the verification outcome; StatusDetail is the server's answer
	// (HTTP status and message) or the reason it is unknown.
	Status       Status `json:"status,omitempty"`
	StatusDetail string `json:"statusDetail,omitempty"`
	StatusHost   string `json:"statusHost,omitempty"`

	// Note adds what a policy finding is about ("first committed ... and
	// still active"); empty for key findings.
	Note string `json:"note,omitempty"`
}

// GitProvenance says where in history a key was introduced and where it lives.
type GitProvenance struct {
	Commit      string   `json:"commit"`                // a commit whose version of Path has the key on Line
	Author      string   `json:"author,omitempty"`      // of the earliest introducing commit
	AuthorEmail string   `json:"authorEmail,omitempty"` //
	Date        string   `json:"date,omitempty"`        // RFC 3339, of the earliest introducing commit
	Commits     []string `json:"commits,omitempty"`     // every commit that introduces the key in Path, sorted
	Refs        []string `json:"refs,omitempty"`        // refs whose history contains the key, sorted
	AtHead      bool     `json:"atHead"`                // the key is in Path at HEAD
	Blob        string   `json:"blob,omitempty"`        // object id of the blob holding the key
	Message     bool     `json:"message,omitempty"`     // found in a commit or tag message, not a file
}

// Fingerprint is the fingerprint of the finding's key.
func (f *Finding) Fingerprint() string { return f.Key.Fingerprint() }

// Compare orders findings by path, line, column, rule, container, encoding,
// then commit: the one order every report uses.
func Compare(a, b *Finding) int {
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Column, b.Column); c != 0 {
		return c
	}
	if c := cmp.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Container, b.Container); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Encoding, b.Encoding); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Fingerprint(), b.Fingerprint()); c != 0 {
		return c
	}
	return cmp.Compare(commitOf(a), commitOf(b))
}

func commitOf(f *Finding) string {
	if f.Git == nil {
		return ""
	}
	return f.Git.Commit
}

// Sort sorts findings into the report order.
func Sort(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int { return Compare(&a, &b) })
}
