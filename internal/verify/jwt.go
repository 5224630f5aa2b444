package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// jwtHeader is the fixed header Notify's clients send, in their byte order.
const jwtHeader = `{"typ":"JWT","alg":"HS256"}`

// SignJWT returns the HS256 JWT that Notify accepts for a key: header
// {"typ":"JWT","alg":"HS256"}, claims {"iss": serviceID, "iat": iat in unix
// seconds}, signed with the UTF-8 bytes of the 36-character secret. There is
// no exp and no aud: Notify checks iat against its own clock (+-30 s).
//
// The token proves knowledge of the secret without disclosing it, but it is
// itself a credential for 30 seconds: never print or log it.
func SignJWT(serviceID, secret string, iat time.Time) string {
	enc := base64.RawURLEncoding
	// The claims are built by hand so their order is fixed.
	iss, _ := json.Marshal(serviceID) // a string always marshals
	claims := `{"iss":` + string(iss) + `,"iat":` + strconv.FormatInt(iat.Unix(), 10) + `}`
	signing := enc.EncodeToString([]byte(jwtHeader)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}
