package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cds-snc/notifyscan/internal/notifytest"
	"github.com/cds-snc/notifyscan/rules"
)

// findingsOf returns n findings spread over distinct keys, each key repeated.
func findingsOf(keys []rules.Key, n int) []rules.Finding {
	fs := make([]rules.Finding, n)
	for i := range fs {
		fs[i] = rules.Finding{RuleID: "test", Path: "f.txt", Line: i + 1, Key: keys[i%len(keys)]}
	}
	return fs
}

func TestVerifyFindingsDedupe(t *testing.T) {
	srv := notifytest.New(t)
	keys := make([]rules.Key, 100)
	for i := range keys {
		keys[i] = testKey(t, i%2 == 0)
		if i%3 != 0 {
			addKey(srv, keys[i])
		}
	}
	fs := findingsOf(keys, 1000)
	c, _ := newClient(t, srv.URL)
	c.VerifyFindings(context.Background(), fs)

	if n := srv.Count(); n != 100 {
		t.Errorf("%d requests for 100 distinct keys, want 100", n)
	}
	for _, k := range keys {
		if n := srv.CountService(k.ServiceID()); n != 1 {
			t.Errorf("key %s sent %d times", k.Redacted(), n)
		}
	}
	for i, f := range fs {
		want, host := rules.StatusActive, srv.URL
		if (i%100)%3 == 0 {
			want = rules.StatusInvalid
		}
		if f.Status != want || f.StatusHost != host || f.StatusDetail == "" {
			t.Fatalf("finding %d: %q %q %q, want %s", i, f.Status, f.StatusDetail, f.StatusHost, want)
		}
	}
	assertNoSecrets(t, srv, keys...)
}

func TestVerifyKeysSameSecretDifferentNames(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	renamed, err := rules.ParseKey("gcntfy-other-name-" + k.ServiceID() + "-" + k.Secret())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, srv.URL)
	rs := c.VerifyKeys(context.Background(), []rules.Key{k, {}, renamed})
	if srv.Count() != 1 || rs[0].Status != rules.StatusActive || rs[2].Status != rules.StatusActive {
		t.Errorf("%d requests, results %v", srv.Count(), rs)
	}
	if rs[1].Status != rules.StatusUnknown || rs[1].Detail() != "not checked: no key" {
		t.Errorf("zero key: %v %q", rs[1].Status, rs[1].Detail())
	}
}

func TestConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		srv := notifytest.New(t, notifytest.WithLatency(20*time.Millisecond))
		keys := make([]rules.Key, 40)
		for i := range keys {
			keys[i] = testKey(t, true)
			addKey(srv, keys[i])
		}
		c, _ := newClient(t, srv.URL)
		c.Concurrency = limit
		c.VerifyFindings(context.Background(), findingsOf(keys, 80))
		if m := srv.MaxInFlight(); m > limit || m < 1 {
			t.Errorf("Concurrency %d: server saw %d requests in flight", limit, m)
		}
		if limit > 1 && srv.MaxInFlight() < 2 {
			t.Errorf("Concurrency %d: requests never overlapped", limit)
		}
		if srv.Count() != 40 {
			t.Errorf("Concurrency %d: %d requests", limit, srv.Count())
		}
	}
}

func TestDeadline(t *testing.T) {
	srv := notifytest.New(t)
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultHang})
	keys := make([]rules.Key, 6)
	for i := range keys {
		keys[i] = testKey(t, true)
		addKey(srv, keys[i])
	}
	c, _ := newClient(t, srv.URL)
	c.Concurrency = 2
	c.Deadline = 150 * time.Millisecond
	fs := findingsOf(keys, 12)
	start := time.Now()
	c.VerifyFindings(context.Background(), fs)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v with a 150ms deadline", el)
	}
	inFlight, notSent := 0, 0
	for _, f := range fs[:6] {
		switch {
		case f.Status != rules.StatusUnknown:
			t.Errorf("status %q after the deadline", f.Status)
		case f.StatusDetail == "unknown: deadline exceeded":
			inFlight++
		case f.StatusDetail == "not checked: deadline exceeded":
			notSent++
		default:
			t.Errorf("detail %q", f.StatusDetail)
		}
	}
	if inFlight != 2 || notSent != 4 || srv.Count() != 2 {
		t.Errorf("%d in flight, %d not sent, %d requests; want 2, 4, 2", inFlight, notSent, srv.Count())
	}
}

// TestDeadlineBeforeRetry: a Retry-After past the deadline gives up at once.
func TestDeadlineBeforeRetry(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultTooManyRequests, RetryAfter: "30"})
	c, sl := newClient(t, srv.URL)
	c.Deadline = 2 * time.Second
	r := c.VerifyKeys(context.Background(), []rules.Key{k})[0]
	if r.Status != rules.StatusUnknown || !strings.Contains(r.Detail(), "gave up: the deadline comes before the next retry") || len(sl.get()) != 0 {
		t.Errorf("got %q, waits %v", r.Detail(), sl.get())
	}
}

func TestCancel(t *testing.T) {
	srv := notifytest.New(t, notifytest.WithLatency(30*time.Millisecond))
	keys := make([]rules.Key, 50)
	for i := range keys {
		keys[i] = testKey(t, true)
		addKey(srv, keys[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for srv.Count() < 10 {
			time.Sleep(time.Millisecond)
		}
		cancel() // Ctrl-C
	}()
	c, _ := newClient(t, srv.URL)
	fs := findingsOf(keys, 100)
	start := time.Now()
	c.VerifyFindings(ctx, fs)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v to stop", el)
	}
	done, notChecked := 0, 0
	for _, f := range fs {
		switch {
		case f.Status == rules.StatusActive:
			done++
		case f.Status == rules.StatusUnknown && f.StatusDetail == "not checked: cancelled":
			notChecked++
		case f.Status == rules.StatusUnknown && f.StatusDetail == "unknown: cancelled":
		default:
			t.Errorf("after cancel: %q %q", f.Status, f.StatusDetail)
		}
	}
	// A key is not checked unless its request was begun; a request can be
	// begun and cancelled before the server sees it, so up to Concurrency
	// keys beyond those the server counted may be neither.
	sent := srv.Count()
	if sent >= 50 || notChecked < 2*(50-sent-c.Concurrency) || done == 0 || done > 2*sent {
		t.Errorf("%d requests, %d findings done, %d not checked", sent, done, notChecked)
	}
	// Cancelled before starting: every key is not checked, nothing is sent.
	fs = findingsOf(keys, 10)
	c.VerifyFindings(ctx, fs)
	for _, f := range fs {
		if f.StatusDetail != "not checked: cancelled" {
			t.Errorf("pre-cancelled: %q", f.StatusDetail)
		}
	}
	if srv.Count() != sent {
		t.Error("requests sent after cancellation")
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	srv := notifytest.New(t)
	k := testKey(t, true)
	addKey(srv, k)
	srv.Inject(notifytest.Fault{Kind: notifytest.FaultTooManyRequests, RetryAfter: "5"})
	c, err := New("test", srv.URL) // real sleeps
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := c.Verify(ctx, k)
	if time.Since(start) > 2*time.Second || r.Detail() != "unknown: cancelled" || !errors.Is(r.Err, context.Canceled) {
		t.Errorf("got %q after %v", r.Detail(), time.Since(start))
	}
}

// TestSpeed: 1,000 findings of 100 distinct keys against a server with 50 ms
// latency: 100 requests, under 2 s at the default concurrency (4 at a time:
// 25 rounds of 50 ms, about 1.25 s).
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	srv := notifytest.New(t, notifytest.WithLatency(50*time.Millisecond))
	keys := make([]rules.Key, 100)
	for i := range keys {
		keys[i] = testKey(t, true)
		addKey(srv, keys[i])
	}
	c, err := New("test", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	fs := findingsOf(keys, 1000)
	start := time.Now()
	c.VerifyFindings(context.Background(), fs)
	el := time.Since(start)
	t.Logf("1000 findings, 100 keys, 50ms latency, concurrency %d: %d requests in %v (max in flight %d)",
		c.Concurrency, srv.Count(), el.Round(time.Millisecond), srv.MaxInFlight())
	if srv.Count() != 100 {
		t.Errorf("%d requests, want 100", srv.Count())
	}
	if el >= 2*time.Second {
		t.Errorf("took %v, want under 2s", el)
	}
	if srv.MaxInFlight() > DefaultConcurrency {
		t.Errorf("max in flight %d", srv.MaxInFlight())
	}
	for _, f := range fs {
		if f.Status != rules.StatusActive {
			t.Fatalf("status %q %q", f.Status, f.StatusDetail)
		}
	}
}

func BenchmarkVerifyFindings(b *testing.B) {
	srv := notifytest.New(b, notifytest.WithLatency(50*time.Millisecond))
	keys := make([]rules.Key, 100)
	for i := range keys {
		keys[i] = testKey(b, true)
		addKey(srv, keys[i])
	}
	c, err := New("bench", srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	fs := findingsOf(keys, 1000)
	b.ResetTimer()
	for b.Loop() {
		c.VerifyFindings(context.Background(), fs)
	}
	b.ReportMetric(float64(srv.Count())/float64(b.N), "requests/op")
}
