package rules

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// found returns the spans Find reports in text.
func found(text string, notifyContext bool) []string {
	var out []string
	Find([]byte(text), notifyContext, func(m Match) bool {
		out = append(out, fmt.Sprintf("%s@%d:%s", m.Rule.ID, m.Start, text[m.Start:m.End]))
		return true
	})
	return out
}

func TestFindInEveryFileShape(t *testing.T) {
	key := "gcntfy-prod_key-" + NewUUID() + "-" + NewUUID()
	shapes := map[string]string{
		".env":          "FOO=bar\nNOTIFY_API_KEY=%s\n",
		"shell":         "export NOTIFY_API_KEY='%s'\n",
		"python":        "client = NotificationsAPIClient(api_key=\"%s\")\n",
		"js":            "const key = `%s`;",
		"go":            "var key = \"%s\"\n",
		"properties":    "notify.api.key=%s\r\n",
		"json":          "{\"key\":\"%s\",\"x\":1}",
		"yaml":          "env:\n  - name: KEY\n    value: %s\n",
		"terraform":     "variable \"k\" {\n  default = \"%s\"\n}\n",
		"dockerfile":    "ENV NOTIFY_API_KEY=%s\n",
		"notebook":      "{\"source\": [\"key = '%s'\\n\"]}",
		"markdown":      "Use `%s` here.",
		"csv":           "1,%s,2\n",
		"log":           "2024-01-01T00:00:00Z INFO key=%s sent\n",
		"minified":      strings.Repeat("var a=1;", 5000) + "k=\"%s\";" + strings.Repeat("b();", 5000),
		"no newline":    "%s",
		"url":           "https://x.example/?token=%s&next=1",
		"single quotes": "'%s'",
		"xml":           "<key>%s</key>",
	}
	for name, shape := range shapes {
		text := fmt.Sprintf(shape, key)
		got := found(text, false)
		want := fmt.Sprintf("notify-api-key@%d:%s", strings.Index(text, key), key)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %d matches, want exactly the key", name, len(got))
		}
	}
	two := key + " gcntfy-other-" + NewUUID() + "-" + NewUUID()
	if got := found(two, false); len(got) != 2 {
		t.Errorf("two keys on one line: got %d matches", len(got))
	}
}

func TestFindNameShapes(t *testing.T) {
	sid, sec := NewUUID(), NewUUID()
	for _, name := range []string{"", "a", "my-prod-key", "trailing-", "trailing_", "日本語", "cle", strings.Repeat("n", 255), NewUUID()} {
		key := "gcntfy-" + name + "-" + sid + "-" + sec
		got := found("x="+key+"\n", false)
		if len(got) != 1 || !strings.HasSuffix(got[0], ":"+key) {
			t.Errorf("name %q: got %v", name, len(got))
		}
	}
	// The display form with an underscore.
	if got := found("gcntfy_x-"+sid+"-"+sec, false); len(got) != 1 {
		t.Errorf("gcntfy_ form not found")
	}
}

func TestLegacyNeedsContext(t *testing.T) {
	pair := NewUUID() + "-" + NewUUID()
	if got := found("trace="+pair+"\n", false); len(got) != 0 {
		t.Errorf("bare pair without context reported: %v", got)
	}
	if got := found("svc-"+pair, true); len(got) != 1 || !strings.HasPrefix(got[0], LegacyKeyRule.ID+"@0:svc-") {
		t.Errorf("legacy with caller context: %v", got)
	}
	far := "NOTIFY\n" + strings.Repeat("x", LegacyWindow+10) + "\nk=svc-" + pair + "\n"
	if got := found(far, false); len(got) != 0 {
		t.Errorf("context beyond the window counted: %v", got)
	}
	near := "# notifications_python_client\nk=svc-" + pair + "\n"
	if got := found(near, false); len(got) != 1 {
		t.Errorf("legacy near context not found")
	}
}

// Every key Find reports parses back to the same key, and Find never panics.
func FuzzFind(f *testing.F) {
	f.Add([]byte("gcntfy-x-"+NewUUID()+"-"+NewUUID()), "name", 3)
	f.Add([]byte("notify "+NewUUID()+"-"+NewUUID()), "", 0)
	f.Add([]byte{0xff, 0xfe, '-', 'a'}, "日本", 1)
	f.Fuzz(func(t *testing.T, noise []byte, name string, at int) {
		Find(noise, true, func(m Match) bool {
			k, err := ParseKey(string(noise[m.Start:m.End]))
			if err != nil || k.Fingerprint() != m.Key.Fingerprint() {
				t.Fatalf("match at %d:%d does not parse back: %v", m.Start, m.End, err)
			}
			return true
		})
		// Invariant: a valid key planted between separators is found, whole.
		clean := strings.Map(func(r rune) rune {
			if nameRune(r) {
				return r
			}
			return -1
		}, name)
		if utf8.RuneCountInString(clean) > MaxNameLen || strings.Contains(clean, "gcntfy") {
			return
		}
		key := "gcntfy-" + clean + "-" + NewUUID() + "-" + NewUUID()
		if at < 0 {
			at = -at
		}
		at %= len(noise) + 1
		buf := append(append(append(append([]byte{}, noise[:at]...), ' '), key...), '\n')
		buf = append(buf, noise[at:]...)
		ok := false
		Find(buf, false, func(m Match) bool {
			if string(buf[m.Start:m.End]) == key {
				ok = true
			}
			return true
		})
		if !ok {
			t.Fatalf("planted key (name %q) not found after %d noise bytes: %q", clean, at, found(string(buf), false))
		}
	})
}

// sourceText returns n bytes of source-like text without keys: code, hex
// digests, UUIDs, dashes, so the prefilter meets what it meets in real trees.
func sourceText(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	lines := []string{
		"func (s *Server) handle(w http.ResponseWriter, r *http.Request) error {\n",
		"\tid := \"" + NewUUID() + "\" // request id\n",
		"sha256: 3f786850e387550fdab836ed7e6dc881de23001b9c1e2f7f0b6b2e1a0d9c8b7a\n",
		"- name: deploy-feature-branch-to-staging\n",
		"import React, { useState } from 'react'; export default function App() { return null }\n",
		"2024-05-01 12:00:00,123 INFO worker-3 processed batch a1b2c3d4-e5f6 in 12ms\n",
		"    \"integrity\": \"sha512-abcdefabcdef0123456789abcdefabcdef0123456789==\",\n",
		"# -------------------------------------------------------------------\n",
		"resource \"aws_s3_bucket\" \"data\" { bucket = \"deadbeef-cafe-feed-face-0123456789ab\" }\n",
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(lines[r.IntN(len(lines))])
	}
	return b.Bytes()[:n]
}

func BenchmarkFindNoKeys(b *testing.B) {
	buf := sourceText(16 << 20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for b.Loop() {
		Find(buf, false, func(Match) bool { b.Fatal("unexpected match"); return false })
	}
}

func BenchmarkFindHexHeavy(b *testing.B) {
	// Worst case for the prefilter: long runs of hex and dashes.
	var sb strings.Builder
	for sb.Len() < 16<<20 {
		sb.WriteString(NewUUID() + "-" + NewUUID()[:20] + "\n")
	}
	buf := []byte(sb.String())
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for b.Loop() {
		Find(buf, false, func(Match) bool { return true })
	}
}
