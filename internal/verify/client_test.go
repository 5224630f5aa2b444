package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/internal/notifytest"
	"github.com/cds-snc/notifyscan/rules"
)

func TestVerdicts(t *testing.T) {
	srv := notifytest.New(t)
	c, _ := newClient(t, srv.URL)
	ctx := context.Background()

	active := testKey(t, true)
	addKey(srv, active)
	revoked := testKey(t, true)
	addKey(srv, revoked)
	srv.Revoke(revoked.ServiceID(), revoked.Secret())
	archived := testKey(t, true)
	addKey(srv, archived)
	srv.ArchiveService(archived.ServiceID())
	wrongSecret := testKey(t, true) // its service exists, with another key
	srv.AddKey(wrongSecret.ServiceID(), rules.NewUUID())
	noKeys := testKey(t, true)
	srv.AddService(noKeys.ServiceID())
	unknownService := testKey(t, true)

	tests := []struct {
		name   string
		key    rules.Key
		status rules.Status
		detail string
	}{
		{"active", active, rules.StatusActive, `404 "No result found"`},
		{"revoked", revoked, rules.StatusRevoked, `403 "Invalid token: API key revoked"`},
		{"inactive", archived, rules.StatusInactive, `403 "Invalid token: service is archived"`},
		{"wrong secret", wrongSecret, rules.StatusInvalid, `403 "Invalid token: signature, api token not found"`},
		{"service without keys", noKeys, rules.StatusInvalid, `403 "Invalid token: service has no API keys"`},
		{"unknown service", unknownService, rules.StatusInvalid, `403 "Invalid token: service not found"`},
	}
	for _, tc := range tests {
		r := c.Verify(ctx, tc.key)
		if r.Status != tc.status || r.Detail() != tc.detail || r.Host != srv.URL || r.Err != nil {
			t.Errorf("%s: got %v (%q, host %q, err %v), want %s %q", tc.name, r.Status, r.Detail(), r.Host, r.Err, tc.status, tc.detail)
		}
		if r.HTTPStatus == 0 || r.Message == "" {
			t.Errorf("%s: server answer not kept: %+v", tc.name, r)
		}
	}
	keys := []rules.Key{active, revoked, archived, wrongSecret, noKeys, unknownService}
	assertNoSecrets(t, srv, keys...)
	for _, r := range srv.Requests() {
		if ua := r.Header.Get("User-Agent"); ua != "notifyscan/test (+https://github.com/cds-snc/notifyscan)" {
			t.Errorf("User-Agent %q", ua)
		}
	}
}

func TestClockSkew(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)

	// Persistent skew: the secret is genuine (signature checked first): active.
	c, sl := newClient(t, srv.URL)
	c.Now = func() time.Time { return time.Now().Add(-5 * time.Minute) }
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusActive || r.Detail() != `403 "Error: Your system clock must be accurate to within 30 seconds"` {
		t.Errorf("persistent skew: %v %q", r.Status, r.Detail())
	}
	if n := srv.CountSecret(k.Secret()); n != 2 {
		t.Errorf("persistent skew: %d requests, want 2 (one retry)", n)
	}
	if w := sl.get(); len(w) != 1 || w[0] != clockRetryWait {
		t.Errorf("waits %v", w)
	}

	// Transient skew (the clock is fixed by the retry): the real answer wins.
	calls := 0
	c.Now = func() time.Time {
		calls++
		if calls == 1 {
			return time.Now().Add(time.Minute)
		}
		return time.Now()
	}
	if r := c.Verify(context.Background(), k); r.Status != rules.StatusActive || r.HTTPStatus != 404 {
		t.Errorf("transient skew: %v %q", r.Status, r.Detail())
	}
	// A revoked key with a bad clock is still revoked once the clock is right.
	srv.Revoke(k.ServiceID(), k.Secret())
	calls = 0
	if r := c.Verify(context.Background(), k); r.Status != rules.StatusRevoked {
		t.Errorf("transient skew, revoked key: %v %q", r.Status, r.Detail())
	}
}

// TestUnknowns: every untrustworthy answer is unknown, never invalid or revoked.
func TestUnknowns(t *testing.T) {
	tests := []struct {
		name     string
		fault    notifytest.Fault
		detail   string // substring of Detail
		requests int    // requests the server sees (Retries = 2)
	}{
		{"429", notifytest.Fault{Kind: notifytest.FaultTooManyRequests}, `unknown: 429 "Exceeded rate limit`, 3},
		{"500", notifytest.Fault{Kind: notifytest.FaultServerError}, `unknown: 500 "Internal server error" (gave up after 3 attempts)`, 3},
		{"503 html", notifytest.Fault{Kind: notifytest.FaultUnavailable}, "unknown: 503 Service Unavailable (gave up after 3 attempts)", 3},
		{"firewall 403", notifytest.Fault{Kind: notifytest.FaultFirewall}, "unknown: 403 with a non-JSON body (text/html), likely a firewall", 1},
		{"204", notifytest.Fault{Kind: notifytest.FaultNoContent}, "unknown: 204 No Content", 1},
		{"200 html", notifytest.Fault{Kind: notifytest.FaultNotJSON}, "unknown: 200 with a non-JSON body", 1},
		{"redirect", notifytest.Fault{Kind: notifytest.FaultRedirect}, "unknown: 302 redirect: not followed", 1},
		{"reset", notifytest.Fault{Kind: notifytest.FaultReset}, "unknown: ", 3},
		{"timeout", notifytest.Fault{Kind: notifytest.FaultHang}, "unknown: timeout after 50ms (gave up after 2 attempts)", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := notifytest.New(t)
			k := testKey(t, true)
			addKey(srv, k)
			srv.Inject(tc.fault)
			c, _ := newClient(t, srv.URL)
			c.Retries = 2
			c.Timeout = 50 * time.Millisecond
			r := c.Verify(context.Background(), k)
			if r.Status != rules.StatusUnknown || !strings.Contains(r.Detail(), tc.detail) || r.Err == nil {
				t.Errorf("got %v %q, want unknown %q", r.Status, r.Detail(), tc.detail)
			}
			if n := srv.Count(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			assertNoSecrets(t, srv, k)
		})
	}
}

func TestRetryAfter(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	srv.Inject(notifytest.Fault{Kind: notifytest.FaultTooManyRequests, Times: 1, RetryAfter: "7"})
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultUnavailable, Times: 1, RetryAfter: now.Add(20 * time.Second).Format(http.TimeFormat)})
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultTooManyRequests, Times: 1, RetryAfter: "86400"})
	c, sl := newClient(t, srv.URL)
	c.Now = func() time.Time { return now }
	c.MaxRetryWait = 45 * time.Second
	// The JWT's iat follows c.Now; let the server share that clock.
	srv.SetNow(c.Now)
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusActive {
		t.Fatalf("after retries: %v %q", r.Status, r.Detail())
	}
	want := []time.Duration{7 * time.Second, 20 * time.Second, 45 * time.Second}
	if got := sl.get(); !equalDurations(got, want) {
		t.Errorf("waits %v, want %v (seconds, HTTP date, capped)", got, want)
	}
	if srv.Count() != 4 {
		t.Errorf("%d requests, want 4", srv.Count())
	}
}

func TestBackoffWithoutRetryAfter(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultServerError})
	c, sl := newClient(t, srv.URL)
	c.Retries = 5
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || r.HTTPStatus != 500 || !errors.Is(r.Err, ErrAnswer) {
		t.Errorf("got %v %q", r.Status, r.Detail())
	}
	waits := sl.get()
	if len(waits) != 5 || srv.Count() != 6 {
		t.Fatalf("waits %v, requests %d", waits, srv.Count())
	}
	for i, w := range waits {
		d := min(backoffBase<<i, backoffMax)
		if w < d/2 || w > d {
			t.Errorf("wait %d = %v, want in [%v, %v]", i+1, w, d/2, d)
		}
	}
}

func TestRetryThenVerdict(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	srv.Revoke(k.ServiceID(), k.Secret())
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultReset, Times: 1})
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultTooManyRequests, Times: 1})
	c, _ := newClient(t, srv.URL)
	if r := c.Verify(context.Background(), k); r.Status != rules.StatusRevoked {
		t.Errorf("got %v %q", r.Status, r.Detail())
	}
}

func TestTransportErrors(t *testing.T) {
	k := testKey(t, true)
	// DNS failure, without asking a resolver.
	c, _ := newClient(t, "https://api.notification.canada.ca")
	c.HTTP = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "api.notification.canada.ca", IsNotFound: true}
		},
	}}
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || r.Detail() != "unknown: DNS lookup failed for api.notification.canada.ca: no such host" || !errors.Is(r.Err, ErrTransport) {
		t.Errorf("DNS: %v %q", r.Status, r.Detail())
	}

	// An untrusted certificate on a loopback TLS server.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	c, _ = newClient(t, tlsSrv.URL)
	r = c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || !strings.HasPrefix(r.Detail(), "unknown: TLS certificate not trusted") {
		t.Errorf("TLS: %v %q", r.Status, r.Detail())
	}

	// Connection refused: a closed port.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, _ = newClient(t, "http://"+addr)
	c.Retries = 1
	r = c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || r.Detail() != "unknown: connection refused (gave up after 2 attempts)" {
		t.Errorf("refused: %v %q", r.Status, r.Detail())
	}
}

// TestScrubbing: a server (or a transport) that echoes the credential cannot
// get the secret, the key or the JWT into a result.
func TestScrubbing(t *testing.T) {
	k := testKey(t, true)
	var seenToken string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenToken = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		msg := "bad " + r.Header.Get("Authorization") + " for " + k.Reveal() + " / " + strings.ToUpper(k.Secret())
		_, _ = w.Write([]byte(`{"status_code":403,"errors":[{"error":"AuthError","message":"` + msg + `"}]}`))
	}))
	defer echo.Close()
	c, _ := newClient(t, echo.URL)
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || !strings.Contains(r.Message, redacted) {
		t.Errorf("echo: %v %q", r.Status, r.Detail())
	}
	assertScrubbed(t, "Detail", r.Detail(), k, seenToken)
	assertScrubbed(t, "Message", r.Message, k, seenToken)
	assertScrubbed(t, "Err", r.Err.Error(), k, seenToken)

	c.HTTP = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return nil, errors.New("proxy refused " + req.Header.Get("Authorization") + " secret " + k.Secret())
	})}
	r = c.Verify(context.Background(), k)
	if r.Status != rules.StatusUnknown || !strings.HasPrefix(r.Detail(), "unknown: request failed: proxy refused Bearer [REDACTED]") {
		t.Errorf("transport: %v %q", r.Status, r.Detail())
	}
	assertScrubbed(t, "transport Detail", r.Detail(), k)
	if strings.Count(r.Detail(), ".") > 0 && strings.Contains(r.Detail(), "eyJ") {
		t.Errorf("transport Detail has a JWT: %q", r.Detail())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHosts(t *testing.T) {
	prod := notifytest.New(t)
	staging := notifytest.New(t)
	k := testKey(t, true)
	addKey(staging, k)

	// The second host knows the key: active there.
	c, _ := newClient(t, prod.URL, staging.URL)
	r := c.Verify(context.Background(), k)
	if r.Status != rules.StatusActive || r.Host != staging.URL {
		t.Errorf("staging key: %v on %q", r.Status, r.Host)
	}
	// The first host answers for a key it knows; the second is not asked.
	addKey(prod, k)
	prod.Revoke(k.ServiceID(), k.Secret())
	n := staging.Count()
	if r := c.Verify(context.Background(), k); r.Status != rules.StatusRevoked || r.Host != prod.URL || staging.Count() != n {
		t.Errorf("prod verdict: %v on %q, staging asked %d times", r.Status, r.Host, staging.Count()-n)
	}
	// One host cannot answer, the other says invalid: unknown, not invalid.
	other := testKey(t, true)
	prod.Inject(notifytest.Fault{Kind: notifytest.FaultFirewall})
	if r := c.Verify(context.Background(), other); r.Status != rules.StatusUnknown || r.Host != prod.URL {
		t.Errorf("firewall + invalid: %v %q", r.Status, r.Detail())
	}
	prod.ClearFaults()
	// Invalid everywhere: the first host's answer.
	if r := c.Verify(context.Background(), other); r.Status != rules.StatusInvalid || r.Host != prod.URL {
		t.Errorf("invalid everywhere: %v on %q", r.Status, r.Host)
	}
	// A host set by hand is validated when used.
	c.Hosts = []string{"http://example.com"}
	if r := c.Verify(context.Background(), other); r.Status != rules.StatusUnknown || !errors.Is(r.Err, ErrBadHost) {
		t.Errorf("bad host: %v %q", r.Status, r.Detail())
	}
}

func TestLegacyFallback(t *testing.T) {
	gc := notifytest.New(t)
	govuk := notifytest.New(t, notifytest.WithMode(notifytest.GOVUK))
	c, _ := newClient(t, gc.URL)
	c.FallbackHosts = []string{govuk.URL}
	ctx := context.Background()

	legacy := testKey(t, false)
	addKey(govuk, legacy)
	if r := c.Verify(ctx, legacy); r.Status != rules.StatusActive || r.Host != govuk.URL {
		t.Errorf("GOV.UK legacy key: %v on %q (%s)", r.Status, r.Host, r.Detail())
	}

	// A legacy GC key is answered by GC Notify; GOV.UK is not asked.
	gcLegacy := testKey(t, false)
	addKey(gc, gcLegacy)
	n := govuk.Count()
	if r := c.Verify(ctx, gcLegacy); r.Status != rules.StatusActive || r.Host != gc.URL || govuk.Count() != n {
		t.Errorf("GC legacy key: %v on %q; GOV.UK asked %d times", r.Status, r.Host, govuk.Count()-n)
	}

	// A prefixed key is never sent to GOV.UK.
	prefixed := testKey(t, true)
	if r := c.Verify(ctx, prefixed); r.Status != rules.StatusInvalid || govuk.Count() != n {
		t.Errorf("prefixed key: %v; GOV.UK asked %d times", r.Status, govuk.Count()-n)
	}

	// Unknown to both: invalid, with GC Notify's answer.
	nowhere := testKey(t, false)
	r := c.Verify(ctx, nowhere)
	if r.Status != rules.StatusInvalid || r.Host != gc.URL || r.Message != MsgNoSuchToken && r.Message != MsgServiceNotFound {
		t.Errorf("unknown legacy key: %v %q on %q", r.Status, r.Detail(), r.Host)
	}
	// GOV.UK's "API key not found" is invalid too.
	govuk.AddKey(nowhere.ServiceID(), rules.NewUUID())
	if r := c.Verify(ctx, nowhere); r.Status != rules.StatusInvalid {
		t.Errorf("GOV.UK not found: %v %q", r.Status, r.Detail())
	}
	// GOV.UK cannot answer: unknown, not invalid.
	govuk.Inject(notifytest.Fault{Kind: notifytest.FaultFirewall})
	if r := c.Verify(ctx, nowhere); r.Status != rules.StatusUnknown || r.Host != govuk.URL {
		t.Errorf("GOV.UK firewall: %v %q", r.Status, r.Detail())
	}
	assertNoSecrets(t, gc, legacy, gcLegacy, prefixed, nowhere)
	assertNoSecrets(t, govuk, legacy, gcLegacy, prefixed, nowhere)
}

func TestDetail(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{Result{Status: rules.StatusRevoked, HTTPStatus: 403, Message: MsgRevoked}, `403 "Invalid token: API key revoked"`},
		{Result{Status: rules.StatusActive, HTTPStatus: 200}, "200"},
		{Result{Status: rules.StatusUnknown, Err: newError("timeout after 10s", ErrTimeout)}, "unknown: timeout after 10s"},
		{notChecked(context.Canceled), "not checked: cancelled"},
		{notChecked(context.DeadlineExceeded), "not checked: deadline exceeded"},
		{Result{Status: rules.StatusUnknown}, "unknown"},
	}
	for _, tc := range tests {
		if got := tc.r.Detail(); got != tc.want {
			t.Errorf("Detail() = %q, want %q", got, tc.want)
		}
	}
	if r := notChecked(context.Canceled); !errors.Is(r.Err, ErrNotChecked) || !errors.Is(r.Err, context.Canceled) {
		t.Errorf("notChecked error does not match its sentinels: %v", r.Err)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cancelAfterFirst cancels the run once the first answer is in.
type cancelAfterFirst struct {
	cancel context.CancelFunc
	once   bool
}

func (c *cancelAfterFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if !c.once {
		c.once = true
		c.cancel()
	}
	return resp, err
}

func TestCancelBeforeFallback(t *testing.T) {
	gc := notifytest.New(t)
	govuk := notifytest.New(t, notifytest.WithMode(notifytest.GOVUK))
	k := testKey(t, false)
	addKey(govuk, k)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := newClient(t, gc.URL)
	c.FallbackHosts = []string{govuk.URL}
	c.HTTP = &http.Client{Transport: &cancelAfterFirst{cancel: cancel}}
	r := c.Verify(ctx, k)
	if r.Status != rules.StatusUnknown || r.Detail() != "unknown: cancelled" || govuk.Count() != 0 {
		t.Errorf("got %v %q, GOV.UK asked %d times", r.Status, r.Detail(), govuk.Count())
	}
}
