package verify

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The Notify API hosts verify knows.
const (
	// GCNotify is GC Notify production, the default host.
	GCNotify = "https://api.notification.canada.ca"
	// GCNotifyStaging is GC Notify staging.
	GCNotifyStaging = "https://api.staging.notification.cdssandbox.xyz"
	// GOVUKNotify is GOV.UK Notify, the default fallback for legacy keys.
	GOVUKNotify = "https://api.notifications.service.gov.uk"
)

// ValidateHost checks an API base URL and returns it normalised (no trailing
// slash). Only https is allowed, except for loopback addresses (127.0.0.0/8,
// ::1, localhost), which may use http so tests can run a local server. The URL
// may have a path prefix but no credentials, query or fragment.
func ValidateHost(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error quotes the input; an API URL is not a secret unless it
		// carries credentials, which Parse would have accepted.
		return "", newError(fmt.Sprintf("API URL is not a URL: %v", err), ErrBadHost)
	}
	switch {
	case u.User != nil:
		return "", newError(fmt.Sprintf("API URL %s must not carry credentials", u.Redacted()), ErrBadHost)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", newError(fmt.Sprintf("API URL %q: scheme must be https", raw), ErrBadHost)
	case u.Host == "" || u.Hostname() == "":
		return "", newError(fmt.Sprintf("API URL %q has no host", raw), ErrBadHost)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", newError(fmt.Sprintf("API URL %q must not have a query or fragment", raw), ErrBadHost)
	case u.Opaque != "":
		return "", newError(fmt.Sprintf("API URL %q is not a base URL", raw), ErrBadHost)
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return "", newError(fmt.Sprintf("API URL %q: only https is allowed (http only for loopback addresses: 127.0.0.0/8, ::1, localhost)", raw), ErrBadHost)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// IsLoopback reports whether host (a host name or IP address, without port
// or brackets) is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateHosts validates and normalises a list of API URLs.
func validateHosts(hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		n, err := ValidateHost(h)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
