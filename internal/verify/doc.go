// Package verify asks a Notify API whether a key is live, without ever sending
// the secret: it signs a short JWT with the secret and calls the harmless
// GET /v2/template/<nil uuid>, then reads the answer into one of the statuses
// of rules.Status.
//
// It owns the JWT, the mapping from API answers to statuses, the host list
// (GC Notify first, GOV.UK Notify as a fallback for legacy keys), retries with
// backoff, per-request timeouts, bounded concurrency and deduplication by
// fingerprint. It never calls /v2/notifications nor sends a POST, and every
// message and error it returns is scrubbed of the secret, the full key and the
// JWT.
//
// An answer that cannot be trusted (429, 5xx, timeouts, DNS or TLS errors,
// firewall pages, empty or non-JSON bodies) is StatusUnknown, never invalid or
// revoked.
package verify
