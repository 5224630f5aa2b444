package scanner

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// layers are the encoders a nested key goes through, by Finding.Encoding
// name (base64url only when the text needs '-' or '_').
var layers = []struct {
	name string
	do   func(string) string
}{
	{EncBase64, b64},
	{EncBase64URL, b64url},
	{EncUTF16LE, func(s string) string { return string(utf16Bytes(s, false, false)) }},
	{EncUTF16BE, func(s string) string { return string(utf16Bytes(s, true, true)) }},
	{EncPercent, percentAll},
	{EncJSON, func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		return b.String()
	}},
}

// Every chain of up to maxDecodeDepth encodings around a key is found, under
// its chain: the base64 filter lets through every layer that can lead to a
// key. (A chain the scan does not read at all, such as percent-encoded
// UTF-16, whose zero bytes are escapes, is left out.)
func TestNestedChainsFound(t *testing.T) {
	type chain []int
	var chains []chain
	for a := range layers {
		chains = append(chains, chain{a})
		for b := range layers {
			chains = append(chains, chain{a, b})
			for c := range layers {
				chains = append(chains, chain{a, b, c})
			}
		}
	}
	for _, ch := range chains {
		key := newKey("chain")
		text := "NOTIFY_API_KEY=" + key + "\n"
		var names []string
		for i := len(ch) - 1; i >= 0; i-- {
			text = layers[ch[i]].do(text)
		}
		skip := false
		for i, l := range ch {
			names = append(names, layers[l].name)
			// Escapes of UTF-16 are escapes of zero bytes: no scan reads
			// them; UTF-16 inside UTF-16 is not a thing.
			if i > 0 && (layers[l].name == EncUTF16LE || layers[l].name == EncUTF16BE) &&
				layers[ch[i-1]].name != EncBase64 && layers[ch[i-1]].name != EncBase64URL {
				skip = true
			}
		}
		if skip {
			continue
		}
		data := []byte("payload: " + text + "\n")
		if ch[0] == 2 || ch[0] == 3 { // UTF-16 starts at an even offset
			data = []byte(text)
		}
		got := decodeHits(data)
		found := false
		for _, f := range got {
			if f.Key.Secret() == key[len(key)-36:] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: not found (%q)", strings.Join(names, "+"), hitsOf(got))
		}
	}
}

// A key's base64 is found glued inside a long run of base64 alphabet, at
// every byte alignment and at every offset in a line of many tokens: the
// filter lets through the one alignment that reads it.
func TestBase64InLongRuns(t *testing.T) {
	key := newKey("glued")
	for pad := range 3 {
		enc := b64(strings.Repeat("~", pad) + key + "~~~")
		for _, c := range []struct{ before, after string }{
			{strings.Repeat("x", 5000), strings.Repeat("x", 5000)},
			{strings.Repeat("A", 999), "B"},
			{strings.Repeat("word ", 100) + strings.Repeat("Zm9v", 500) + " ", " " + strings.Repeat("%41", 100)},
			{strings.Repeat("0123456789abcdef", 300), ""},
		} {
			data := []byte("k: " + c.before + enc + c.after + "\n")
			got := decodeHits(data)
			if len(got) != 1 || got[0].Key.Secret() != key[len(key)-36:] {
				t.Errorf("pad %d, %.20q...: %q", pad, c.before, hitsOf(got))
			}
		}
	}
}

// Escaped keys and wrapped base64 are found on a line after long tokens
// that hold nothing, and after tokens that hold encoded keys.
func TestLongLinesOfTokens(t *testing.T) {
	k1, k2, k3 := newKey("one"), newKey("two"), newKey("three")
	long := strings.Repeat("x", 200)
	line := long + " " + b64("A="+k1) + " " + long + " " + strings.ReplaceAll(k2, "-", "%2D") + " " + long + " " +
		strings.ReplaceAll(k3, "-", `\u002d`) + "\n"
	got := hitsOf(decodeHits([]byte(line + line)))
	if len(got) != 6 {
		t.Fatalf("got %q", got)
	}
	env := b64("NOTIFY_API_KEY=" + k1 + "\n" + strings.Repeat("# more lines\n", 10))
	var wrapped []string
	for s := env; s != ""; s = s[min(76, len(s)):] {
		wrapped = append(wrapped, s[:min(76, len(s))])
	}
	data := long + " " + long + " " + wrapped[0] + "\n" + strings.Join(wrapped[1:], "\n") + "\n"
	if got := decodeHits([]byte(data)); len(got) != 1 || got[0].Encoding != EncBase64 {
		t.Errorf("wrapped after long tokens: %q", hitsOf(got))
	}
}

// next finds the first row a brute-force search finds, on random text made
// of characters each filter allows at some places, whatever the start.
func TestFilterNextIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, f := range []*b64Filter{keyFilter, innerFilter, utf16Filter, anyFilter} {
		// Characters the filter allows at exactly some places, and a space.
		var alphabet []byte
		for c := range 256 {
			if p := f.places[c]; p != 0 && p != 0xff {
				alphabet = append(alphabet, byte(c))
			}
		}
		alphabet = append(alphabet, ' ')
		for range 300 {
			src := make([]byte, 50+r.IntN(1000))
			// Long stretches of few characters make rows.
			for i := 0; i < len(src); {
				c := alphabet[r.IntN(len(alphabet))]
				for n := 1 + r.IntN(40); n > 0 && i < len(src); n-- {
					src[i] = c
					if r.IntN(3) == 0 {
						src[i] = alphabet[r.IntN(len(alphabet))]
					}
					i++
				}
			}
			from := r.IntN(len(src))
			want := -1
			for s := from; s+f.n <= len(src) && want < 0; s++ {
				open := uint8(0xff)
				for j := s; j < s+f.n; j++ {
					open &= f.at(src[j], j)
				}
				if open != 0 {
					want = s
				}
			}
			if got := f.next(src, from); got != want {
				t.Fatalf("n=%d: next(%q, %d) = %d, want %d", f.n, src, from, got, want)
			}
			for ph := range 8 {
				want := false
				for s := 0; s+f.n <= len(src) && !want; s++ {
					ok := true
					for j := s; j < s+f.n && ok; j++ {
						ok = f.places[src[j]]>>((j+ph)&7)&1 != 0
					}
					want = ok
				}
				if got := f.holds(src, ph); got != want {
					t.Fatalf("n=%d: holds(%q, %d) = %v, want %v", f.n, src, ph, got, want)
				}
			}
		}
	}
}

// The filters pass the base64 of what they stand for, at every alignment,
// and fail the base64 of plain text and runs of one character.
func TestFilterPlaces(t *testing.T) {
	key := newKey("places")
	pair := key[len(key)-73:]
	for pad := range 3 {
		for _, c := range []struct {
			f    *b64Filter
			text string
		}{
			{keyFilter, pair},
			{innerFilter, b64(key)},
			{innerFilter, percentAll(key)},
			{utf16Filter, string(utf16Bytes(pair, false, false))},
			{utf16Filter, string(utf16Bytes(pair, true, false))},
		} {
			enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x01", pad) + c.text))
			if a := filterAlignments(c.f, []byte(enc)); a&1 == 0 {
				t.Errorf("n=%d pad %d: alignments %04b", c.f.n, pad, a)
			}
		}
	}
	for _, s := range []string{
		b64(strings.Repeat("The quick brown fox. ", 20)), strings.Repeat("x", 500), strings.Repeat("A", 500),
		strings.Repeat("0123456789abcdef", 30),
	} {
		if a := filterAlignments(keyFilter, []byte(s)); a != 0 {
			t.Errorf("key filter passes %.20q: %04b", s, a)
		}
	}
	for _, s := range []string{strings.Repeat("x", 500), strings.Repeat("A", 500), strings.Repeat("/", 500)} {
		if r := anyFilter.next([]byte(s), 0); r >= 0 {
			t.Errorf("filter passes %.20q at %d", s, r)
		}
	}
}

// filterAlignments are the alignments at which f passes src, as bits.
func filterAlignments(f *b64Filter, src []byte) uint8 {
	var out uint8
	for ph := range f.period {
		if f.holds(src, ph) {
			out |= 1 << ((4 - ph) & 3)
		}
	}
	return out
}

// checkEscapeDecoders checks that the escape decoders decode src as their
// steps do one unit at a time, which is how spans are mapped back.
func checkEscapeDecoders(t *testing.T, src []byte) {
	t.Helper()
	for _, c := range []struct {
		step   escapeStep
		decode func(dst, src []byte) []byte
	}{{percentStep, percentDecode}, {stringStep, stringDecode}} {
		var want []byte
		for k := 0; k < len(src); {
			var w int
			want, w = c.step(want, src, k)
			k += w
		}
		if got := c.decode([]byte("prefix"), src); string(got) != "prefix"+string(want) {
			t.Fatalf("%q: decoded %q, steps %q", src, got, want)
		}
	}
}

func TestEscapeDecodersMatchSteps(t *testing.T) {
	for _, s := range []string{
		"", "%", "%4", "%41", "%4g%41%", "a%2Db%2dc%%41", `\`, `\u`, `\u004`, `\u0041\u00e9\ud83d\ude00\ud83d`,
		`\u{1F600}\x41\n\t\r\b\f\v\0\/\\\"\'\q`, `\uD800\u0041`, `\u004G`, strings.Repeat(`\u002d%2D`, 40),
	} {
		checkEscapeDecoders(t, []byte(s))
	}
}

// b64Bytes tells base64 characters exactly, in every byte of a word.
func TestB64Bytes(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := uint64(lsb*'A')&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			want := uint64(msb)
			if b64val[c] < 0 {
				want &^= 0x80 << (8 * pos)
			}
			if got := b64Bytes(w); got != want {
				t.Fatalf("%#x at %d: %#x, want %#x", c, pos, got, want)
			}
		}
	}
}
