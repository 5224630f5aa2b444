// Package ghaction owns the logic of notifyscan's GitHub Action: reading the
// event that started the workflow, deciding which commits it asks to scan,
// getting those commits into a checkout that may be shallow, and writing the
// step's outputs. It runs git but never scans: cmd/notifyscan hands the plan
// to the scanner.
package ghaction

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// zeroSHA is the object id GitHub sends for "no commit": the before of a new
// branch, the after of a deleted one.
const zeroSHA = "0000000000000000000000000000000000000000"

// Event is what started the workflow, as far as choosing commits goes.
type Event struct {
	Name string // GITHUB_EVENT_NAME

	// push
	Ref    string // "refs/heads/main", "refs/tags/v1"
	Before string // zeroSHA for a new branch or tag
	After  string // zeroSHA for a deleted branch or tag
	Forced bool

	// pull_request, pull_request_target
	PR *PullRequest
}

// PullRequest is the part of a pull_request payload the action reads.
type PullRequest struct {
	Number  int
	Commits int // as GitHub counts them; a hint for how deep to fetch
	BaseSHA string
	HeadSHA string
	BaseRef string // branch name, "main"
}

// payload is the subset of the webhook payloads that Event is read from.
type payload struct {
	Ref         string `json:"ref"`
	Before      string `json:"before"`
	After       string `json:"after"`
	Forced      bool   `json:"forced"`
	PullRequest *struct {
		Number  int `json:"number"`
		Commits int `json:"commits"`
		Base    struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"base"`
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
}

// ReadEvent reads the event named name from the payload file at path
// (GITHUB_EVENT_NAME and GITHUB_EVENT_PATH). It checks the commit ids the
// plan will use, so that nothing that is not an object id reaches git.
func ReadEvent(name, path string) (*Event, error) {
	if name == "" {
		return nil, fmt.Errorf("GITHUB_EVENT_NAME is not set: 'notifyscan action' runs inside a GitHub Actions workflow")
	}
	ev := &Event{Name: name}
	if path == "" {
		return ev, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the event payload: %w", err)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading the event payload %s: %w", path, err)
	}
	switch name {
	case "push":
		ev.Ref, ev.Before, ev.After, ev.Forced = p.Ref, p.Before, p.After, p.Forced
		if !isSHA(ev.Before) || !isSHA(ev.After) {
			return nil, fmt.Errorf("the push payload has no valid before and after commits (%q, %q)", clip(ev.Before), clip(ev.After))
		}
	case "pull_request", "pull_request_target":
		pr := p.PullRequest
		if pr == nil {
			return nil, fmt.Errorf("the %s payload has no pull_request", name)
		}
		if !isSHA(pr.Base.SHA) || !isSHA(pr.Head.SHA) {
			return nil, fmt.Errorf("the %s payload has no valid base and head commits (%q, %q)", name, clip(pr.Base.SHA), clip(pr.Head.SHA))
		}
		ev.PR = &PullRequest{Number: pr.Number, Commits: pr.Commits, BaseSHA: pr.Base.SHA, HeadSHA: pr.Head.SHA, BaseRef: pr.Base.Ref}
	}
	return ev, nil
}

// isSHA reports whether s is a full SHA-1 or SHA-256 object id in lower case.
func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

func short(sha string) string {
	if len(sha) > 7 && isSHA(sha) {
		return sha[:7]
	}
	return sha
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
