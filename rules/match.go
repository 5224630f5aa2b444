package rules

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Match is one key found in a buffer: its byte span and the rule it meets.
type Match struct {
	Start, End int // byte offsets in the buffer; End is exclusive
	Key        Key
	Rule       *Rule
}

// LegacyWindow is how many bytes either side of an unprefixed key are read for
// Notify context ("notif" in any case, or "gcntfy").
const LegacyWindow = 300

// MaxKeyBytes bounds the bytes a key can span: the prefix, a name of
// MaxNameLen characters of up to four bytes each, the '-' and the pair.
const MaxKeyBytes = len(Prefix) + 4*MaxNameLen + 1 + PairLen

// Find calls fn for every key in buf, in order of position, until fn returns
// false. Placeholders are skipped. An unprefixed (legacy) key is reported
// only when Notify context stands within LegacyWindow bytes of it, or when
// notifyContext is true (the caller knows the file is about Notify).
//
// Find reads buf only; it does not keep it. It is safe for concurrent use.
func Find(buf []byte, notifyContext bool, fn func(Match) bool) {
	n := len(buf)
	known := 0 // buf[known-1] is known not to be a pair byte (or known == 0)
	for i := PairLen - 1; i < n; {
		if !pairByte[buf[i]] {
			known = i + 1
			i += PairLen
			continue
		}
		p, r := pairRun(buf, i, known)
		if m, ok := matchRun(buf, p, r, notifyContext); ok {
			if !fn(m) {
				return
			}
		}
		known = r
		i = r + PairLen
	}
}

// pairRun is the run buf[p:r] of pair bytes around the pair byte buf[i],
// not reaching before known.
func pairRun(buf []byte, i, known int) (p, r int) {
	p = i
	for p > known && pairByte[buf[p-1]] {
		p--
	}
	r = i + 1
	for r < len(buf) && pairByte[buf[r]] {
		r++
	}
	return p, r
}

// matchRun looks for a key whose service-id/secret pair ends the run
// buf[p:r] of pair bytes (trailing dashes aside).
func matchRun(buf []byte, p, r int, notifyContext bool) (Match, bool) {
	e := r
	for e > p && buf[e-1] == '-' {
		e--
	}
	s := e - PairLen
	if s < p || !isPair(buf[s:e]) || !boundaryAfter(buf, r) {
		return Match{}, false
	}
	ks, prefixed, ok := keyStart(buf, s)
	if !ok {
		return Match{}, false
	}
	k, err := ParseKey(string(buf[ks:e]))
	if err != nil {
		return Match{}, false
	}
	if _, ok := Placeholder(k); ok {
		return Match{}, false
	}
	rule := CurrentKeyRule
	if !prefixed {
		if !notifyContext && !hasNotifyContext(buf, ks, e) {
			return Match{}, false
		}
		rule = LegacyKeyRule
	}
	return Match{Start: ks, End: e, Key: k, Rule: rule}, true
}

// boundaryAfter reports whether a key may end just before buf[r]: the end of
// the buffer, or a byte that cannot continue a name or hex string.
func boundaryAfter(buf []byte, r int) bool {
	if r >= len(buf) {
		return true
	}
	c := buf[r]
	if c < utf8.RuneSelf {
		return !nameASCII[c]
	}
	rn, _ := utf8.DecodeRune(buf[r:])
	return !(unicode.IsLetter(rn) || unicode.IsNumber(rn))
}

// keyStart walks left from the pair at s over name characters and returns
// where the key starts, and whether it carries the gcntfy prefix. A pair glued
// to a preceding letter or digit is no key (ok false).
func keyStart(buf []byte, s int) (start int, prefixed, ok bool) {
	if s == 0 {
		return 0, false, true
	}
	if buf[s-1] != '-' {
		rn, _ := utf8.DecodeLastRune(buf[max(0, s-utf8.UTFMax):s])
		return s, false, !nameRune(rn)
	}
	// Walk over at most len(Prefix)+MaxNameLen characters.
	t := s - 1
	for count := 0; t > 0 && count < len(Prefix)+MaxNameLen; count++ {
		c := buf[t-1]
		if c < utf8.RuneSelf {
			if !nameASCII[c] {
				break
			}
			t--
			continue
		}
		lo := max(0, t-utf8.UTFMax)
		rn, size := utf8.DecodeLastRune(buf[lo:t])
		if !nameRune(rn) {
			break
		}
		t -= size
	}
	tok := buf[t:s]
	for off := 0; ; {
		j := bytes.Index(tok[off:], []byte("gcntfy"))
		if j < 0 {
			break
		}
		j += off
		if j+len(Prefix) <= len(tok) && (tok[j+6] == '-' || tok[j+6] == '_') {
			return t + j, true, true
		}
		off = j + 1
	}
	return t, false, true
}

// hasNotifyContext reports whether "notif" (any case) or "gcntfy" stands within
// LegacyWindow bytes of buf[ks:e].
func hasNotifyContext(buf []byte, ks, e int) bool {
	lo := max(0, ks-LegacyWindow)
	hi := min(len(buf), e+LegacyWindow)
	return containsFold(buf[lo:hi], "notif") || bytes.Contains(buf[lo:hi], []byte("gcntfy"))
}

// containsFold reports whether b holds word (lowercase ASCII) in any case.
func containsFold(b []byte, word string) bool {
	first := word[0]
	for i := 0; i+len(word) <= len(b); i++ {
		if b[i]|0x20 != first {
			continue
		}
		ok := true
		for j := 1; j < len(word); j++ {
			if b[i+j]|0x20 != word[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
