package notifytest

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// FaultKind is a way for the server to misbehave.
type FaultKind int

// The faults. Each replaces the normal answer, except FaultSlow which delays it.
const (
	// FaultTooManyRequests answers 429 with a JSON rate-limit body and the
	// WAF's "waf-block" header, plus Retry-After when Fault.RetryAfter is set.
	FaultTooManyRequests FaultKind = iota + 1
	// FaultServerError answers 500 with a JSON body.
	FaultServerError
	// FaultUnavailable answers 503 (Retry-After when set) with an HTML body.
	FaultUnavailable
	// FaultFirewall answers 403 with an HTML page, as the WAF does for
	// sources outside Canada and the US.
	FaultFirewall
	// FaultNoContent answers 204 with no body.
	FaultNoContent
	// FaultReset hijacks the connection and resets it (TCP RST).
	FaultReset
	// FaultHang never answers: it waits until the client gives up.
	FaultHang
	// FaultSlow waits Fault.Delay, then answers normally.
	FaultSlow
	// FaultNotJSON answers 200 with an HTML body (a captive portal).
	FaultNotJSON
	// FaultRedirect answers 302 to another host.
	FaultRedirect
)

// Fault is an injected misbehaviour.
type Fault struct {
	Kind FaultKind
	// Times is how many requests the fault hits; 0 means every request
	// until ClearFaults.
	Times int
	// RetryAfter is the Retry-After header value for 429 and 503 ("" for none).
	RetryAfter string
	// Delay is FaultSlow's delay.
	Delay time.Duration
	// Path limits the fault to requests whose path starts with it ("" for all).
	Path string
}

// Inject adds a fault. Faults apply in the order injected: a request takes
// the first one whose Path matches and that has requests left.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// nextFault picks and consumes the fault for a request. s.mu must be held.
func (s *Server) nextFault(path string) *Fault {
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		c := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

// applyFault answers r according to f; it reports false when the request
// should then be served normally (FaultSlow).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultSlow:
		s.wait(r, f.Delay)
		return false
	case FaultTooManyRequests:
		w.Header().Set("waf-block", "true")
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, http.StatusTooManyRequests, v2Error(http.StatusTooManyRequests, "RateLimitError",
			"Exceeded rate limit for key type live of 1000 requests per 60 seconds"))
	case FaultServerError:
		writeJSON(w, http.StatusInternalServerError, v2Error(http.StatusInternalServerError, "Internal server error", "Internal server error"))
	case FaultUnavailable:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeHTML(w, http.StatusServiceUnavailable, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
	case FaultFirewall:
		writeHTML(w, http.StatusForbidden, "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>")
	case FaultNoContent:
		w.WriteHeader(http.StatusNoContent)
	case FaultNotJSON:
		writeHTML(w, http.StatusOK, "<html><body>Please sign in to the network</body></html>")
	case FaultRedirect:
		w.Header().Set("Location", "https://elsewhere.invalid/v2/template/x")
		w.WriteHeader(http.StatusFound)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
	case FaultReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("notifytest: connection cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return true
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		_ = conn.Close()
	}
	return true
}

// wait sleeps d unless the request or the server ends first.
func (s *Server) wait(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.closing:
	}
}
