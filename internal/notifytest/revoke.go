package notifytest

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// serveRevoke is POST /sre-tools/api-key-revoke: one JSON object with token,
// type, url and source (a list, or a missing field, is 400 "Invalid
// payload"); a token that names an existing key revokes it, records the
// leak and answers 201, every time, revoked already or not; any other token
// answers 200 and nothing happens.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request, body []byte) {
	if e := s.authSRE(r); e != nil {
		writeJSON(w, e.code, map[string]any{"result": "error", "message": map[string][]string{"token": {e.message}}})
		return
	}
	var payload map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&payload); err != nil || payload == nil {
		invalidPayload(w)
		return
	}
	fields := map[string]string{}
	for _, f := range []string{"token", "type", "url", "source"} {
		v, ok := payload[f]
		if !ok || v == nil {
			invalidPayload(w)
			return
		}
		fields[f], _ = v.(string)
	}
	tok := fields["token"]

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(tok) >= 36 {
		s.revokeCalls[tok[len(tok)-36:]]++
	}
	var k *apiKey
	if len(tok) >= len(keyPrefix)+36 && tok[:len(keyPrefix)] == keyPrefix {
		k = s.keyBySecret(tok[len(tok)-36:])
	}
	if k == nil {
		writeJSON(w, http.StatusOK, map[string]string{"result": "ok"})
		return
	}
	k.revoked = true
	s.leaks = append(s.leaks, Leak{Token: tok, Type: fields["type"], URL: fields["url"], Source: fields["source"], ServiceID: k.serviceID})
	writeJSON(w, http.StatusCreated, map[string]string{"result": "ok"})
}

func invalidPayload(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"result": "error", "message": "Invalid payload"})
}
