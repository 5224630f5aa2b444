package verify

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateHost(t *testing.T) {
	ok := map[string]string{
		"https://api.notification.canada.ca":         "https://api.notification.canada.ca",
		"https://api.notification.canada.ca/":        "https://api.notification.canada.ca",
		"https://proxy.example/notify/":              "https://proxy.example/notify",
		"http://127.0.0.1:8080":                      "http://127.0.0.1:8080",
		"http://127.9.9.9":                           "http://127.9.9.9",
		"http://[::1]:9000/":                         "http://[::1]:9000",
		"http://localhost:1234":                      "http://localhost:1234",
		"  https://api.notifications.service.gov.uk": "https://api.notifications.service.gov.uk",
	}
	for in, want := range ok {
		got, err := ValidateHost(in)
		if err != nil || got != want {
			t.Errorf("ValidateHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"http://api.notification.canada.ca": "only https",
		"http://10.0.0.1":                   "only https",
		"http://localhost.example.com":      "only https",
		"ftp://127.0.0.1":                   "scheme",
		"api.notification.canada.ca":        "scheme",
		"https://":                          "no host",
		"https://u:pw@example.com":          "credentials",
		"https://example.com/?x=1":          "query",
		"https://example.com/#f":            "fragment",
		"://":                               "not a URL",
	}
	for in, want := range bad {
		_, err := ValidateHost(in)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBadHost) {
			t.Errorf("ValidateHost(%q) error = %v, want one saying %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("ValidateHost(%q) error repeats the password: %v", in, err)
		}
	}
	if _, err := New("v", "http://example.com"); err == nil {
		t.Error("New accepted a plain-http remote host")
	}
	c, err := New("1.2.3")
	if err != nil || len(c.Hosts) != 1 || c.Hosts[0] != GCNotify || c.FallbackHosts[0] != GOVUKNotify {
		t.Errorf("New defaults: %+v, %v", c, err)
	}
	if c.UserAgent != "notifyscan/1.2.3 (+https://github.com/cds-snc/notifyscan)" {
		t.Errorf("UserAgent %q", c.UserAgent)
	}
}
