package verify

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/cds-snc/notifyscan/rules"
)

// VerifyKeys verifies keys and returns one Result per key, in order. Keys
// with the same fingerprint are sent once and share the result. At most
// Concurrency keys are checked at once, and the whole call is bounded by
// Deadline when set. When ctx ends, keys in flight stop and every key not
// yet sent is unknown with the detail "not checked: cancelled" (or
// "deadline exceeded"); VerifyKeys still returns a full slice.
func (c *Client) VerifyKeys(ctx context.Context, keys []rules.Key) []Result {
	out := make([]Result, len(keys))
	s, err := c.settings()
	if err != nil {
		for i := range out {
			out[i] = Result{Status: rules.StatusUnknown, Err: err}
		}
		return out
	}
	if s.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Deadline)
		defer cancel()
	}

	// Distinct keys by fingerprint, in order of first appearance. A legacy
	// spelling wins over a prefixed one, so the fallback hosts are tried.
	slot := make([]int, len(keys))
	index := make(map[string]int)
	var distinct []rules.Key
	for i, k := range keys {
		if k.IsZero() {
			slot[i] = -1
			continue
		}
		fp := k.Fingerprint()
		j, seen := index[fp]
		if !seen {
			j = len(distinct)
			index[fp] = j
			distinct = append(distinct, k)
		} else if !k.Prefixed() {
			distinct[j] = k
		}
		slot[i] = j
	}

	results := make([]Result, len(distinct))
	started := make([]bool, len(distinct))
	var g errgroup.Group
	g.SetLimit(s.Concurrency)
	for j, k := range distinct {
		if ctx.Err() != nil {
			break
		}
		started[j] = true
		g.Go(func() error {
			results[j] = s.verify(ctx, k)
			return nil
		})
	}
	_ = g.Wait() // the workers never fail: failures are results
	for j := range results {
		if !started[j] {
			results[j] = notChecked(ctx.Err())
		}
	}
	for i, j := range slot {
		if j < 0 {
			out[i] = s.verify(ctx, rules.Key{}) // "not checked: no key"
			continue
		}
		out[i] = results[j]
	}
	return out
}

// VerifyFindings verifies the key of every finding, each distinct key
// (fingerprint) once, and fills Status, StatusDetail and StatusHost in
// place. It returns when every finding has a status, also when ctx is
// cancelled, so the caller can still write its report.
func (c *Client) VerifyFindings(ctx context.Context, fs []rules.Finding) {
	keys := make([]rules.Key, len(fs))
	for i := range fs {
		keys[i] = fs[i].Key
	}
	for i, r := range c.VerifyKeys(ctx, keys) {
		fs[i].Status = r.Status
		fs[i].StatusDetail = r.Detail()
		fs[i].StatusHost = r.Host
	}
}
