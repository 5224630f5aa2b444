package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/cds-snc/notifyscan/rules"
)

// attempt sends one GET /v2/template/<nil uuid> signed for k and reads the
// answer. Everything it returns is scrubbed.
func (s *settings) attempt(ctx context.Context, host string, k rules.Key, sc *scrubber) answer {
	tok := SignJWT(k.ServiceID(), k.Secret(), s.Now())
	sc.addToken(tok)

	rctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, host+probeTemplatePath, nil)
	if err != nil {
		return answer{err: newError("cannot build request: "+sc.scrub(err.Error()), ErrBadHost)}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", s.UserAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := s.http.Do(req)
	if err != nil {
		return s.transportAnswer(ctx, rctx, err, sc)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		a := s.transportAnswer(ctx, rctx, err, sc)
		a.http = resp.StatusCode
		return a
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return answer{http: resp.StatusCode, err: newError(fmt.Sprintf("%d redirect: not followed, not a Notify API answer", resp.StatusCode), ErrAnswer)}
	}
	return classify(resp.StatusCode, resp.Header, body, sc, s.Now())
}

// transportAnswer explains a request that got no (complete) answer. ctx is
// the caller's context, rctx the request's (with the per-request timeout).
func (s *settings) transportAnswer(ctx, rctx context.Context, err error, sc *scrubber) answer {
	if cerr := ctx.Err(); cerr != nil {
		return answer{err: newError(ctxReason(cerr), cerr)}
	}
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		name    x509.HostnameError
		verr    *tls.CertificateVerificationError
		rec     tls.RecordHeaderError
	)
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()):
		return answer{retry: true, err: newError(fmt.Sprintf("timeout after %s", s.Timeout), ErrTimeout, context.DeadlineExceeded)}
	case errors.As(err, &dnsErr):
		msg := "DNS lookup failed for " + dnsErr.Name
		if dnsErr.IsNotFound {
			msg += ": no such host"
		}
		return answer{retry: dnsErr.IsTemporary, err: newError(msg, ErrTransport)}
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &name), errors.As(err, &verr):
		return answer{err: newError("TLS certificate not trusted: "+sc.scrub(innerError(err)), ErrTransport)}
	case errors.As(err, &rec):
		return answer{err: newError("TLS handshake failed: the server does not speak TLS", ErrTransport)}
	case errors.Is(err, syscall.ECONNRESET):
		return answer{retry: true, err: newError("connection reset by peer", ErrTransport)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return answer{retry: true, err: newError("connection refused", ErrTransport)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return answer{retry: true, err: newError("connection closed before a complete answer", ErrTransport)}
	}
	return answer{err: newError("request failed: "+sc.scrub(innerError(err)), ErrTransport)}
}

// innerError is the text of err without the url.Error wrapper (which repeats
// the method and URL).
func innerError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}
