package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/internal/notifytest"
	"github.com/cds-snc/notifyscan/internal/verify"
	"github.com/cds-snc/notifyscan/rules"
)

func newKey(t *testing.T, prefixed bool) rules.Key {
	t.Helper()
	s := "legacy-" + rules.NewUUID() + "-" + rules.NewUUID()
	if prefixed {
		s = "gcntfy-leaked-" + rules.NewUUID() + "-" + rules.NewUUID()
	}
	k, err := rules.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func leak(k rules.Key, n int) Leak {
	return Leak{
		Finding: rules.Finding{RuleID: "notify-key", Path: "config.env", Line: n, Key: k},
		URL:     "https://github.com/example/repo/blob/abc123/config.env#L" + string(rune('0'+n%10)),
		Source:  "content",
	}
}

func verifier(t *testing.T, hosts ...string) *verify.Client {
	t.Helper()
	c, err := verify.New("test", hosts...)
	if err != nil {
		t.Fatal(err)
	}
	c.FallbackHosts = nil
	c.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}

// fixture is a GC Notify server with keys in every state.
type fixture struct {
	srv                        *notifytest.Server
	active, active2, legacy    rules.Key
	revoked, invalid, archived rules.Key
	leaks                      []Leak
	journal                    string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{srv: notifytest.New(t), journal: filepath.Join(t.TempDir(), "state", "notifyscan", "revoke.journal")}
	f.active, f.active2, f.legacy = newKey(t, true), newKey(t, true), newKey(t, false)
	f.revoked, f.invalid, f.archived = newKey(t, true), newKey(t, true), newKey(t, true)
	for _, k := range []rules.Key{f.active, f.active2, f.legacy, f.revoked, f.archived} {
		f.srv.AddKey(k.ServiceID(), k.Secret())
	}
	f.srv.Revoke(f.revoked.ServiceID(), f.revoked.Secret())
	f.srv.ArchiveService(f.archived.ServiceID())
	for i, k := range []rules.Key{f.active, f.revoked, f.active, f.invalid, f.archived, f.legacy, f.active2, f.active} {
		f.leaks = append(f.leaks, leak(k, i+1))
	}
	return f
}

func (f *fixture) opts(t *testing.T, yes bool) Options {
	return Options{
		Leaks:     f.leaks,
		Verifier:  verifier(t, f.srv.URL),
		SRESecret: f.srv.SRESecret,
		Journal:   f.journal,
		Yes:       yes,
	}
}

func byKey(rs []Result) map[string]Result {
	m := make(map[string]Result)
	for _, r := range rs {
		m[r.Fingerprint] = r
	}
	return m
}

func posts(srv *notifytest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	rs, err := Run(context.Background(), f.opts(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 6 {
		t.Fatalf("%d results for 6 distinct keys", len(rs))
	}
	m := byKey(rs)
	want := map[rules.Key]Action{f.active: WouldSend, f.active2: WouldSend, f.legacy: WouldSend,
		f.revoked: Skipped, f.invalid: Skipped, f.archived: Skipped}
	for k, a := range want {
		if r := m[k.Fingerprint()]; r.Action != a {
			t.Errorf("%s: %s (%s), want %s", k.Redacted(), r.Action, r.Detail(), a)
		}
	}
	r := m[f.active.Fingerprint()]
	if r.Findings != 3 || r.Host != f.srv.URL || r.Detail() != "would send to "+f.srv.URL+"/sre-tools/api-key-revoke" {
		t.Errorf("active: %+v", r)
	}
	var p payload
	if err := json.Unmarshal([]byte(r.Payload), &p); err != nil || p.Token != f.active.Redacted() || p.Type != TokenType || p.URL != f.leaks[0].URL || p.Source != "content" {
		t.Errorf("payload %s", r.Payload)
	}
	if p := m[f.legacy.Fingerprint()].Payload; !strings.Contains(p, `"token":"gcntfy-legacy-`) {
		t.Errorf("legacy payload %s: the endpoint needs the gcntfy- prefix", p)
	}
	if n := posts(f.srv); n != 0 {
		t.Errorf("dry run sent %d POSTs", n)
	}
	if _, err := os.Stat(f.journal); !os.IsNotExist(err) {
		t.Errorf("dry run wrote a journal: %v", err)
	}
	assertNoSecret(t, "dry run results", resultsText(rs), f.all()...)
}

func (f *fixture) all() []rules.Key {
	return []rules.Key{f.active, f.active2, f.legacy, f.revoked, f.invalid, f.archived}
}

func TestSendOnceAndOnlyActive(t *testing.T) {
	f := newFixture(t)
	rs, err := Run(context.Background(), f.opts(t, true))
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(rs)
	for _, k := range []rules.Key{f.active, f.active2, f.legacy} {
		r := m[k.Fingerprint()]
		if r.Action != Revoked || r.HTTPStatus != 201 || r.Message != "ok" {
			t.Errorf("%s: %s", k.Redacted(), r.Detail())
		}
		if !f.srv.Revoked(k.ServiceID(), k.Secret()) {
			t.Errorf("%s not revoked on the server", k.Redacted())
		}
		if n := f.srv.RevokeCalls(k.Secret()); n != 1 {
			t.Errorf("%s reported %d times", k.Redacted(), n)
		}
	}
	for _, k := range []rules.Key{f.revoked, f.invalid, f.archived} {
		if r := m[k.Fingerprint()]; r.Action != Skipped || f.srv.RevokeCalls(k.Secret()) != 0 {
			t.Errorf("%s: %s, %d reports", k.Redacted(), r.Detail(), f.srv.RevokeCalls(k.Secret()))
		}
	}
	leaks := f.srv.Leaks()
	if len(leaks) != 3 || leaks[0].Token != f.active.Reveal() || leaks[0].Type != TokenType ||
		leaks[0].URL != f.leaks[0].URL || leaks[0].Source != "content" {
		t.Errorf("leaks %+v", leaks)
	}
	if leaks[1].Token != "gcntfy-"+f.legacy.Reveal() {
		t.Errorf("legacy token sent as %q", leaks[1].Token)
	}
	assertRequests(t, f.srv, f.all()...)
	assertNoSecret(t, "results", resultsText(rs), f.all()...)
	journal, _ := os.ReadFile(f.journal)
	assertNoSecret(t, "journal", string(journal), f.all()...)
	if _, err := os.Stat(f.journal + ".lock"); !os.IsNotExist(err) {
		t.Error("lock file left behind")
	}

	// A second run sends nothing and does not even verify the keys sent.
	before := f.srv.Count()
	rs, err = Run(context.Background(), f.opts(t, true))
	if err != nil {
		t.Fatal(err)
	}
	m = byKey(rs)
	for _, k := range []rules.Key{f.active, f.active2, f.legacy} {
		if r := m[k.Fingerprint()]; r.Action != AlreadySent || f.srv.RevokeCalls(k.Secret()) != 1 {
			t.Errorf("second run, %s: %s", k.Redacted(), r.Detail())
		}
	}
	if n := f.srv.Count() - before; n != 3 { // the three skipped keys, verified again
		t.Errorf("second run made %d requests, want 3 verifications", n)
	}
	if posts(f.srv) != 3 {
		t.Errorf("%d POSTs in all, want 3", posts(f.srv))
	}
}

// assertRequests: GETs carry no secret at all; a POST carries the full key
// in its body's token field and nowhere else.
func assertRequests(t *testing.T, srv *notifytest.Server, keys ...rules.Key) {
	t.Helper()
	for _, r := range srv.Requests() {
		head := r.URL
		for name, vs := range r.Header {
			head += "\n" + name + ": " + strings.Join(vs, ",")
		}
		assertNoSecret(t, r.Method+" "+r.Path+" head", head, keys...)
		switch {
		case r.Method == http.MethodGet && r.Path == "/v2/template/00000000-0000-0000-0000-000000000000":
			assertNoSecret(t, "GET body", string(r.Body), keys...)
		case r.Method == http.MethodPost && r.Path == "/sre-tools/api-key-revoke":
			var p payload
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Errorf("POST body %q", r.Body)
			}
			rest := strings.Replace(string(r.Body), p.Token, "", 1)
			assertNoSecret(t, "POST body without its token", rest, keys...)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
		}
	}
}

func assertNoSecret(t *testing.T, what, text string, keys ...rules.Key) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(text, k.Secret()) {
			t.Errorf("%s holds the secret of %s", what, k.Redacted())
		}
	}
}

func resultsText(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String() + "\n" + r.Payload + "\n" + r.Note + "\n" + r.Verify.Detail() + "\n")
		js, _ := json.Marshal(r)
		b.Write(js)
	}
	return b.String()
}

// failingAfter passes the first n requests to the real transport and fails
// the rest (the POST was written but no answer came back).
type failingAfter struct {
	n    int32
	seen atomic.Int32
}

func (f *failingAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.seen.Add(1) > f.n {
		return nil, errors.New("connection lost")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestJournalSurvivesFailingTransport(t *testing.T) {
	f := newFixture(t)
	o := f.opts(t, true)
	o.HTTP = &http.Client{Transport: &failingAfter{n: 1}}
	rs, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(rs)
	if r := m[f.active.Fingerprint()]; r.Action != Revoked {
		t.Fatalf("first key: %s", r.Detail())
	}
	for _, k := range []rules.Key{f.legacy, f.active2} {
		if r := m[k.Fingerprint()]; r.Action != Uncertain || !strings.Contains(r.Detail(), "connection lost") {
			t.Errorf("%s: %s", k.Redacted(), r.Detail())
		}
	}

	// Rerun with a working transport: the first key is not resent; the
	// others had no known outcome and still verify active: manual check.
	rs, err = Run(context.Background(), f.opts(t, true))
	if err != nil {
		t.Fatal(err)
	}
	m = byKey(rs)
	if r := m[f.active.Fingerprint()]; r.Action != AlreadySent || f.srv.RevokeCalls(f.active.Secret()) != 1 {
		t.Errorf("first key on rerun: %s, %d reports", r.Detail(), f.srv.RevokeCalls(f.active.Secret()))
	}
	for _, k := range []rules.Key{f.legacy, f.active2} {
		if r := m[k.Fingerprint()]; r.Action != NeedsManualCheck || f.srv.RevokeCalls(k.Secret()) != 0 {
			t.Errorf("%s on rerun: %s", k.Redacted(), r.Detail())
		}
	}

	// --force-resend: sent once.
	o = f.opts(t, true)
	o.ForceResend = true
	rs, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []rules.Key{f.active, f.legacy, f.active2} {
		if n := f.srv.RevokeCalls(k.Secret()); n != 1 {
			t.Errorf("%s reported %d times", k.Redacted(), n)
		}
	}
	if r := byKey(rs)[f.active2.Fingerprint()]; r.Action != Revoked {
		t.Errorf("forced: %s", r.Detail())
	}
}

func TestJournalSurvivesCrashAfterPending(t *testing.T) {
	f := newFixture(t)
	o := f.opts(t, true)
	crash := errors.New("simulated crash")
	o.afterPending = func(fp string) error {
		if fp == f.legacy.Fingerprint() {
			return crash
		}
		return nil
	}
	rs, err := Run(context.Background(), o)
	if !errors.Is(err, crash) {
		t.Fatalf("err = %v", err)
	}
	m := byKey(rs)
	if m[f.active.Fingerprint()].Action != Revoked || m[f.legacy.Fingerprint()].Action != NotSent || m[f.active2.Fingerprint()].Action != NotSent {
		t.Fatalf("crash run: %v", rs)
	}
	lines := journalLines(t, f.journal)
	if len(lines) != 3 || lines[2].State != statePending || lines[2].Fingerprint != f.legacy.Fingerprint() {
		t.Fatalf("journal %+v", lines)
	}

	rs, err = Run(context.Background(), f.opts(t, true))
	if err != nil {
		t.Fatal(err)
	}
	m = byKey(rs)
	if r := m[f.active.Fingerprint()]; r.Action != AlreadySent {
		t.Errorf("first key: %s", r.Detail())
	}
	if r := m[f.legacy.Fingerprint()]; r.Action != NeedsManualCheck || f.srv.RevokeCalls(f.legacy.Secret()) != 0 {
		t.Errorf("pending key: %s", r.Detail())
	}
	if r := m[f.active2.Fingerprint()]; r.Action != Revoked {
		t.Errorf("untouched key: %s", r.Detail())
	}
	if n := f.srv.RevokeCalls(f.active.Secret()); n != 1 {
		t.Errorf("first key reported %d times", n)
	}
}

// A crash after the POST reached the server: the key now verifies revoked,
// and the next run records it as resolved without sending.
func TestPendingResolvedByVerification(t *testing.T) {
	f := newFixture(t)
	f.leaks = []Leak{leak(f.revoked, 1)}
	line, _ := json.Marshal(entry{Time: "2025-01-01T00:00:00Z", Fingerprint: f.revoked.Fingerprint(), Key: f.revoked.Redacted(), Host: f.srv.URL, State: statePending})
	// A pending line, then a torn line from the crash.
	os.MkdirAll(filepath.Dir(f.journal), 0o700)
	if err := os.WriteFile(f.journal, append(append(line, '\n'), `{"time":"2025-01-01T00:00:01Z","finger`...), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := Run(context.Background(), f.opts(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Action != AlreadySent || !strings.Contains(rs[0].Note, "now verifies revoked") {
		t.Errorf("got %s", rs[0].Detail())
	}
	lines := journalLines(t, f.journal)
	if last := lines[len(lines)-1]; last.State != stateResolved {
		t.Errorf("journal ends with %+v", last)
	}
	if posts(f.srv) != 0 {
		t.Error("sent a report")
	}
	// And a third run needs no verification at all.
	before := f.srv.Count()
	if rs, _ := Run(context.Background(), f.opts(t, true)); rs[0].Action != AlreadySent || f.srv.Count() != before {
		t.Errorf("third run: %s, %d requests", rs[0].Detail(), f.srv.Count()-before)
	}
}

func journalLines(t *testing.T, path string) []entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e entry
		if json.Unmarshal([]byte(l), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

func TestOutcomes(t *testing.T) {
	k := newKey(t, true)
	for _, tc := range []struct {
		code   int
		body   string
		action Action
		again  Action // on a second run
	}{
		{200, `{"result":"ok"}`, NotAKey, AlreadySent},
		{400, `{"result":"error","message":"Invalid payload"}`, Failed, Failed},
		{429, `{"result":"error","message":"slow down"}`, Failed, Failed},
		{500, `<html>oops</html>`, Uncertain, NeedsManualCheck},
		{502, ``, Uncertain, NeedsManualCheck},
	} {
		var posts atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Method == http.MethodGet {
				w.WriteHeader(404)
				w.Write([]byte(`{"status_code":404,"errors":[{"error":"NoResultFound","message":"No result found"}]}`))
				return
			}
			posts.Add(1)
			w.WriteHeader(tc.code)
			w.Write([]byte(tc.body))
		}))
		o := Options{Leaks: []Leak{leak(k, 1)}, Verifier: verifier(t, srv.URL), SRESecret: "s3cr3t-sre", Journal: filepath.Join(t.TempDir(), "j"), Yes: true}
		rs, err := Run(context.Background(), o)
		if err != nil || rs[0].Action != tc.action || rs[0].HTTPStatus != tc.code {
			t.Errorf("%d: %s, %v", tc.code, rs[0].Detail(), err)
		}
		rs, _ = Run(context.Background(), o)
		if rs[0].Action != tc.again {
			t.Errorf("%d, second run: %s, want %s", tc.code, rs[0].Detail(), tc.again)
		}
		want := int32(1)
		if tc.again == Failed {
			want = 2
		}
		if posts.Load() != want {
			t.Errorf("%d: %d POSTs, want %d", tc.code, posts.Load(), want)
		}
		srv.Close()
	}
}

func TestWrongSRESecretIsRetriedLater(t *testing.T) {
	f := newFixture(t)
	f.leaks = []Leak{leak(f.active, 1)}
	o := f.opts(t, true)
	o.SRESecret = "not-the-secret"
	rs, err := Run(context.Background(), o)
	if err != nil || rs[0].Action != Failed || rs[0].HTTPStatus != 403 || f.srv.Revoked(f.active.ServiceID(), f.active.Secret()) {
		t.Fatalf("wrong secret: %s, %v", rs[0].Detail(), err)
	}
	if strings.Contains(rs[0].Detail(), "not-the-secret") {
		t.Errorf("detail leaks the SRE secret: %s", rs[0].Detail())
	}
	rs, err = Run(context.Background(), f.opts(t, true))
	if err != nil || rs[0].Action != Revoked {
		t.Fatalf("right secret: %s, %v", rs[0].Detail(), err)
	}
	// The SRE JWT: iss SRE_CLIENT_USER, signed with the SRE secret.
	for _, r := range f.srv.Requests() {
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
			t.Errorf("POST Authorization %.10q", r.Header.Get("Authorization"))
		}
	}
}

func TestFallbackHostNeverReceivesReports(t *testing.T) {
	gc := notifytest.New(t)
	govuk := notifytest.New(t, notifytest.WithMode(notifytest.GOVUK))
	k := newKey(t, false)
	govuk.AddKey(k.ServiceID(), k.Secret())
	v := verifier(t, gc.URL)
	v.FallbackHosts = []string{govuk.URL}
	rs, err := Run(context.Background(), Options{Leaks: []Leak{leak(k, 1)}, Verifier: v, SRESecret: gc.SRESecret,
		Journal: filepath.Join(t.TempDir(), "j"), Yes: true})
	if err != nil || rs[0].Action != Skipped || !strings.Contains(rs[0].Note, "not a GC Notify host") {
		t.Fatalf("%s, %v", rs[0].Detail(), err)
	}
	if posts(gc)+posts(govuk) != 0 {
		t.Error("a report was sent")
	}
}

func TestRequirements(t *testing.T) {
	f := newFixture(t)
	o := f.opts(t, true)
	o.SRESecret = ""
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
	o = f.opts(t, true)
	o.Journal = ""
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrNoJournal) {
		t.Errorf("no journal: %v", err)
	}
	o = f.opts(t, true)
	o.Verifier = nil
	if _, err := Run(context.Background(), o); err == nil {
		t.Error("no verifier: no error")
	}
	// A dry run needs neither secret nor journal.
	o = f.opts(t, false)
	o.SRESecret, o.Journal = "", ""
	if _, err := Run(context.Background(), o); err != nil {
		t.Errorf("dry run: %v", err)
	}
	// Another run holds the lock.
	os.MkdirAll(filepath.Dir(f.journal), 0o700)
	if err := os.WriteFile(f.journal+".lock", []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), f.opts(t, true)); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("locked journal: %v", err)
	}
	if posts(f.srv) != 0 {
		t.Error("sent while locked")
	}
}

func TestCancelled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rs, err := Run(ctx, f.opts(t, true))
	if !errors.Is(err, context.Canceled) || len(rs) != 6 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
	for _, r := range rs {
		if r.Action != NotSent {
			t.Errorf("%s", r.Detail())
		}
	}
	if f.srv.Count() != 0 {
		t.Errorf("%d requests after cancel", f.srv.Count())
	}
}
