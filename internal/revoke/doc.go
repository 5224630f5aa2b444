// Package revoke reports leaked GC Notify keys to GC Notify's operations
// staff for revocation, through POST /sre-tools/api-key-revoke, as GitHub's
// secret-scanning partner program does.
//
// Every call to that endpoint revokes the key again and emails every user of
// the service again (it has no "already revoked" check), so Run is careful:
//
//   - It re-verifies every distinct key (verify.Client) and sends only keys
//     that are active now, to the GC Notify host that said so. Revoked,
//     invalid, inactive and unknown keys are never sent, nor keys active on
//     a fallback host (GOV.UK Notify), which belong to another operator.
//   - It is a dry run unless Options.Yes is set: it then returns what it
//     would send, with the token redacted.
//   - It sends each key at most once ever, recorded in a journal (below).
//   - It never retries a POST: a second POST could revoke and email twice.
//
// # The journal
//
// The journal is a file of JSON lines, one per event, holding fingerprints,
// redacted keys, hosts and outcomes: never a secret. Before each POST, Run
// appends {"state":"pending"} and fsyncs it; after the answer it appends the
// outcome and fsyncs again:
//
//	revoked         201: the key existed and is now revoked
//	not-a-real-key  200: Notify did not know the token; nothing was done
//	failed          the request was refused before it could act (400, 401,
//	                403, 404, 429, a connection that was never made):
//	                nothing was done
//	uncertain       no trustworthy answer (5xx, timeout, connection lost
//	                after sending): the key may have been revoked
//	resolved        an earlier pending or uncertain send, whose key a later
//	                run found revoked: done
//
// The last line for a fingerprint decides. revoked, not-a-real-key and
// resolved are final: the key is never sent again ("already-sent"). failed
// may be sent again by a later run. A pending line with no outcome after it
// (the process died between the two writes, so the POST may or may not have
// reached the server) and an uncertain outcome are treated alike: the key is
// re-verified; if it is now revoked the journal records "resolved"; if it is
// still active it is reported as "needs-manual-check" and not sent, unless
// Options.ForceResend is set (the CLI's --force-resend, for an operator who
// has checked with the GC Notify team). A key that still verifies active was
// not revoked by the earlier call, and GC Notify revokes before it emails, so
// forcing a resend then cannot revoke twice; it can email twice only if the
// earlier call died between the two, which the operator is asked to check.
//
// A lock file (journal path + ".lock", created exclusively) keeps two runs
// from sending at once; a run that dies leaves it behind, and the error
// names it. A torn last line (a write cut by a crash) is ignored: its fsync
// never returned, so the POST it announced was never made.
package revoke
