package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// MakeToken builds a JWT from any header and claims, signed with HMAC-SHA256
// keyed by secret (the signature is computed whatever header["alg"] says, so
// tests can forge "none" or "HS512" tokens). It exists to test the server.
func MakeToken(header, claims map[string]any, secret string) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// token is a JWT read without checking its signature.
type token struct {
	alg     string
	iss     any // the claim as decoded; nil when absent
	iat     any // the claim as decoded; nil when absent
	signing string
	sig     []byte
}

var errDecode = errors.New("token does not decode")

// parseToken reads a compact JWT without verifying it, as PyJWT's
// get_unverified_claims does for the issuer.
func parseToken(s string) (*token, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, errDecode
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return nil, errDecode
	}
	cb, err := enc.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errDecode
	}
	sig, err := enc.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return nil, errDecode
	}
	var header map[string]any
	var claims map[string]any
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return nil, errDecode
	}
	t := &token{signing: parts[0] + "." + parts[1], sig: sig, iss: claims["iss"], iat: claims["iat"]}
	t.alg, _ = header["alg"].(string)
	return t, nil
}

// signedWith reports whether the token is HS256 and signed with secret.
func (t *token) signedWith(secret string) bool {
	if t.alg != "HS256" {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t.signing))
	return hmac.Equal(mac.Sum(nil), t.sig)
}

// issuedAt is the iat claim in unix seconds.
func (t *token) issuedAt() (int64, bool) {
	v, ok := t.iat.(float64) // PyJWT insists on a number
	return int64(v), ok
}
