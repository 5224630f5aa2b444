package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// planted is a key made for one test run: random, so no realistic key is
// ever committed, and replaced by tokens before output meets a golden file.
type planted struct {
	key rules.Key
	n   int // token number
}

// plant parses a key "<head><sid>-<secret>" built from fresh UUIDs.
func plant(t *testing.T, n int, head string) planted {
	t.Helper()
	k, err := rules.ParseKey(head + rules.NewUUID() + "-" + rules.NewUUID())
	if err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	return planted{key: k, n: n}
}

// at places k at path:line:col.
func (p planted) at(rule *rules.Rule, path string, line, col int) rules.Finding {
	return rules.Finding{
		RuleID: rule.ID, Path: path, Line: line, Column: col,
		EndColumn: col + utf8.RuneCountInString(p.key.Reveal()),
		Key:       p.key,
	}
}

// fixture is a set of reports covering every status, git provenance,
// archives, encodings, odd paths and errors, with the keys they plant.
type fixture struct {
	keys    []planted
	reports map[string]*Report // by golden name
}

var testTool = Tool{Name: "notifyscan", Version: "v1.2.3", InformationURI: "https://github.com/cds-snc/notifyscan"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{reports: map[string]*Report{}}
	key := func(head string) planted {
		p := plant(t, len(fx.keys)+1, head)
		fx.keys = append(fx.keys, p)
		return p
	}
	prod := key("gcntfy-prod-")
	legacy := key("legacy_key-")
	ci := key("gcntfy-ci-")
	zipped := key("gcntfy--")
	spaced := key("gcntfy-docs-")
	archived := key("gcntfy-old_service-")

	active := prod.at(rules.CurrentKeyRule, "config/prod.env", 3, 16)
	active.Status, active.StatusDetail, active.StatusHost = rules.StatusActive, "404 NoResultFound", "api.notification.canada.ca"
	active.Tracking = "tracked"

	old := legacy.at(rules.LegacyKeyRule, "src/app.py", 10, 20)
	old.Status, old.StatusDetail = rules.StatusUnknown, "timeout after 10s"

	hist := ci.at(rules.CurrentKeyRule, ".github/workflows/deploy.yml", 7, 9)
	hist.Status, hist.StatusDetail = rules.StatusRevoked, "403 Invalid token: API key revoked"
	hist.Git = &rules.GitProvenance{
		Commit:      "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
		Author:      "Jane Doe",
		AuthorEmail: "jane@example.org",
		Date:        "2023-04-05T06:07:08Z",
		Commits:     []string{"0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "89abcdef0123456789abcdef0123456789abcdef"},
		Refs:        []string{"refs/heads/main", "refs/tags/v1.0.0"},
		Blob:        "fedcba9876543210fedcba9876543210fedcba98",
	}

	member := zipped.at(rules.CurrentKeyRule, "dist/bundle.zip", 2, 12)
	member.Container, member.Encoding = "dist/bundle.zip!app/settings.json", "base64"
	member.Status = rules.StatusInactive
	member.StatusDetail = "403 Invalid token: service is archived"

	odd := spaced.at(rules.CurrentKeyRule, "docs/set up guide #1.md", 40, 1)
	odd.Status, odd.StatusDetail = rules.StatusInvalid, "403 Invalid token: signature, api token not found"

	inactive := archived.at(rules.CurrentKeyRule, "terraform/notify.tf", 5, 11)
	inactive.Status, inactive.StatusDetail = rules.StatusInactive, "403 Invalid token: service is archived"
	inactive.Tracking = "untracked"

	stale := hist
	stale.RuleID, stale.Status, stale.StatusDetail = rules.StaleKeyRule.ID, rules.StatusActive, "404 NoResultFound"
	stale.Note = "first committed 2023-04-05, 600 days ago, and still active (rotate at least every 90 days)"

	verified := []rules.Finding{active, old, hist, member, odd, inactive, stale}
	rules.Sort(verified)
	fx.reports["verified"] = &Report{
		Tool: testTool, Command: "git", Findings: verified, Ignored: 1,
		Errors:   []string{"vendor/big.bin: permission denied", "history: object 1234abcd missing"},
		Stats:    Stats{Files: 42, Bytes: 123456, Blobs: 77, Commits: 12},
		Verified: true,
	}

	plain := []rules.Finding{prod.at(rules.CurrentKeyRule, "config/prod.env", 3, 16), legacy.at(rules.LegacyKeyRule, "src/app.py", 10, 20)}
	rules.Sort(plain)
	fx.reports["unverified"] = &Report{
		Tool: testTool, Command: "dir", Findings: plain, Ignored: 2,
		Stats: Stats{Files: 3, Bytes: 900},
	}

	fx.reports["empty"] = &Report{Tool: testTool, Command: "staged", Stats: Stats{Files: 5, Bytes: 2048}}
	return fx
}

// scrub replaces every planted key's service id, secret prefix and
// fingerprint by tokens, so output can be compared with a golden file.
func (fx *fixture) scrub(out []byte) []byte {
	for _, p := range fx.keys {
		k := p.key
		out = bytes.ReplaceAll(out, []byte(k.Fingerprint()), fmt.Appendf(nil, "<FP%d>", p.n))
		out = bytes.ReplaceAll(out, []byte(k.Secret()[:4]+"****"), fmt.Appendf(nil, "<SEC4-%d>****", p.n))
		out = bytes.ReplaceAll(out, []byte(k.ServiceID()), fmt.Appendf(nil, "<SID%d>", p.n))
	}
	return out
}

// noSecrets fails t if out holds any planted secret, or the last 32
// characters of one, or a whole key.
func (fx *fixture) noSecrets(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, p := range fx.keys {
		k := p.key
		for _, s := range []string{k.Reveal(), k.Secret(), k.Secret()[4:]} {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s: output contains the secret of key %d", what, p.n)
			}
		}
	}
}

// render writes r in format f, failing t on error, and checks it is secret-free.
func (fx *fixture) render(t *testing.T, f Format, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, r); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	fx.noSecrets(t, string(f), buf.Bytes())
	return buf.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, diffLines(string(want), string(got)))
	}
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

var extensions = map[Format]string{Text: "txt", JSON: "json", SARIF: "sarif", GitHub: "github.txt", Markdown: "md"}
