package verify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/internal/notifytest"
	"github.com/cds-snc/notifyscan/rules"
)

// testKey is a fresh random key; prefixed chooses the gcntfy- form.
func testKey(t testing.TB, prefixed bool) rules.Key {
	t.Helper()
	s := "legacy_key-" + rules.NewUUID() + "-" + rules.NewUUID()
	if prefixed {
		s = "gcntfy-test-key-" + rules.NewUUID() + "-" + rules.NewUUID()
	}
	k, err := rules.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addKey registers k as an active key on srv.
func addKey(srv *notifytest.Server, k rules.Key) { srv.AddKey(k.ServiceID(), k.Secret()) }

// sleeps records the waits a Client asks for instead of sleeping.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newClient is a Client for srv (no fallback) that records its sleeps.
func newClient(t testing.TB, hosts ...string) (*Client, *sleeps) {
	t.Helper()
	c, err := New("test", hosts...)
	if err != nil {
		t.Fatal(err)
	}
	c.FallbackHosts = nil
	sl := &sleeps{}
	c.Sleep = sl.sleep
	return c, sl
}

// assertNoSecrets fails if any recorded request carries a key's secret or
// full form in its URL, headers or body, or uses anything but the probe.
func assertNoSecrets(t testing.TB, srv *notifytest.Server, keys ...rules.Key) {
	t.Helper()
	for _, r := range srv.Requests() {
		if r.Method != "GET" || r.Path != probeTemplatePath {
			t.Errorf("request %s %s: only GET %s is allowed", r.Method, r.URL, probeTemplatePath)
		}
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ") {
			t.Errorf("request with Authorization %.12q...: only Bearer is allowed", a)
		}
		var all strings.Builder
		all.WriteString(r.URL)
		for name, vs := range r.Header {
			all.WriteString("\n" + name + ": " + strings.Join(vs, ","))
		}
		all.Write(r.Body)
		text := strings.ToLower(all.String())
		for _, k := range keys {
			if strings.Contains(text, k.Secret()) || strings.Contains(text, strings.ToLower(k.Reveal())) {
				t.Errorf("request %s carries the secret of %s", r.URL, k.Redacted())
			}
		}
	}
}

// assertScrubbed fails if text holds any secret material of k.
func assertScrubbed(t testing.TB, what, text string, k rules.Key, tokens ...string) {
	t.Helper()
	for _, s := range append([]string{k.Secret(), strings.ToUpper(k.Secret()), k.Reveal()}, tokens...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks secret material: %q", what, text)
		}
	}
}
