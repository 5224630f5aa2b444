package revoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/cds-snc/notifyscan/internal/verify"
)

// endpoint is GC Notify's revoke endpoint, relative to the API host.
const endpoint = "/sre-tools/api-key-revoke"

// TokenType is the "type" GC Notify (and GitHub) give current keys.
const TokenType = "cds_canada_notify_api_key"

// payload is the revoke endpoint's body.
type payload struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// outcome is what one POST did.
type outcome struct {
	action  Action
	state   string
	http    int
	message string
	err     error
}

// post sends one report. It never retries: a second POST could revoke and
// email twice.
func (r *runner) post(ctx context.Context, host string, body payload) outcome {
	sreJWT := verify.SignJWT(r.opts.SREUser, r.opts.SRESecret, r.opts.Now())
	scrub := strings.NewReplacer(body.Token, "[REDACTED]", body.Token[len(body.Token)-36:], "[REDACTED]",
		sreJWT, "[REDACTED]", r.opts.SRESecret, "[REDACTED]")

	b, err := json.Marshal(body)
	if err != nil {
		return outcome{action: Failed, state: stateFailed, err: err}
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, host+endpoint, bytes.NewReader(b))
	if err != nil {
		return outcome{action: Failed, state: stateFailed, err: errors.New(scrub.Replace(err.Error()))}
	}
	req.Header.Set("Authorization", "Bearer "+sreJWT)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", r.opts.UserAgent)
	resp, err := r.http.Do(req)
	if err != nil {
		msg := errors.New(scrub.Replace(innerError(err)))
		if neverSent(err) {
			return outcome{action: Failed, state: stateFailed, err: msg}
		}
		return outcome{action: Uncertain, state: stateUncertain, err: msg}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	o := outcome{http: resp.StatusCode, message: shorten(scrub.Replace(answerMessage(raw)))}
	switch c := resp.StatusCode; {
	case c == http.StatusCreated:
		o.action, o.state = Revoked, stateRevoked
	case c == http.StatusOK:
		o.action, o.state = NotAKey, stateNotAKey
	case c >= 400 && c < 500:
		// Refused before the endpoint acted: bad payload, SRE
		// authentication, the firewall, rate limiting, wrong host.
		o.action, o.state = Failed, stateFailed
	default:
		// 5xx (GC Notify revokes before it emails, so an error may come
		// after the revocation), 3xx, anything else.
		o.action, o.state = Uncertain, stateUncertain
	}
	return o
}

// neverSent reports whether err proves the request never reached a server
// (the connection was never made).
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// answerMessage is the message of a JSON answer ({"result":..,"message":..}),
// or a short excerpt of anything else.
func answerMessage(raw []byte) string {
	var v struct {
		Result  string `json:"result"`
		Message any    `json:"message"`
	}
	if json.Unmarshal(raw, &v) == nil {
		switch m := v.Message.(type) {
		case string:
			return m
		case nil:
			return v.Result
		default:
			b, _ := json.Marshal(m)
			return string(b)
		}
	}
	return string(raw)
}

// shorten makes a message one short line of valid UTF-8.
func shorten(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}

// innerError is err's text without the url.Error wrapper.
func innerError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}
