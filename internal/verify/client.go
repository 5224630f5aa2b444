package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cds-snc/notifyscan/rules"
)

// Defaults set by New (and used for zero fields of a Client built by hand).
const (
	DefaultConcurrency  = 4
	DefaultTimeout      = 10 * time.Second
	DefaultRetries      = 3
	DefaultMaxRetryWait = time.Minute

	maxTimeoutRetries = 1
)

// Client verifies keys against one or more Notify API hosts. Set its fields
// before first use and do not change them after; a Client is then safe for
// concurrent use.
type Client struct {
	// HTTP sends the requests. Redirects are never followed, whatever its
	// CheckRedirect says: a redirected answer is unknown.
	HTTP *http.Client
	// Hosts are the API base URLs asked for every key, in order: the first
	// host with a verdict other than invalid decides. Empty means GC Notify
	// production.
	Hosts []string
	// FallbackHosts are asked, in order, for a legacy (unprefixed) key that
	// every host in Hosts calls invalid: such a key may belong to another
	// Notify operator. New sets GOV.UK Notify; nil means none.
	FallbackHosts []string
	// Concurrency bounds the keys checked at once by VerifyKeys and
	// VerifyFindings (0 means DefaultConcurrency).
	Concurrency int
	// Timeout bounds each request, body included (0 means DefaultTimeout).
	Timeout time.Duration
	// Retries is how many times a request is repeated after a 429, a 5xx or
	// a transient network error (0 means never; New sets DefaultRetries).
	Retries int
	// MaxRetryWait caps the wait a server asks for with Retry-After (0 means
	// DefaultMaxRetryWait).
	MaxRetryWait time.Duration
	// Deadline, when positive, bounds a whole VerifyKeys or VerifyFindings
	// call; keys not checked by then are unknown.
	Deadline time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Now is the clock used for the JWT's iat (nil means time.Now).
	Now func() time.Time
	// Sleep waits between retries; it must return ctx.Err() if ctx ends
	// first (nil means a timer).
	Sleep func(context.Context, time.Duration) error
}

// UserAgent returns the User-Agent for a notifyscan version.
func UserAgent(version string) string {
	if version == "" {
		version = "devel"
	}
	return "notifyscan/" + version + " (+https://github.com/cds-snc/notifyscan)"
}

// New returns a Client with the defaults: the given hosts (GC Notify
// production when none), GOV.UK Notify as the fallback for legacy keys, a
// dedicated HTTP client, concurrency 4, a 10 s timeout and 3 retries. Each
// host must be https, or http on a loopback address; the error says which is
// not.
func New(version string, hosts ...string) (*Client, error) {
	if len(hosts) == 0 {
		hosts = []string{GCNotify}
	}
	hs, err := validateHosts(hosts)
	if err != nil {
		return nil, err
	}
	return &Client{
		HTTP:          newHTTPClient(),
		Hosts:         hs,
		FallbackHosts: []string{GOVUKNotify},
		Concurrency:   DefaultConcurrency,
		Timeout:       DefaultTimeout,
		Retries:       DefaultRetries,
		MaxRetryWait:  DefaultMaxRetryWait,
		UserAgent:     UserAgent(version),
		Now:           time.Now,
		Sleep:         sleepContext,
	}, nil
}

// newHTTPClient is a client with its own transport, sized for the default
// concurrency, that never follows redirects.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: tr, CheckRedirect: noRedirect}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// settings is a Client with every default filled in and hosts validated.
type settings struct {
	Client
	hosts, fallback []string
	http            *http.Client
}

func (c *Client) settings() (*settings, error) {
	s := &settings{Client: *c}
	if s.Concurrency <= 0 {
		s.Concurrency = DefaultConcurrency
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Retries < 0 {
		s.Retries = 0
	}
	if s.MaxRetryWait <= 0 {
		s.MaxRetryWait = DefaultMaxRetryWait
	}
	if s.UserAgent == "" {
		s.UserAgent = UserAgent("")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Sleep == nil {
		s.Sleep = sleepContext
	}
	hosts := c.Hosts
	if len(hosts) == 0 {
		hosts = []string{GCNotify}
	}
	var err error
	if s.hosts, err = validateHosts(hosts); err != nil {
		return nil, err
	}
	if s.fallback, err = validateHosts(c.FallbackHosts); err != nil {
		return nil, err
	}
	// A shallow copy of the caller's client that never follows redirects:
	// a redirect could carry the JWT somewhere else.
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = noRedirect
	s.http = &hc
	return s, nil
}

// Verify asks the hosts about one key and returns the verdict. It never
// returns an error: a failure is a Result with StatusUnknown and Err set.
// If ctx is done before the first request, the result is unknown with the
// detail "not checked: cancelled" (or "deadline exceeded").
func (c *Client) Verify(ctx context.Context, k rules.Key) Result {
	s, err := c.settings()
	if err != nil {
		return Result{Status: rules.StatusUnknown, Err: err}
	}
	return s.verify(ctx, k)
}

func (s *settings) verify(ctx context.Context, k rules.Key) Result {
	if k.IsZero() {
		return Result{Status: rules.StatusUnknown, Err: newError("not checked: no key", ErrNotChecked)}
	}
	if err := ctx.Err(); err != nil {
		return notChecked(err)
	}
	sc := newScrubber(k)
	r := s.verifyHosts(ctx, k, s.hosts, sc)
	if r.Status == rules.StatusInvalid && !k.Prefixed() && len(s.fallback) > 0 {
		// A legacy key unknown to every GC host may be another operator's.
		// Any answer other than invalid replaces the first host's: an
		// unknown one too (cancelled included), since "invalid" would then
		// be a guess.
		if fb := s.verifyHosts(ctx, k, s.fallback, sc); fb.Status != rules.StatusInvalid {
			return fb
		}
	}
	return r
}

// verifyHosts asks each host in turn. A verdict of active, revoked or
// inactive ends the search; otherwise the first unknown wins over invalid
// (never guess invalid when a host could not answer), and the first host's
// invalid answer stands for all.
func (s *settings) verifyHosts(ctx context.Context, k rules.Key, hosts []string, sc *scrubber) Result {
	var invalid, unknown *Result
	for _, h := range hosts {
		r := s.verifyHost(ctx, h, k, sc)
		switch r.Status {
		case rules.StatusInvalid:
			if invalid == nil {
				invalid = &r
			}
		case rules.StatusUnknown:
			if unknown == nil {
				unknown = &r
			}
			if ctx.Err() != nil {
				return *unknown
			}
		default:
			return r
		}
	}
	if unknown != nil {
		return *unknown
	}
	if invalid != nil {
		return *invalid
	}
	return Result{Status: rules.StatusUnknown, Err: newError("no API host to ask", ErrBadHost)}
}

// verifyHost asks one host, retrying 429, 5xx and transient network errors
// with backoff (a timeout only once: a host that hangs would otherwise hold
// a worker for Retries+1 timeouts), and a clock-skew answer once with a
// fresh iat.
func (s *settings) verifyHost(ctx context.Context, host string, k rules.Key, sc *scrubber) Result {
	clockRetried, timeouts := false, 0
	for attempt := 1; ; attempt++ {
		a := s.attempt(ctx, host, k, sc)
		if errors.Is(a.err, ErrTimeout) {
			if timeouts++; timeouts > maxTimeoutRetries {
				a.retry = false
			}
		}
		switch {
		case a.status != "":
			return Result{Status: a.status, HTTPStatus: a.http, Message: a.message, Host: host}
		case a.clock:
			if !clockRetried && s.Retries > 0 {
				clockRetried = true
				if err := s.Sleep(ctx, clockRetryWait); err != nil {
					return s.stopped(host, err)
				}
				continue
			}
			// The signature was checked before the clock: the secret is
			// genuine and not revoked as far as this answer goes.
			return Result{Status: rules.StatusActive, HTTPStatus: a.http, Message: a.message, Host: host}
		case a.retry && attempt <= s.Retries:
			wait := backoff(attempt)
			if a.after > 0 {
				wait = min(a.after, s.MaxRetryWait)
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return s.unknown(host, a, fmt.Sprintf(" (gave up: the deadline comes before the next retry in %s)", wait.Round(time.Millisecond)))
			}
			if err := s.Sleep(ctx, wait); err != nil {
				return s.stopped(host, err)
			}
		case a.retry || attempt > 1:
			return s.unknown(host, a, fmt.Sprintf(" (gave up after %d attempts)", attempt))
		default:
			return s.unknown(host, a, "")
		}
	}
}

// unknown turns an answer without a verdict into a Result.
func (s *settings) unknown(host string, a answer, suffix string) Result {
	msg := "no verdict"
	var kinds []error
	if a.err != nil {
		msg = a.err.Error()
		kinds = append(kinds, a.err)
	}
	return Result{Status: rules.StatusUnknown, HTTPStatus: a.http, Message: a.message, Host: host,
		Err: newError(msg+suffix, kinds...)}
}

// stopped is the result for a key whose check ctx ended part way.
func (s *settings) stopped(host string, err error) Result {
	return Result{Status: rules.StatusUnknown, Host: host, Err: newError(ctxReason(err), err)}
}
