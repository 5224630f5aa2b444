package verify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cds-snc/notifyscan/rules"
)

// redacted replaces a secret in scrubbed text.
const redacted = "[REDACTED]"

// maxMessage bounds a server message kept on a Result, in bytes.
const maxMessage = 300

// scrubber removes one key's secret material from text: the full key, the
// secret (in either case) and every JWT signed with it.
type scrubber struct {
	secrets []string
}

func newScrubber(k rules.Key) *scrubber {
	s := &scrubber{}
	if !k.IsZero() {
		s.add(k.Reveal())
		s.add(k.Secret())
		s.add(strings.ToUpper(k.Secret()))
	}
	return s
}

// addToken registers a JWT: the whole token and its signature, which is
// enough to replay it.
func (s *scrubber) addToken(tok string) {
	s.add(tok)
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		s.add(tok[i+1:])
	}
}

func (s *scrubber) add(secret string) {
	if len(secret) >= 8 {
		s.secrets = append(s.secrets, secret)
	}
}

// scrub returns text without any registered secret. Longer secrets are
// replaced first (the full key before the secret it contains).
func (s *scrubber) scrub(text string) string {
	for _, sec := range s.secrets {
		text = strings.ReplaceAll(text, sec, redacted)
	}
	return text
}

// message cleans a server message for a Result: scrubbed, control
// characters turned into spaces, trimmed and cut to maxMessage bytes.
func (s *scrubber) message(text string) string {
	text = s.scrub(text)
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	if len(text) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "..."
	}
	return text
}
