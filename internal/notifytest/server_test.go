package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const nilTemplate = "/v2/template/00000000-0000-0000-0000-000000000000"

var hs256 = map[string]any{"typ": "JWT", "alg": "HS256"}

func claims(iss string, iat time.Time) map[string]any {
	return map[string]any{"iss": iss, "iat": iat.Unix()}
}

type answer struct {
	code    int
	kind    string
	message string
	body    string
	header  http.Header
}

func call(t *testing.T, s *Server, method, path, auth, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, body: string(b), header: resp.Header}
	var v2 struct {
		Errors []struct{ Error, Message string }
	}
	if json.Unmarshal(b, &v2) == nil && len(v2.Errors) > 0 {
		a.kind, a.message = v2.Errors[0].Error, v2.Errors[0].Message
	}
	return a
}

const (
	sid    = "6e3b1a56-57a9-4c9f-9d6e-2b8b43c1f0a1"
	secret = "9b2c7a51-0d3e-4f6a-8b1c-5e4d3c2b1a09"
	other  = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
)

func bearer(iss, key string, iat time.Time) string {
	return "Bearer " + MakeToken(hs256, claims(iss, iat), key)
}

func TestTemplateAnswers(t *testing.T) {
	now := time.Now()
	for _, mode := range []Mode{GCNotify, GOVUK} {
		s := New(t, WithMode(mode))
		s.AddKey(sid, secret)
		s.AddService(other) // a service with no keys
		archived := "aaaaaaaa-1111-4222-8333-444455556666"
		s.AddKey(archived, secret)
		s.ArchiveService(archived)
		revokedSID := "bbbbbbbb-1111-4222-8333-444455556666"
		s.AddKey(revokedSID, other)
		s.Revoke(revokedSID, other)

		notFound := "Invalid token: signature, api token not found"
		badAlg := notFound
		if mode == GOVUK {
			notFound, badAlg = "Invalid token: API key not found", "Invalid token: algorithm used is not HS256"
		}
		tests := []struct {
			name, auth string
			code       int
			message    string
		}{
			{"active", bearer(sid, secret, now), 404, "No result found"},
			{"active upper-case iss", bearer(strings.ToUpper(sid), secret, now), 404, "No result found"},
			{"iat at the edge", bearer(sid, secret, now.Add(-29*time.Second)), 404, "No result found"},
			{"no header", "", 401, "Unauthorized, authentication token must be provided"},
			{"basic scheme", "Basic eDp5", 401, "Unauthorized, authentication bearer scheme must be used"},
			{"garbage token", "Bearer not.a.jwt", 403, "Invalid token: signature, api token is not valid"},
			{"no iss", "Bearer " + MakeToken(hs256, map[string]any{"iat": now.Unix()}, secret), 403, "Invalid token: iss field not provided"},
			{"iss not a uuid", bearer("nope", secret, now), 403, "Invalid token: service id is not the right data type"},
			{"unknown service", bearer("cccccccc-1111-4222-8333-444455556666", secret, now), 403, "Invalid token: service not found"},
			{"service without keys", bearer(other, secret, now), 403, "Invalid token: service has no API keys"},
			{"archived", bearer(archived, secret, now), 403, "Invalid token: service is archived"},
			{"revoked", bearer(revokedSID, other, now), 403, "Invalid token: API key revoked"},
			{"wrong secret", bearer(sid, other, now), 403, notFound},
			{"upper-case secret", bearer(sid, strings.ToUpper(secret), now), 403, notFound},
			{"clock behind", bearer(sid, secret, now.Add(-31*time.Second)), 403, "Error: Your system clock must be accurate to within 30 seconds"},
			{"clock ahead", bearer(sid, secret, now.Add(45*time.Second)), 403, "Error: Your system clock must be accurate to within 30 seconds"},
			{"alg none", "Bearer " + MakeToken(map[string]any{"typ": "JWT", "alg": "none"}, claims(sid, now), secret), 403, badAlg},
			{"alg HS512", "Bearer " + MakeToken(map[string]any{"typ": "JWT", "alg": "HS512"}, claims(sid, now), secret), 403, badAlg},
		}
		for _, tc := range tests {
			a := call(t, s, "GET", nilTemplate, tc.auth, "")
			if a.code != tc.code || a.message != tc.message {
				t.Errorf("mode %d, %s: got %d %q, want %d %q", mode, tc.name, a.code, a.message, tc.code, tc.message)
			}
		}
		if a := call(t, s, "GET", nilTemplate, bearer(sid, secret, now), ""); a.kind != "NoResultFound" {
			t.Errorf("authenticated: error kind %q, want NoResultFound", a.kind)
		}
		if a := call(t, s, "GET", "/v2/template/xyz", bearer(sid, secret, now), ""); a.code != 400 {
			t.Errorf("bad template id: %d, want 400", a.code)
		}
		if a := call(t, s, "GET", "/v2/notifications", bearer(sid, secret, now), ""); a.code != 204 {
			t.Errorf("unknown path: %d, want the WAF's 204", a.code)
		}
	}
}

func TestAPIKeyV1(t *testing.T) {
	s := New(t)
	s.AddKey(sid, secret)
	full := "gcntfy-my_key-" + sid + "-" + secret
	if a := call(t, s, "GET", nilTemplate, "ApiKey-v1 "+full, ""); a.code != 404 || a.kind != "NoResultFound" {
		t.Errorf("ApiKey-v1 full key: %d %q", a.code, a.message)
	}
	if a := call(t, s, "GET", nilTemplate, "ApiKey-v1 gcntfy-x-"+sid+"-"+other, ""); a.code != 403 || a.message != "Invalid token: API key not found" {
		t.Errorf("ApiKey-v1 unknown key: %d %q", a.code, a.message)
	}
	if s.CountSecret(secret) != 1 {
		t.Errorf("CountSecret = %d, want 1", s.CountSecret(secret))
	}
	g := New(t, WithMode(GOVUK))
	g.AddKey(sid, secret)
	if a := call(t, g, "GET", nilTemplate, "ApiKey-v1 "+full, ""); a.code != 401 {
		t.Errorf("GOV.UK ApiKey-v1: %d, want 401", a.code)
	}
}

func TestRevokeEndpoint(t *testing.T) {
	s := New(t)
	s.AddKey(sid, secret)
	full := "gcntfy-my_key-" + sid + "-" + secret
	sre := bearer(s.SREUser, s.SRESecret, time.Now())
	body := func(tok string) string {
		b, _ := json.Marshal(map[string]string{"token": tok, "type": "cds_canada_notify_api_key", "url": "https://example.com/x", "source": "content"})
		return string(b)
	}
	const path = "/sre-tools/api-key-revoke"

	if a := call(t, s, "POST", path, sre, "["+body(full)+"]"); a.code != 400 || !strings.Contains(a.body, `"Invalid payload"`) {
		t.Errorf("list: %d %s", a.code, a.body)
	}
	if a := call(t, s, "POST", path, sre, `{"token":"`+full+`"}`); a.code != 400 {
		t.Errorf("missing fields: %d %s", a.code, a.body)
	}
	if a := call(t, s, "POST", path, bearer(s.SREUser, other, time.Now()), body(full)); a.code != 403 {
		t.Errorf("wrong SRE secret: %d %s", a.code, a.body)
	}
	if a := call(t, s, "POST", path, bearer("someone", s.SRESecret, time.Now()), body(full)); a.code != 401 {
		t.Errorf("wrong SRE user: %d %s", a.code, a.body)
	}
	if s.Revoked(sid, secret) {
		t.Fatal("key revoked by a rejected call")
	}
	if a := call(t, s, "POST", path, sre, body(full)); a.code != 201 || !strings.Contains(a.body, `"ok"`) {
		t.Errorf("existing key: %d %s", a.code, a.body)
	}
	if !s.Revoked(sid, secret) {
		t.Error("key not revoked")
	}
	if a := call(t, s, "POST", path, sre, body(full)); a.code != 201 {
		t.Errorf("second call (no already-revoked check): %d %s", a.code, a.body)
	}
	if a := call(t, s, "POST", path, sre, body(sid+"-"+secret)); a.code != 200 {
		t.Errorf("unprefixed token: %d, want 200 (get_api_key_by_secret needs the prefix)", a.code)
	}
	if a := call(t, s, "POST", path, sre, body("gcntfy-x-"+sid+"-"+other)); a.code != 200 {
		t.Errorf("unknown key: %d %s", a.code, a.body)
	}
	if got := s.RevokeCalls(secret); got != 3 {
		t.Errorf("RevokeCalls = %d, want 3", got)
	}
	leaks := s.Leaks()
	if len(leaks) != 2 || leaks[0].Token != full || leaks[0].Type != "cds_canada_notify_api_key" || leaks[0].URL != "https://example.com/x" || leaks[0].Source != "content" || leaks[0].ServiceID != sid {
		t.Errorf("leaks = %+v", leaks)
	}
	if a := call(t, s, "GET", nilTemplate, bearer(sid, secret, time.Now()), ""); a.message != "Invalid token: API key revoked" {
		t.Errorf("after revoke: %d %q", a.code, a.message)
	}
	g := New(t, WithMode(GOVUK))
	if a := call(t, g, "POST", path, sre, body(full)); a.code != 204 {
		t.Errorf("GOV.UK has no revoke endpoint: %d", a.code)
	}
}

func TestFaults(t *testing.T) {
	s := New(t)
	s.AddKey(sid, secret)
	auth := bearer(sid, secret, time.Now())

	s.Inject(Fault{Kind: FaultTooManyRequests, Times: 1, RetryAfter: "7"})
	s.Inject(Fault{Kind: FaultTooManyRequests, Times: 1})
	s.Inject(Fault{Kind: FaultServerError, Times: 1})
	s.Inject(Fault{Kind: FaultUnavailable, Times: 1, RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"})
	s.Inject(Fault{Kind: FaultFirewall, Times: 1})
	s.Inject(Fault{Kind: FaultNoContent, Times: 1})
	s.Inject(Fault{Kind: FaultNotJSON, Times: 1})
	s.Inject(Fault{Kind: FaultRedirect, Times: 1})
	want := []struct {
		code       int
		retryAfter string
		ctype      string
	}{
		{429, "7", "application/json"},
		{429, "", "application/json"},
		{500, "", "application/json"},
		{503, "Wed, 21 Oct 2015 07:28:00 GMT", "text/html; charset=utf-8"},
		{403, "", "text/html; charset=utf-8"},
		{204, "", ""},
		{200, "", "text/html; charset=utf-8"},
		{302, "", ""},
		{404, "", "application/json"}, // faults used up
	}
	client := s.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for i, w := range want {
		req, _ := http.NewRequest("GET", s.URL+nilTemplate, nil)
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != w.code || resp.Header.Get("Retry-After") != w.retryAfter || resp.Header.Get("Content-Type") != w.ctype {
			t.Errorf("request %d: %d %q %q, want %+v", i, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), w)
		}
	}

	s.Inject(Fault{Kind: FaultReset, Times: 1})
	if _, err := http.Get(s.URL + nilTemplate); err == nil {
		t.Error("reset: no error")
	}

	s.Inject(Fault{Kind: FaultHang, Times: 1})
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.Get(s.URL + nilTemplate); err == nil {
		t.Error("hang: no error")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("hang did not end with the client")
	}

	s.Inject(Fault{Kind: FaultSlow, Times: 1, Delay: 80 * time.Millisecond})
	start = time.Now()
	if a := call(t, s, "GET", nilTemplate, auth, ""); a.code != 404 || time.Since(start) < 80*time.Millisecond {
		t.Errorf("slow: %d after %v", a.code, time.Since(start))
	}

	s.Inject(Fault{Kind: FaultServerError, Path: "/sre-tools/"})
	if a := call(t, s, "GET", nilTemplate, auth, ""); a.code != 404 {
		t.Errorf("path-limited fault hit another path: %d", a.code)
	}
	s.ClearFaults()
}

func TestCountingAndRecording(t *testing.T) {
	s := New(t, WithLatency(50*time.Millisecond))
	s.AddKey(sid, secret)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { call(t, s, "GET", nilTemplate, bearer(sid, secret, time.Now()), "") })
	}
	wg.Wait()
	if s.Count() != 6 || s.CountService(sid) != 6 || s.CountSecret(secret) != 6 {
		t.Errorf("counts: %d %d %d", s.Count(), s.CountService(sid), s.CountSecret(secret))
	}
	if m := s.MaxInFlight(); m < 2 || m > 6 {
		t.Errorf("MaxInFlight = %d", m)
	}
	reqs := s.Requests()
	if len(reqs) != 6 || reqs[0].Method != "GET" || reqs[0].Path != nilTemplate || !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "Bearer ") {
		t.Errorf("recorded %+v", reqs[0])
	}
}

func TestCloseReleasesHungRequests(t *testing.T) {
	s := New(t)
	s.Inject(Fault{Kind: FaultHang})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Get(s.URL + nilTemplate); err == nil {
			resp.Body.Close()
		}
	}()
	for s.Count() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	select {
	case <-done: // any outcome, as long as the client was released
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}
