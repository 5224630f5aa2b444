package revoke

import (
	"fmt"
	"strconv"

	"github.com/cds-snc/notifyscan/internal/verify"
)

// Action is what Run did, or would do, with one key.
type Action string

// The actions.
const (
	// WouldSend: dry run; the key is active and would be reported.
	WouldSend Action = "would-send"
	// Revoked: 201, the key existed and GC Notify revoked it.
	Revoked Action = "revoked"
	// NotAKey: 200, GC Notify did not know the token; nothing was done.
	NotAKey Action = "not-a-real-key"
	// Failed: the request was refused before it could act (400 and other
	// 4xx, or no connection); nothing was done and a later run may retry.
	Failed Action = "failed"
	// Uncertain: sent, but the answer does not say what happened (5xx,
	// timeout, connection lost): a later run re-verifies before anything.
	Uncertain Action = "uncertain"
	// AlreadySent: the journal has this key's outcome from an earlier run.
	AlreadySent Action = "already-sent"
	// NeedsManualCheck: an earlier send has no known outcome and the key is
	// still active; not sent again without ForceResend.
	NeedsManualCheck Action = "needs-manual-check"
	// Skipped: not sent because the key is not active on a GC Notify host
	// (revoked, invalid, inactive, unknown, or active on another operator's).
	Skipped Action = "skipped"
	// NotSent: the run was cancelled or stopped before this key's turn.
	NotSent Action = "not-sent"
)

// Result is the outcome for one distinct key. Every field is safe to print.
type Result struct {
	Fingerprint string
	Key         string // redacted
	Findings    int    // how many leaks share this key
	URL, Source string // the leak reported (the first for the key)

	// Verify is the re-verification before sending (zero when the journal
	// already had the key's outcome).
	Verify verify.Result

	Action Action
	// Host is where the report went, or would go.
	Host string
	// HTTPStatus and Message are the revoke endpoint's answer, if any.
	HTTPStatus int
	Message    string
	// Payload is the request body with the token redacted: what was, or
	// would be, sent.
	Payload string
	// Note explains a skip or a manual check.
	Note string
	// Err is the request's failure, scrubbed.
	Err error
}

// Detail is a one-line explanation for people.
func (r Result) Detail() string {
	switch r.Action {
	case WouldSend:
		return "would send to " + r.Host + endpoint
	case Revoked, NotAKey, Failed, Uncertain:
		s := string(r.Action)
		if r.HTTPStatus != 0 {
			s += ": " + strconv.Itoa(r.HTTPStatus)
			if r.Message != "" {
				s += " " + strconv.Quote(r.Message)
			}
		}
		if r.Err != nil {
			s += ": " + r.Err.Error()
		}
		return s
	}
	if r.Note != "" {
		return string(r.Action) + ": " + r.Note
	}
	return string(r.Action)
}

// String is the key and its Detail.
func (r Result) String() string { return fmt.Sprintf("%s  %s", r.Key, r.Detail()) }
