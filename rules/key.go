package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Prefix is the literal that starts every current GC Notify key.
const Prefix = "gcntfy-"

// displayPrefix is the underscore form the admin UI shows for some names.
const displayPrefix = "gcntfy_"

// MaxNameLen is the longest key name GC Notify accepts, in characters.
const MaxNameLen = 255

// Key is a parsed Notify API key: "gcntfy-<name>-<service_id>-<secret>"
// (current GC Notify) or "<name>-<service_id>-<secret>" (legacy GC Notify,
// GOV.UK Notify, Notify.gov).
//
// A Key never prints its secret: String, GoString, Format and MarshalJSON all
// give the redacted form. Secret and Reveal are the only ways to the secret,
// and exist for signing and for the revocation endpoint.
type Key struct {
	prefixed  bool
	name      string
	serviceID string
	secret    string
}

// ErrNotKey is wrapped by every ParseKey error.
var ErrNotKey = errors.New("not a Notify API key")

// ParseKey parses s, which must be exactly one key, from the right: the
// secret is the last 36 characters, the service id the 36 before the '-'
// that precedes it, and the name is what is left after the prefix. The
// "gcntfy_" display form is accepted and normalised to "gcntfy-". Errors
// never quote s.
func ParseKey(s string) (Key, error) {
	if len(s) < PairLen {
		return Key{}, fmt.Errorf("%w: too short (%d bytes)", ErrNotKey, len(s))
	}
	pair := s[len(s)-PairLen:]
	if !isPair([]byte(pair)) {
		return Key{}, fmt.Errorf("%w: does not end in <service_id>-<secret>", ErrNotKey)
	}
	k := Key{serviceID: pair[:UUIDLen], secret: pair[UUIDLen+1:]}
	head := s[:len(s)-PairLen]
	if strings.HasPrefix(head, Prefix) || strings.HasPrefix(head, displayPrefix) {
		k.prefixed = true
		head = head[len(Prefix):]
	}
	if head != "" {
		if head[len(head)-1] != '-' {
			return Key{}, fmt.Errorf("%w: missing '-' before the service id", ErrNotKey)
		}
		k.name = head[:len(head)-1]
	}
	if !validName(k.name) {
		return Key{}, fmt.Errorf("%w: name has characters Notify never puts in a key name", ErrNotKey)
	}
	if k.prefixed && utf8.RuneCountInString(k.name) > MaxNameLen {
		return Key{}, fmt.Errorf("%w: name longer than %d characters", ErrNotKey, MaxNameLen)
	}
	return k, nil
}

// validName reports whether every rune of name is a letter, a digit, '_' or '-'.
func validName(name string) bool {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if !nameASCII[c] {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		if !nameRune(r) {
			return false
		}
		i += n
	}
	return true
}

var nameASCII = func() (t [128]bool) {
	for c := 0; c < 128; c++ {
		r := rune(c)
		t[c] = r == '_' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	}
	return t
}()

func nameRune(r rune) bool {
	if r < utf8.RuneSelf {
		return nameASCII[r]
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r))
}

// Prefixed reports whether the key has the current "gcntfy-" form.
func (k Key) Prefixed() bool { return k.prefixed }

// Name is the key's name as written (possibly empty).
func (k Key) Name() string { return k.name }

// ServiceID is the service the key belongs to; not a secret on its own.
func (k Key) ServiceID() string { return k.serviceID }

// Secret is the 36-character secret. Use it to sign, never to print.
func (k Key) Secret() string { return k.secret }

// Reveal returns the whole key, normalised to "gcntfy-" when prefixed. Only
// the revocation endpoint and the ApiKey-v1 scheme need it.
func (k Key) Reveal() string {
	return k.head() + k.serviceID + "-" + k.secret
}

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return k.secret == "" }

func (k Key) head() string {
	switch {
	case k.prefixed:
		return Prefix + k.name + "-"
	case k.name != "":
		return k.name + "-"
	}
	return ""
}

// Redacted is the key with all but the first four characters of the secret
// masked: "gcntfy-name-<service_id>-3d84****-****-****-****-************".
func (k Key) Redacted() string {
	if k.IsZero() {
		return ""
	}
	return k.head() + k.serviceID + "-" + RedactSecret(k.secret)
}

// RedactSecret masks all of a 36-character secret but its first four hex digits.
func RedactSecret(secret string) string {
	if len(secret) < 4 {
		return "****"
	}
	return secret[:4] + "****-****-****-****-************"
}

// Fingerprint identifies the key (service id and secret; the name is never
// checked by Notify, so it is left out) with a one-way hash: the same key has
// the same fingerprint in every file, commit and repository, and the key
// cannot be recovered from it. Format: "nsfp1:" and 32 hex digits.
func (k Key) Fingerprint() string {
	if k.IsZero() {
		return ""
	}
	return FingerprintOf(k.serviceID, k.secret)
}

// FingerprintOf is Key.Fingerprint for a service id and secret.
func FingerprintOf(serviceID, secret string) string {
	h := sha256.Sum256([]byte("notifyscan-fingerprint-v1\x00" + serviceID + "\x00" + secret))
	return "nsfp1:" + hex.EncodeToString(h[:16])
}

// String returns the redacted key.
func (k Key) String() string { return k.Redacted() }

// GoString returns the redacted key, so %#v cannot leak the secret.
func (k Key) GoString() string { return fmt.Sprintf("rules.Key(%q)", k.Redacted()) }

// Format prints the redacted key for every verb.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.Redacted())
}

// MarshalJSON encodes the redacted key as a JSON string.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.Redacted()) }

// MarshalText encodes the redacted key.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.Redacted()), nil }
