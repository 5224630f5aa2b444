package notifytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is the Notify flavour the server imitates.
type Mode int

const (
	// GCNotify: Bearer JWT and ApiKey-v1, "signature, api token not found",
	// and the SRE revoke endpoint.
	GCNotify Mode = iota
	// GOVUK: Bearer JWT only, "API key not found", no revoke endpoint.
	GOVUK
)

// DefaultSREUser is the SRE client user name the revoke endpoint expects.
const DefaultSREUser = "SRE_CLIENT_USER"

// Server is a local Notify API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port).
	URL string
	// SREUser and SRESecret authenticate the revoke endpoint (iss and HMAC
	// key). SRESecret is random per server.
	SREUser, SRESecret string

	mode    Mode
	srv     *httptest.Server
	closing chan struct{}

	mu          sync.Mutex
	now         func() time.Time
	latency     time.Duration
	services    map[string]*service
	faults      []*Fault
	requests    []Request
	perService  map[string]int
	perSecret   map[string]int
	revokeCalls map[string]int
	leaks       []Leak
	inFlight    int
	maxInFlight int
}

type service struct {
	id       string
	archived bool
	keys     []*apiKey
}

type apiKey struct {
	serviceID, secret string
	revoked           bool
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // URL path
	URL    string // request URI as sent (path and query)
	Header http.Header
	Body   []byte
	Time   time.Time
}

// Leak is one report accepted by the revoke endpoint for an existing key.
type Leak struct {
	Token, Type, URL, Source string
	ServiceID                string
}

// Option configures a Server.
type Option func(*Server)

// WithMode sets the Notify flavour (GCNotify by default).
func WithMode(m Mode) Option { return func(s *Server) { s.mode = m } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// New starts a server on loopback, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		SREUser:     DefaultSREUser,
		SRESecret:   randomSecret(),
		closing:     make(chan struct{}),
		now:         time.Now,
		services:    make(map[string]*service),
		perService:  make(map[string]int),
		perSecret:   make(map[string]int),
		revokeCalls: make(map[string]int),
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s) // binds 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing hung requests first. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SetNow sets the server's clock (for the +-30 s iat window).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLatency delays every answer by d from now on.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// AddService creates an active service with no API keys (if it does not
// exist yet).
func (s *Server) AddService(serviceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.service(serviceID)
}

// AddKey adds an active key to a service, creating the service if needed.
func (s *Server) AddKey(serviceID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.service(serviceID)
	sv.keys = append(sv.keys, &apiKey{serviceID: serviceID, secret: secret})
}

// Revoke revokes a key (as the admin UI does). It reports whether the key exists.
func (s *Server) Revoke(serviceID, secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.key(serviceID, secret); k != nil {
		k.revoked = true
		return true
	}
	return false
}

// Revoked reports whether a key exists and is revoked.
func (s *Server) Revoked(serviceID, secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.key(serviceID, secret)
	return k != nil && k.revoked
}

// ArchiveService archives (suspends) a service.
func (s *Server) ArchiveService(serviceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.service(serviceID).archived = true
}

func (s *Server) service(id string) *service {
	sv := s.services[id]
	if sv == nil {
		sv = &service{id: id}
		s.services[id] = sv
	}
	return sv
}

func (s *Server) key(serviceID, secret string) *apiKey {
	if sv := s.services[serviceID]; sv != nil {
		for _, k := range sv.keys {
			if k.secret == secret {
				return k
			}
		}
	}
	return nil
}

// keyBySecret finds a key by its secret alone, as GC Notify's
// get_api_key_by_secret does.
func (s *Server) keyBySecret(secret string) *apiKey {
	for _, sv := range s.services {
		for _, k := range sv.keys {
			if k.secret == secret {
				return k
			}
		}
	}
	return nil
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Count is the number of requests received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// CountService is the number of API requests whose token named serviceID
// (JWT iss, or the service of an ApiKey-v1 key).
func (s *Server) CountService(serviceID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perService[serviceID]
}

// CountSecret is the number of API requests authenticated (validly signed,
// whatever the verdict) with secret.
func (s *Server) CountSecret(secret string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perSecret[secret]
}

// MaxInFlight is the largest number of requests handled at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// RevokeCalls is the number of authenticated revoke calls whose token ended
// in secret, whether or not the key existed.
func (s *Server) RevokeCalls(secret string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeCalls[secret]
}

// Leaks returns the reports that revoked a key, in order.
func (s *Server) Leaks() []Leak {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Leak(nil), s.leaks...)
}

// ServeHTTP records the request, applies latency and faults, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, URL: r.RequestURI,
		Header: r.Header.Clone(), Body: body, Time: time.Now(),
	})
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	fault := s.nextFault(r.URL.Path)
	latency := s.latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	s.wait(r, latency)
	if fault != nil && s.applyFault(w, r, fault) {
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/v2/template/") && r.Method == http.MethodGet:
		s.serveTemplate(w, r)
	case r.URL.Path == "/sre-tools/api-key-revoke" && s.mode == GCNotify:
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"result": "error", "message": "The method is not allowed for the requested URL."})
			return
		}
		s.serveRevoke(w, r, body)
	default:
		// The WAF in front of GC Notify answers unknown paths with 204.
		w.WriteHeader(http.StatusNoContent)
	}
}

// serveTemplate answers GET /v2/template/<id>: authentication first, then
// 400 for an id that is not a UUID, else 404 NoResultFound (the server holds
// no templates).
func (s *Server) serveTemplate(w http.ResponseWriter, r *http.Request) {
	if e := s.authenticate(r); e != nil {
		writeJSON(w, e.code, v2Error(e.code, "AuthError", e.message))
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v2/template/")
	if !isUUID(strings.ToLower(id)) {
		writeJSON(w, http.StatusBadRequest, v2Error(http.StatusBadRequest, "ValidationError", "template_id is not a valid UUID"))
		return
	}
	writeJSON(w, http.StatusNotFound, v2Error(http.StatusNotFound, "NoResultFound", "No result found"))
}

func v2Error(code int, kind, message string) map[string]any {
	return map[string]any{
		"status_code": code,
		"errors":      []map[string]string{{"error": kind, "message": message}},
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeHTML(w http.ResponseWriter, code int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, page)
}
