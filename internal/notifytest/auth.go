package notifytest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
)

// The messages of app/authentication/auth.py.
const (
	msgNoToken        = "Unauthorized, authentication token must be provided"
	msgBearerOnly     = "Unauthorized, authentication bearer scheme must be used"
	msgIssMissing     = "Invalid token: iss field not provided"
	msgTokenNotValid  = "Invalid token: signature, api token is not valid"
	msgServiceIDType  = "Invalid token: service id is not the right data type"
	msgServiceMissing = "Invalid token: service not found"
	msgServiceNoKeys  = "Invalid token: service has no API keys"
	msgArchived       = "Invalid token: service is archived"
	msgClockSkew      = "Error: Your system clock must be accurate to within 30 seconds"
	msgRevoked        = "Invalid token: API key revoked"
	msgNoSuchToken    = "Invalid token: signature, api token not found" // GC Notify
	msgKeyNotFound    = "Invalid token: API key not found"              // GOV.UK Notify; GC ApiKey-v1
	msgNotHS256       = "Invalid token: algorithm used is not HS256"    // GOV.UK Notify
	msgSREOnly        = "Unauthorized, sre authentication token required"
	msgSREJWTOnly     = "Invalid scheme: can only use JWT for sre authentication"
	msgSREExpired     = "Invalid token: expired, check that your system clock is accurate"

	keyPrefix = "gcntfy-"
	iatBound  = 30 // seconds either side of the server clock
)

type authError struct {
	code    int
	message string
}

func deny(code int, message string) *authError { return &authError{code: code, message: message} }

// scheme splits an Authorization header into "bearer", "apikey-v1" or "" and
// the credential.
func scheme(h string) (string, string) {
	switch {
	case len(h) >= 7 && strings.EqualFold(h[:7], "Bearer "):
		return "bearer", strings.TrimSpace(h[7:])
	case len(h) >= 10 && strings.EqualFold(h[:10], "ApiKey-v1 "):
		return "apikey-v1", strings.TrimSpace(h[10:])
	}
	return "", ""
}

// authenticate checks a service API key credential as requires_auth does.
func (s *Server) authenticate(r *http.Request) *authError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return deny(http.StatusUnauthorized, msgNoToken)
	}
	kind, cred := scheme(h)
	switch {
	case kind == "bearer":
		return s.authJWT(cred)
	case kind == "apikey-v1" && s.mode == GCNotify:
		return s.authAPIKey(cred)
	}
	return deny(http.StatusUnauthorized, msgBearerOnly)
}

// authJWT: issuer, service, then each of the service's keys in turn.
func (s *Server) authJWT(raw string) *authError {
	tok, err := parseToken(raw)
	if err != nil {
		return deny(http.StatusForbidden, msgTokenNotValid)
	}
	if tok.iss == nil {
		return deny(http.StatusForbidden, msgIssMissing)
	}
	iss := fmt.Sprint(tok.iss)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.perService[iss]++
	if !isUUID(strings.ToLower(iss)) {
		return deny(http.StatusForbidden, msgServiceIDType) // Postgres DataError
	}
	sv := s.services[strings.ToLower(iss)]
	switch {
	case sv == nil:
		return deny(http.StatusForbidden, msgServiceMissing)
	case len(sv.keys) == 0:
		return deny(http.StatusForbidden, msgServiceNoKeys)
	case sv.archived:
		return deny(http.StatusForbidden, msgArchived)
	}
	if tok.alg != "HS256" && s.mode == GOVUK {
		return deny(http.StatusForbidden, msgNotHS256)
	}
	for _, k := range sv.keys {
		if !tok.signedWith(k.secret) {
			continue // not this key's signature: try the next
		}
		s.perSecret[k.secret]++
		iat, ok := tok.issuedAt()
		if !ok {
			if tok.iat == nil {
				continue // TokenIssuedAtError is a TokenDecodeError
			}
			return deny(http.StatusForbidden, msgClockSkew) // InvalidIssuedAtError
		}
		now := s.now().Unix()
		if now > iat+iatBound || iat > now+iatBound {
			return deny(http.StatusForbidden, msgClockSkew)
		}
		if k.revoked {
			return deny(http.StatusForbidden, msgRevoked)
		}
		return nil
	}
	if s.mode == GOVUK {
		return deny(http.StatusForbidden, msgKeyNotFound)
	}
	return deny(http.StatusForbidden, msgNoSuchToken)
}

// authAPIKey: GC Notify's ApiKey-v1 scheme carries the whole key; the server
// requires the prefix, then looks the secret (last 36 characters) up.
func (s *Server) authAPIKey(cred string) *authError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(cred, keyPrefix) || len(cred) < 36 {
		return deny(http.StatusForbidden, msgKeyNotFound)
	}
	k := s.keyBySecret(cred[len(cred)-36:])
	if k == nil {
		return deny(http.StatusForbidden, msgKeyNotFound)
	}
	s.perService[k.serviceID]++
	s.perSecret[k.secret]++
	if s.services[k.serviceID].archived {
		return deny(http.StatusForbidden, msgArchived)
	}
	if k.revoked {
		return deny(http.StatusForbidden, msgRevoked)
	}
	return nil
}

// authSRE checks the revoke endpoint's credential (requires_sre_auth).
func (s *Server) authSRE(r *http.Request) *authError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return deny(http.StatusUnauthorized, msgNoToken)
	}
	kind, cred := scheme(h)
	switch kind {
	case "bearer":
	case "apikey-v1":
		return deny(http.StatusUnauthorized, msgSREJWTOnly)
	default:
		return deny(http.StatusUnauthorized, msgBearerOnly)
	}
	tok, err := parseToken(cred)
	if err != nil {
		return deny(http.StatusForbidden, msgTokenNotValid)
	}
	if tok.iss == nil {
		return deny(http.StatusForbidden, msgIssMissing)
	}
	if fmt.Sprint(tok.iss) != s.SREUser {
		return deny(http.StatusUnauthorized, msgSREOnly)
	}
	if !tok.signedWith(s.SRESecret) {
		return deny(http.StatusForbidden, msgTokenNotValid)
	}
	iat, ok := tok.issuedAt()
	s.mu.Lock()
	now := s.now().Unix()
	s.mu.Unlock()
	if !ok || now > iat+iatBound || iat > now+iatBound {
		return deny(http.StatusForbidden, msgSREExpired)
	}
	return nil
}

// isUUID reports whether s is a canonical lowercase UUID string.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// randomSecret is a random UUID-shaped secret.
func randomSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
