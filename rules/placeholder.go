package rules

import "strings"

// Identifiers published in GC Notify and GOV.UK Notify documentation and
// examples. They are not secrets, and keys built on them are examples.
var documentedIDs = map[string]string{
	"26785a09-ab16-4eb0-8407-a37497a57506": "documented example service id",
	"3d844edf-8d35-48ac-975b-e847b4f122b0": "documented example secret",
	"f6c7cc49-b5b7-4e67-a8ff-24f34be34523": "documented notAKey example",
}

// placeholderNames are key names used only by examples and test fixtures.
var placeholderNames = []string{
	"github-test-revoked", // GitHub's own revoked test keys
	"notakey",
}

// Placeholder reports whether k is an example or impossible key that must never
// be reported, and why. It never inspects the name for realism beyond the
// documented example names: Notify does not check names, so a strange name
// on real identifiers is still a real key.
func Placeholder(k Key) (string, bool) {
	if k.serviceID == k.secret {
		return "service id equals secret", true
	}
	for _, id := range []string{k.serviceID, k.secret} {
		if why, ok := documentedIDs[id]; ok {
			return why, true
		}
		if lowEntropyUUID(id) {
			return "placeholder identifier", true
		}
	}
	lower := strings.ToLower(k.name)
	for _, n := range placeholderNames {
		if strings.HasPrefix(lower, n) {
			return "example key name", true
		}
	}
	return "", false
}

// lowEntropyUUID reports whether a UUID's hex digits are too regular to be
// random: all-zero or all-one style repeats, and keyboard sequences. A random
// UUID has 30 random hex digits; fewer than six distinct digits, or a run of
// eight identical ones, has a probability below 1e-12.
func lowEntropyUUID(id string) bool {
	var seen [256]bool
	distinct, run, longest := 0, 0, 0
	var prev byte
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c == '-' {
			continue
		}
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if c == prev {
			run++
		} else {
			run = 1
		}
		prev = c
		longest = max(longest, run)
	}
	if distinct < 6 || longest >= 8 {
		return true
	}
	digits := strings.ReplaceAll(id, "-", "")
	for _, seq := range []string{"12345678", "abcdef01", "01234567", "fedcba98", "87654321"} {
		if strings.Contains(digits, seq) {
			return true
		}
	}
	return false
}
