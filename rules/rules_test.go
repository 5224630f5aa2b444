package rules

import (
	"strings"
	"testing"
)

func TestRulesCheckTheirSamples(t *testing.T) {
	for _, r := range All() {
		if err := r.Check(); err != nil {
			t.Error(err)
		}
		if len(r.True) == 0 || len(r.False) == 0 {
			t.Errorf("rule %s has no true or no false samples", r.ID)
		}
	}
}

// A rule whose samples are wrong must fail its check: the check can fail.
func TestCheckCatchesBadSamples(t *testing.T) {
	bad := *CurrentKeyRule
	bad.True = []string{"nothing here"}
	if bad.Check() == nil {
		t.Fatal("Check accepted a true sample that has no key")
	}
	bad = *CurrentKeyRule
	bad.False = []string{"gcntfy-x-{SID}-{SECRET}"}
	if bad.Check() == nil {
		t.Fatal("Check accepted a false sample that is a key")
	}
}

func TestParseKey(t *testing.T) {
	sid, sec := NewUUID(), NewUUID()
	cases := []struct {
		in       string
		name     string
		prefixed bool
	}{
		{"gcntfy-prod-" + sid + "-" + sec, "prod", true},
		{"gcntfy_prod-" + sid + "-" + sec, "prod", true},
		{"gcntfy--" + sid + "-" + sec, "", true},
		{"gcntfy-my-prod-key-" + sid + "-" + sec, "my-prod-key", true},
		{"gcntfy-日本語-" + sid + "-" + sec, "日本語", true},
		{"legacy_key-" + sid + "-" + sec, "legacy_key", false},
		{sid + "-" + sec, "", false},
	}
	for _, c := range cases {
		k, err := ParseKey(c.in)
		if err != nil {
			t.Errorf("ParseKey(%d bytes): %v", len(c.in), err)
			continue
		}
		if k.Name() != c.name || k.Prefixed() != c.prefixed || k.ServiceID() != sid || k.Secret() != sec {
			t.Errorf("ParseKey: got name %q prefixed %v", k.Name(), k.Prefixed())
		}
		want := strings.Replace(c.in, "gcntfy_", "gcntfy-", 1)
		if k.Reveal() != want {
			t.Errorf("Reveal does not round-trip")
		}
	}
	for _, bad := range []string{"", "gcntfy-x", "gcntfy-x-" + sid + "-" + strings.ToUpper(sec), "x.y-" + sid + "-" + sec,
		"gcntfy-" + strings.Repeat("a", 256) + "-" + sid + "-" + sec, "x" + sid + "-" + sec} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey accepted a non-key of %d bytes", len(bad))
		} else if strings.Contains(err.Error(), sec) {
			t.Errorf("ParseKey error quotes the secret")
		}
	}
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	sid, sec := NewUUID(), NewUUID()
	k, err := ParseKey("gcntfy-n-" + sid + "-" + sec)
	if err != nil {
		t.Fatal(err)
	}
	f := Finding{RuleID: CurrentKeyRule.ID, Path: "a", Line: 1, Column: 1, Key: k}
	outs := []string{k.String(), k.Redacted(), k.Fingerprint()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, sprintf(verb, k), sprintf(verb, f), sprintf(verb, &f))
	}
	js, err := jsonMarshal(f)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	for _, o := range outs {
		if strings.Contains(o, sec) || strings.Contains(o, sec[4:]) {
			t.Fatalf("secret printed in %q", o)
		}
	}
	if !strings.Contains(string(js), sid) || !strings.Contains(k.Redacted(), sid+"-"+sec[:4]+"****") {
		t.Fatalf("redacted form lost the service id or secret prefix: %s", js)
	}
}

func TestFingerprint(t *testing.T) {
	sid, sec := NewUUID(), NewUUID()
	a, _ := ParseKey("gcntfy-a-" + sid + "-" + sec)
	b, _ := ParseKey("other_name-" + sid + "-" + sec)
	c, _ := ParseKey("gcntfy-a-" + sid + "-" + NewUUID())
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("same service id and secret give different fingerprints")
	}
	if a.Fingerprint() == c.Fingerprint() {
		t.Error("different secrets give the same fingerprint")
	}
	if !strings.HasPrefix(a.Fingerprint(), "nsfp1:") || len(a.Fingerprint()) != 6+32 {
		t.Errorf("fingerprint %q has the wrong shape", a.Fingerprint())
	}
}

func TestNewUUIDIsV4(t *testing.T) {
	for i := 0; i < 100; i++ {
		u := NewUUID()
		if !IsUUID(u) || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("NewUUID gave %q", u)
		}
		if _, ok := Placeholder(Key{serviceID: u, secret: NewUUID()}); ok {
			t.Fatalf("random UUID %q taken for a placeholder", u)
		}
	}
}

// ParseKey never panics; what it accepts round-trips through Reveal, and the
// redacted form is the key with the secret masked.
func FuzzParseKey(f *testing.F) {
	f.Add("gcntfy-x-" + NewUUID() + "-" + NewUUID())
	f.Add("gcntfy_日本-" + NewUUID() + "-" + NewUUID())
	f.Add("legacy-" + NewUUID() + "-" + NewUUID())
	f.Add("gcntfy--" + NewUUID())
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		again, err := ParseKey(k.Reveal())
		if err != nil || again.Fingerprint() != k.Fingerprint() || again.Name() != k.Name() || again.Prefixed() != k.Prefixed() {
			t.Fatalf("Reveal does not round-trip: %v", err)
		}
		// The redacted form is the key with its secret masked, whatever the name.
		if k.Redacted() != strings.TrimSuffix(k.Reveal(), k.Secret())+RedactSecret(k.Secret()) {
			t.Fatal("redacted form is not the key with its secret masked")
		}
	})
}
