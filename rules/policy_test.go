package rules

import (
	"testing"
	"time"
)

func TestPolicy(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	k, _ := ParseKey("gcntfy-a-" + NewUUID() + "-" + NewUUID())
	other, _ := ParseKey("gcntfy-b-" + NewUUID() + "-" + NewUUID())
	at := func(repo, path, date string, st Status, key Key) Finding {
		return Finding{RuleID: CurrentKeyRule.ID, Path: repo + "/" + path, Line: 1, Column: 1, Key: key, Status: st,
			Git: &GitProvenance{Commit: "c", Date: date}}
	}
	fs := []Finding{
		at("api", "old.env", "2026-01-01T00:00:00Z", StatusActive, k),       // stale and shared
		at("web", "new.env", "2026-11-20T00:00:00Z", StatusActive, k),       // shared, fresh
		at("web", "gone.env", "2020-01-01T00:00:00Z", StatusRevoked, other), // old but revoked
		at("web", "also.env", "2020-01-01T00:00:00Z", StatusRevoked, other), // same repo twice: not shared
	}
	repo := func(f *Finding) string { return f.Path[:3] }
	got := Policy{Now: now, Repository: repo}.Check(fs)
	var ids []string
	for _, f := range got {
		ids = append(ids, f.RuleID+" "+f.Path+" "+f.Note)
	}
	want := []string{
		"notify-key-not-rotated api/old.env first committed 2026-01-01, 330 days ago, and still active (rotate at least every 90 days)",
		"notify-key-shared api/old.env the same key is in 2 repositories: api, web",
		"notify-key-shared web/new.env the same key is in 2 repositories: api, web",
	}
	if len(ids) != len(want) {
		t.Fatalf("got %q", ids)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("policy finding %d:\n got %q\nwant %q", i, ids[i], want[i])
		}
	}
	// A longer allowed age, and no repository function: nothing.
	if got := (Policy{Now: now, MaxAge: 400 * 24 * time.Hour}).Check(fs); len(got) != 0 {
		t.Errorf("got %d policy findings with a 400-day limit", len(got))
	}
	for _, r := range PolicyRules() {
		if ByID(r.ID) != r {
			t.Errorf("ByID(%s) misses the policy rule", r.ID)
		}
	}
}
