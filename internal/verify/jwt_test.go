package verify

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSignJWT(t *testing.T) {
	// Computed independently (Python hmac + base64).
	const want = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9." +
		"eyJpc3MiOiI2ZTNiMWE1Ni01N2E5LTRjOWYtOWQ2ZS0yYjhiNDNjMWYwYTEiLCJpYXQiOjE3MDAwMDAwMDB9." +
		"MHesAw_tZeKensMMRI2XgzmPpmqIREg29Qa4-kYp564"
	got := SignJWT("6e3b1a56-57a9-4c9f-9d6e-2b8b43c1f0a1", "9b2c7a51-0d3e-4f6a-8b1c-5e4d3c2b1a09", time.Unix(1700000000, 999))
	if got != want {
		t.Fatalf("SignJWT =\n%s\nwant\n%s", got, want)
	}
	parts := strings.Split(got, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(h) != `{"typ":"JWT","alg":"HS256"}` {
		t.Errorf("header %s", h)
	}
	if string(c) != `{"iss":"6e3b1a56-57a9-4c9f-9d6e-2b8b43c1f0a1","iat":1700000000}` {
		t.Errorf("claims %s (no exp, no aud)", c)
	}
}
