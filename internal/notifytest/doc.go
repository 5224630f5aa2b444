// Package notifytest is a faithful local Notify API for tests: an
// httptest server on loopback that authenticates like GC Notify (or GOV.UK
// Notify), answers GET /v2/template/<id> with the same bodies and messages,
// implements GC Notify's POST /sre-tools/api-key-revoke, injects faults
// (latency, 429 with or without Retry-After, 5xx, firewall HTML, 204,
// connection resets, hangs) and records every request so tests can count
// them and check that no secret travelled.
//
// Messages and status codes follow app/authentication/auth.py and
// app/sre_tools in cds-snc/notification-api, and the GOV.UK differences in
// alphagov/notifications-api; see shared/notify-api.md.
package notifytest
