package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cds-snc/notifyscan/rules"
)

// Result is the outcome of verifying one key.
type Result struct {
	Status rules.Status
	// HTTPStatus and Message are the server's answer that decided Status (0
	// and "" when no answer was had). Message is the API's error message,
	// scrubbed of secrets and shortened.
	HTTPStatus int
	Message    string
	// Host is the API base URL that gave the answer ("" when none did).
	Host string
	// Err says why Status is unknown; nil otherwise. Its text is scrubbed of
	// secrets. errors.Is matches ErrNotChecked, ErrTimeout, ErrAnswer,
	// ErrTransport, ErrBadHost, context.Canceled and context.DeadlineExceeded.
	Err error
}

// Errors wrapped by Result.Err.
var (
	// ErrNotChecked: the key was never sent (the run was cancelled or ran out
	// of time first, or there was no key).
	ErrNotChecked = errors.New("not checked")
	// ErrTimeout: a request took longer than Client.Timeout.
	ErrTimeout = errors.New("timeout")
	// ErrAnswer: the server answered, but not with anything that says
	// whether the key is live (429, 5xx, firewall page, 204, ...).
	ErrAnswer = errors.New("unusable answer")
	// ErrTransport: no answer (connection, DNS or TLS failure).
	ErrTransport = errors.New("transport error")
	// ErrBadHost: a configured API URL is not allowed.
	ErrBadHost = errors.New("bad API URL")
)

// Detail is the one-line explanation that goes into Finding.StatusDetail:
// the server's answer for a verdict (`403 "Invalid token: API key revoked"`),
// "unknown: <reason>" for an unknown status (`unknown: timeout after 10s`),
// and "not checked: <why>" for a key that was never sent. It never contains
// a secret.
func (r Result) Detail() string {
	if errors.Is(r.Err, ErrNotChecked) {
		return r.Err.Error()
	}
	if r.Status == rules.StatusUnknown || r.Err != nil {
		if r.Err == nil {
			return "unknown"
		}
		return "unknown: " + r.Err.Error()
	}
	switch {
	case r.HTTPStatus != 0 && r.Message != "":
		return strconv.Itoa(r.HTTPStatus) + " " + strconv.Quote(r.Message)
	case r.HTTPStatus != 0:
		return strconv.Itoa(r.HTTPStatus)
	}
	return string(r.Status)
}

// String is Detail with the status in front, for logs and tests.
func (r Result) String() string {
	if r.Status == rules.StatusUnknown {
		return r.Detail()
	}
	return fmt.Sprintf("%s: %s", r.Status.Label(), r.Detail())
}

// verifyError is an error whose text is already scrubbed; it exposes only
// sentinel errors to errors.Is, never the raw error it was made from.
type verifyError struct {
	msg   string
	kinds []error
}

func (e *verifyError) Error() string   { return e.msg }
func (e *verifyError) Unwrap() []error { return e.kinds }

func newError(msg string, kinds ...error) error { return &verifyError{msg: msg, kinds: kinds} }

// notChecked is the result for a key that was never sent because ctx ended.
func notChecked(cause error) Result {
	return Result{Status: rules.StatusUnknown, Err: newError("not checked: "+ctxReason(cause), ErrNotChecked, cause)}
}

// ctxReason names a context error for people.
func ctxReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case err == nil:
		return "no reason"
	}
	return err.Error()
}
