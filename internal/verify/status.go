package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cds-snc/notifyscan/rules"
)

// The messages Notify's API gives (app/authentication/auth.py in GC Notify
// and GOV.UK Notify).
const (
	MsgRevoked          = "Invalid token: API key revoked"
	MsgClockSkew        = "Error: Your system clock must be accurate to within 30 seconds"
	MsgNoSuchToken      = "Invalid token: signature, api token not found" // GC Notify, JWT
	MsgKeyNotFound      = "Invalid token: API key not found"              // GOV.UK Notify JWT; GC Notify ApiKey-v1
	MsgServiceNotFound  = "Invalid token: service not found"
	MsgServiceNoKeys    = "Invalid token: service has no API keys"
	MsgServiceIDType    = "Invalid token: service id is not the right data type"
	MsgServiceArchived  = "Invalid token: service is archived"
	errorNoResultFound  = "NoResultFound"
	probeTemplatePath   = "/v2/template/00000000-0000-0000-0000-000000000000"
	maxBodyBytes        = 64 << 10
	nonJSONFirewallHint = "likely a firewall or proxy page"
)

// verdicts maps each 403 message that says something about the key to its
// status. Messages are compared exactly, after trimming spaces.
var verdicts = map[string]rules.Status{
	MsgRevoked:          rules.StatusRevoked,
	MsgNoSuchToken:      rules.StatusInvalid,
	MsgKeyNotFound:      rules.StatusInvalid,
	"API key not found": rules.StatusInvalid,
	MsgServiceNotFound:  rules.StatusInvalid,
	MsgServiceNoKeys:    rules.StatusInvalid,
	MsgServiceIDType:    rules.StatusInvalid,
	MsgServiceArchived:  rules.StatusInactive,
}

// answer is what one request told: a verdict, or why there is none.
type answer struct {
	status  rules.Status // a verdict; "" when there is none
	http    int
	message string
	clock   bool          // the clock-skew 403: genuine secret, retry
	retry   bool          // worth asking again (429, 5xx, transient network errors)
	after   time.Duration // the server's Retry-After, 0 if none
	err     error         // why there is no verdict (scrubbed)
}

// apiBody is the part of a Notify v2 error body verify reads.
type apiBody struct {
	StatusCode int `json:"status_code"`
	Errors     []struct {
		Error   string `json:"error"`
		Message any    `json:"message"`
	} `json:"errors"`
}

// classify reads one HTTP answer. now is used for an HTTP-date Retry-After.
func classify(code int, h http.Header, body []byte, sc *scrubber, now time.Time) answer {
	a := answer{http: code}
	var b apiBody
	isJSON := jsonObject(h, body, &b)
	if isJSON && len(b.Errors) > 0 {
		if m, ok := b.Errors[0].Message.(string); ok {
			a.message = sc.message(m)
		}
	}
	switch {
	case code == http.StatusNoContent:
		a.err = newError("204 No Content: not a Notify API answer", ErrAnswer)
	case code == http.StatusTooManyRequests || code >= 500:
		a.retry = true
		a.after = retryAfter(h.Get("Retry-After"), now)
		a.err = newError(httpText(code, a.message), ErrAnswer)
	case !isJSON:
		a.err = newError(fmt.Sprintf("%d with a non-JSON body (%s), %s", code, contentType(h), nonJSONFirewallHint), ErrAnswer)
	case code >= 200 && code < 300:
		a.status = rules.StatusActive
	case code == http.StatusNotFound:
		if len(b.Errors) > 0 && b.Errors[0].Error == errorNoResultFound {
			a.status = rules.StatusActive
		} else {
			a.err = newError(httpText(code, a.message)+" without NoResultFound: not the Notify API?", ErrAnswer)
		}
	case code == http.StatusForbidden:
		msg := strings.TrimSpace(a.message)
		if msg == MsgClockSkew {
			a.clock = true
		} else if st, ok := verdicts[msg]; ok {
			a.status = st
		} else {
			a.err = newError(httpText(code, a.message)+": not an answer about the key", ErrAnswer)
		}
	default:
		a.err = newError("unexpected "+httpText(code, a.message), ErrAnswer)
	}
	return a
}

// jsonObject reports whether body is a JSON object (whatever the declared
// Content-Type, unless it is plainly HTML) and decodes it into v.
func jsonObject(h http.Header, body []byte, v any) bool {
	if ct := contentType(h); strings.Contains(ct, "html") {
		return false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	return json.Unmarshal(body, v) == nil
}

func contentType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "no content type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return "bad content type"
}

// httpText is `429 "message"` or `429 Too Many Requests`.
func httpText(code int, message string) string {
	if message != "" {
		return fmt.Sprintf("%d %q", code, message)
	}
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}
