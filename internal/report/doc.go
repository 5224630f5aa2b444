// Package report owns turning findings into reports: plain text for editors
// and terminals, a stable JSON document, SARIF 2.1.0 for code scanning,
// GitHub Actions annotations and a Markdown job summary.
//
// Every format is deterministic (the same Report gives the same bytes, in
// whatever order its findings arrive) and secret-free: keys appear only in
// their redacted form, and Write refuses to emit output that contains any
// finding's secret. WriteFile puts a report in place atomically, and
// ReadLocations reads a JSON or SARIF report back.
//
// # The JSON report, version 1
//
// The "json" format is one JSON object, indented by two spaces and ended by
// a newline. Every member below is always present; lists are [] when empty,
// never null; strings are "" when they do not apply. New members may be added
// without changing "version"; a member is never removed or given another
// meaning without a new version.
//
//	{
//	  "version": 1,                     // this schema
//	  "tool": {
//	    "name": "notifyscan",
//	    "version": "1.2.3",
//	    "informationUri": "https://..."
//	  },
//	  "command": "git",                 // what was scanned: "dir", "git", "staged", "stdin", ...
//	  "verified": true,                 // verification ran, so "status" is an answer
//	  "findings": [                     // in report order (rules.Sort)
//	    {
//	      "rule": "notify-api-key",     // rules.Rule ID
//	      "path": "config/prod.env",    // slash-separated, relative to the scan root; "-" is stdin;
//	                                    // for an archive member, the archive
//	      "line": 3,                    // 1-based
//	      "column": 16,                 // 1-based, in Unicode code points
//	      "endColumn": 97,              // one past the key's last character
//	      "key": "gcntfy-prod-<service_id>-3d84****-****-****-****-************",
//	      "name": "prod",               // the key's name ("" when it has none)
//	      "serviceId": "<service_id>",  // not a secret on its own
//	      "fingerprint": "nsfp1:...",   // one-way hash of service id and secret
//	      "status": "active",           // unverified, active, unknown, inactive, revoked, invalid
//	      "statusDetail": "...",        // the server's answer, or why there is none ("" unless verified)
//	      "statusHost": "...",          // the Notify API host that answered ("" unless verified)
//	      "encoding": "base64",         // how the key was hidden; "" for plain text
//	      "container": "a.zip!b/c.env", // archive member path; "" outside archives
//	      "tracking": "tracked",        // git status of a work-tree file: tracked, ignored, untracked
//	      "note": "",                   // for policy findings (notify-key-shared, notify-key-not-rotated): why
//	      "git": null                   // or, for history findings:
//	      // {
//	      //   "commit": "<40 hex>",    // a commit whose version of path has the key on line
//	      //   "author": "...", "authorEmail": "...",
//	      //   "date": "2024-01-02T03:04:05Z",   // RFC 3339, of the earliest introducing commit
//	      //   "commits": ["<40 hex>"],  // every commit that introduces the key in path
//	      //   "refs": ["refs/heads/main"],
//	      //   "atHead": false,          // the key is still in path at HEAD
//	      //   "blob": "<40 hex>",
//	      //   "message": false          // found in a commit or tag message, not a file
//	      // }
//	    }
//	  ],
//	  "ignored": 0,                     // findings suppressed by notifyscan:allow or .notifyscanignore
//	  "errors": ["..."],                // what could not be read, one line each, secret-free
//	  "stats": {"files": 0, "bytes": 0, "blobs": 0, "commits": 0}
//	}
//
// # SARIF
//
// The "sarif" format is one SARIF 2.1.0 log with exactly one run, meeting
// GitHub code scanning's rules. Every rule of rules.All is listed, in that
// order, so rule indexes are stable. Each result carries the redacted key in
// its message, never a snippet, and partialFingerprints
// {"notifyscan/v1": "<fingerprint>:<path>[!<member>]"}, which do not change
// when lines move. Level and security-severity follow the status:
//
//	status      level    security-severity
//	active      error    9.8
//	unknown     error    8.0
//	unverified  error    the rule's Severity (9.0 current keys, 8.5 legacy)
//	inactive    warning  3.9
//	revoked     warning  2.0
//	invalid     note     1.0
//
// Revoked, invalid and inactive keys remain results because the rule is "no
// keys in source", whatever their state.
package report
