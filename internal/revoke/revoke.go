package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cds-snc/notifyscan/internal/verify"
	"github.com/cds-snc/notifyscan/rules"
)

// DefaultSREUser is the JWT issuer GC Notify's SRE tools expect.
const DefaultSREUser = "SRE_CLIENT_USER"

// DefaultTimeout bounds one revoke request.
const DefaultTimeout = 30 * time.Second

// Leak is one finding to report, with where it leaked.
type Leak struct {
	// Finding carries the real Key (re-read from the reported location).
	Finding rules.Finding
	// URL is where the key leaked (a link to the file, commit or page).
	URL string
	// Source says what kind of place it is ("content", "commit", ...).
	Source string
}

// Options configure Run.
type Options struct {
	// Leaks are the findings to report; keys are deduplicated by
	// fingerprint, and the first leak of each key is the one reported.
	Leaks []Leak
	// Verifier re-verifies each key before anything is sent. Its Hosts are
	// the GC Notify hosts; reports go to the host that says a key is active,
	// never to a FallbackHosts host.
	Verifier *verify.Client
	// SREUser is the JWT issuer (DefaultSREUser when empty).
	SREUser string
	// SRESecret signs the JWT: the operator's SRE client secret, which the
	// caller reads from NOTIFY_SRE_CLIENT_SECRET. Required with Yes.
	SRESecret string
	// Journal is the path of the journal of keys sent (see the package
	// documentation). Required with Yes; read, not written, in a dry run.
	Journal string
	// Yes sends the reports; without it Run is a dry run.
	Yes bool
	// ForceResend sends keys whose earlier send has no known outcome and
	// that verify active again (see "needs-manual-check").
	ForceResend bool
	// HTTP sends the reports (Verifier.HTTP when nil). Redirects are never
	// followed.
	HTTP *http.Client
	// Timeout bounds each report (DefaultTimeout when 0).
	Timeout time.Duration
	// UserAgent defaults to Verifier.UserAgent.
	UserAgent string
	// Now is the clock for the JWT and the journal (time.Now when nil).
	Now func() time.Time

	// afterPending, in tests, runs after a pending entry is written and
	// before the POST; returning an error simulates a crash there.
	afterPending func(fingerprint string) error
}

// ErrNoSecret is returned by Run with Yes and no SRE client secret.
var ErrNoSecret = errors.New("revoke: no SRE client secret (set NOTIFY_SRE_CLIENT_SECRET)")

// ErrNoJournal is returned by Run with Yes and no journal path.
var ErrNoJournal = errors.New("revoke: a journal file is required to send reports")

// runner is one Run's state.
type runner struct {
	opts    Options
	http    *http.Client
	gcHosts []string
	journal *journal
	history map[string]entry
}

// Run re-verifies each distinct key of opts.Leaks and reports those that are
// active to GC Notify's revoke endpoint (dry run unless opts.Yes). It returns
// one Result per distinct key, in order of first appearance, also when it
// stops early: the error then says why (cancelled, journal failure); the
// keys not reached are NotSent.
func Run(ctx context.Context, opts Options) ([]Result, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	if r.journal != nil {
		defer r.journal.close()
	}

	// Distinct keys, in order.
	var results []Result
	var keys []rules.Key
	index := make(map[string]int)
	for _, l := range opts.Leaks {
		k := l.Finding.Key
		if k.IsZero() {
			continue
		}
		fp := k.Fingerprint()
		if i, ok := index[fp]; ok {
			results[i].Findings++
			continue
		}
		index[fp] = len(results)
		results = append(results, Result{Fingerprint: fp, Key: k.Redacted(), Findings: 1, URL: l.URL, Source: l.Source})
		keys = append(keys, k)
	}

	// Re-verify every key whose outcome the journal does not already have.
	var toVerify []rules.Key
	var where []int
	for i, k := range keys {
		if historyOf(r.history[results[i].Fingerprint].State) == historyDone {
			continue
		}
		toVerify = append(toVerify, k)
		where = append(where, i)
	}
	for j, vr := range r.opts.Verifier.VerifyKeys(ctx, toVerify) {
		results[where[j]].Verify = vr
	}

	var runErr error
	for i, k := range keys {
		res := &results[i]
		if runErr != nil {
			res.Action, res.Note = NotSent, "run stopped: "+runErr.Error()
			continue
		}
		if err := ctx.Err(); err != nil {
			runErr = fmt.Errorf("revoke: %w", err)
			res.Action, res.Note = NotSent, "run stopped: "+err.Error()
			continue
		}
		if err := r.decide(ctx, k, res); err != nil {
			runErr = err
		}
	}
	return results, runErr
}

func newRunner(opts Options) (*runner, error) {
	if opts.Verifier == nil {
		return nil, errors.New("revoke: no verifier")
	}
	if opts.Yes && opts.SRESecret == "" {
		return nil, ErrNoSecret
	}
	if opts.Yes && opts.Journal == "" {
		return nil, ErrNoJournal
	}
	if opts.SREUser == "" {
		opts.SREUser = DefaultSREUser
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = opts.Verifier.UserAgent
	}
	if opts.UserAgent == "" {
		opts.UserAgent = verify.UserAgent("")
	}
	r := &runner{opts: opts, history: map[string]entry{}}

	hosts := opts.Verifier.Hosts
	if len(hosts) == 0 {
		hosts = []string{verify.GCNotify}
	}
	for _, h := range hosts {
		n, err := verify.ValidateHost(h)
		if err != nil {
			return nil, fmt.Errorf("revoke: %w", err)
		}
		r.gcHosts = append(r.gcHosts, n)
	}

	hc := http.Client{}
	switch {
	case opts.HTTP != nil:
		hc = *opts.HTTP
	case opts.Verifier.HTTP != nil:
		hc = *opts.Verifier.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.http = &hc

	if opts.Journal != "" {
		var err error
		if opts.Yes {
			if r.journal, err = openJournal(opts.Journal, opts.Now); err != nil {
				return nil, err
			}
		}
		// Read under the lock, so no other run can be writing.
		if r.history, err = readJournal(opts.Journal); err != nil {
			if r.journal != nil {
				r.journal.close()
			}
			return nil, err
		}
	}
	return r, nil
}

// decide chooses and carries out the action for one key. It returns an
// error only when the run must stop (the journal cannot be written).
func (r *runner) decide(ctx context.Context, k rules.Key, res *Result) error {
	prev := r.history[res.Fingerprint]
	vr := res.Verify
	res.Host = vr.Host
	switch historyOf(prev.State) {
	case historyDone:
		res.Action, res.Host = AlreadySent, prev.Host
		res.Note = fmt.Sprintf("reported on %s, outcome %s", prev.Time, prev.State)
		return nil
	case historyUnsure:
		switch {
		case vr.Status == rules.StatusRevoked:
			res.Action = AlreadySent
			res.Note = fmt.Sprintf("reported on %s with no known outcome (%s); the key now verifies revoked", prev.Time, prev.State)
			if r.journal != nil {
				return r.record(res, entry{Fingerprint: res.Fingerprint, Key: res.Key, Host: prev.Host, State: stateResolved, Message: "verified revoked"})
			}
			return nil
		case vr.Status == rules.StatusActive && !r.opts.ForceResend:
			res.Action = NeedsManualCheck
			res.Note = fmt.Sprintf("reported on %s with no known outcome (%s) and still active: ask the GC Notify team whether the report arrived, then rerun with --force-resend", prev.Time, prev.State)
			return nil
		}
	}

	switch {
	case vr.Status != rules.StatusActive:
		res.Action = Skipped
		res.Note = "not active: " + vr.Status.Label() + " (" + vr.Detail() + ")"
		if prev.State != "" {
			res.Note += fmt.Sprintf("; last report on %s: %s", prev.Time, prev.State)
		}
		return nil
	case !slices.Contains(r.gcHosts, vr.Host):
		res.Action = Skipped
		res.Note = "active on " + vr.Host + ", which is not a GC Notify host: report it to that service"
		return nil
	}

	body := payload{Token: revokeToken(k, false), Type: TokenType, URL: res.URL, Source: res.Source}
	shown := body
	shown.Token = revokeToken(k, true)
	pb, _ := json.Marshal(shown)
	res.Payload = string(pb)
	if !r.opts.Yes {
		res.Action = WouldSend
		return nil
	}

	if err := r.record(res, entry{Fingerprint: res.Fingerprint, Key: res.Key, Host: vr.Host, State: statePending}); err != nil {
		return err
	}
	if r.opts.afterPending != nil {
		if err := r.opts.afterPending(res.Fingerprint); err != nil {
			res.Action, res.Note = NotSent, "run stopped: "+err.Error()
			return err
		}
	}
	o := r.post(ctx, vr.Host, body)
	res.Action, res.HTTPStatus, res.Message, res.Err = o.action, o.http, o.message, o.err
	e := entry{Fingerprint: res.Fingerprint, Key: res.Key, Host: vr.Host, State: o.state, HTTPStatus: o.http, Message: o.message}
	if o.err != nil {
		e.Message = o.err.Error()
	}
	return r.record(res, e)
}

// record appends to the journal; a failure stops the run.
func (r *runner) record(res *Result, e entry) error {
	if err := r.journal.append(e); err != nil {
		res.Note = "journal write failed: " + err.Error()
		return err
	}
	r.history[e.Fingerprint] = e
	return nil
}

// revokeToken is the token GC Notify's endpoint needs: the key with the
// "gcntfy-" prefix, which a legacy GC key lacks (the endpoint reads the
// secret from the last 36 characters only after checking the prefix).
// redacted gives the printable form.
func revokeToken(k rules.Key, redacted bool) string {
	s := k.Reveal()
	if redacted {
		s = k.Redacted()
	}
	if !k.Prefixed() {
		s = rules.Prefix + s
	}
	return s
}
