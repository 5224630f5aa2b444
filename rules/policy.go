package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy rules check GC Notify's key rules over a set of findings rather than
// over text: one key per third party (a key shared across repositories), and
// regular rotation (a key still active long after it was first committed).
// Their findings sit at the place of the key finding they are about.

// SharedKeyRule: the same key in several repositories.
var SharedKeyRule = &Rule{
	ID:    "notify-key-shared",
	Name:  "NotifyKeyShared",
	Short: "The same Notify API key is used by several repositories",
	Full: "GC Notify's rule is one key per system or third party, so that a key can be revoked without " +
		"breaking anyone else and a leak can be traced. The same key appears in more than one repository.",
	Help: "Create one key per system or third party in GC Notify (*API integration* > *API keys*), give each " +
		"repository its own, then revoke the shared key. Keep every key in a secret manager, not in the repository.",
	Tags:      []string{"gc-notify", "policy", "security"},
	Severity:  7.5,
	Precision: "very-high",
}

// StaleKeyRule: an active key first committed more than the maximum age ago.
var StaleKeyRule = &Rule{
	ID:    "notify-key-not-rotated",
	Name:  "NotifyKeyNotRotated",
	Short: "A Notify API key is still active long after it was committed",
	Full: "GC Notify asks teams to revoke and re-create live keys regularly and whenever someone with access " +
		"leaves. This key was committed long ago and still authenticates: it has not been rotated since.",
	Help: "Revoke the key in GC Notify (*API integration* > *API keys* > *Revoke*) now, create a new one, store it " +
		"in a secret manager, and rotate keys on a schedule and whenever someone with access leaves.",
	Tags:      []string{"gc-notify", "policy", "security"},
	Severity:  9.0,
	Precision: "very-high",
}

// PolicyRules lists the policy rules, sorted by id.
func PolicyRules() []*Rule { return []*Rule{SharedKeyRule, StaleKeyRule} }

// DefaultMaxKeyAge is how long a live key may stay unrotated before
// StaleKeyRule reports it. GC Notify asks for regular rotation without a
// number; 90 days is the common rotation period for API credentials.
const DefaultMaxKeyAge = 90 * 24 * time.Hour

// Policy holds what the policy checks need to know.
type Policy struct {
	Now    time.Time
	MaxAge time.Duration // 0 means DefaultMaxKeyAge
	// Repository names the repository a finding belongs to, for the shared
	// key rule; nil or "" for every finding turns that rule off.
	Repository func(*Finding) string
}

// Check returns the policy findings for fs (sorted), each with a Note that
// says why. Key findings are not changed.
func (p Policy) Check(fs []Finding) []Finding {
	var out []Finding
	maxAge := p.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxKeyAge
	}
	// Regular rotation: active keys committed long ago.
	for _, f := range fs {
		if f.Status != StatusActive || f.Git == nil || f.Git.Date == "" {
			continue
		}
		d, err := time.Parse(time.RFC3339, f.Git.Date)
		if err != nil || p.Now.Sub(d) <= maxAge {
			continue
		}
		pf := policyFinding(f, StaleKeyRule)
		pf.Note = fmt.Sprintf("first committed %s, %d days ago, and still active (rotate at least every %d days)",
			d.UTC().Format("2006-01-02"), int(p.Now.Sub(d).Hours()/24), int(maxAge.Hours()/24))
		out = append(out, pf)
	}
	// One key per third party: the same key in several repositories.
	if p.Repository != nil {
		repos := map[string][]string{}
		for i := range fs {
			if r := p.Repository(&fs[i]); r != "" {
				fp := fs[i].Fingerprint()
				if !slices.Contains(repos[fp], r) {
					repos[fp] = append(repos[fp], r)
				}
			}
		}
		for i := range fs {
			f := &fs[i]
			rs := repos[f.Fingerprint()]
			if len(rs) < 2 {
				continue
			}
			slices.Sort(rs)
			pf := policyFinding(*f, SharedKeyRule)
			pf.Note = fmt.Sprintf("the same key is in %d repositories: %s", len(rs), strings.Join(rs, ", "))
			out = append(out, pf)
		}
	}
	Sort(out)
	return out
}

func policyFinding(f Finding, r *Rule) Finding {
	f.RuleID = r.ID
	f.Note = ""
	return f
}
