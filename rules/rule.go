package rules

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Rule is one kind of finding, with the words reports show for it and the
// samples that prove it: every True sample must be found by the rule and no
// False sample may be. Samples are templates: {SID}, {SECRET} and {UUID} are
// replaced by fresh random UUIDs when checked, so no realistic key is ever
// written into the source.
type Rule struct {
	ID          string   // stable id, e.g. "notify-api-key"
	Name        string   // PascalCase name for SARIF
	Short       string   // one sentence
	Full        string   // a paragraph
	Help        string   // Markdown: how to fix
	Tags        []string // sorted
	Severity    float64  // GitHub security-severity of an unverified finding
	Precision   string   // SARIF precision: very-high, high, medium, low
	True, False []string
}

const fixHelp = `**Treat the key as compromised.** A key that reached a repository has been copied to every clone, fork, CI cache and backup of it; deleting the line does not un-leak it.

1. **Revoke the key** in GC Notify: *API integration* > *API keys* > *Revoke* (GOV.UK Notify and Notify.gov have the same page). Create a new key if the service still needs one, one key per system or third party.
2. **Store the new key in a secret manager** (AWS Secrets Manager or SSM Parameter Store, Azure Key Vault, Google Secret Manager, GitHub Actions secrets) and read it from the environment at run time. Never commit it, not even in an ignored ` + "`.env`" + ` file that could be committed by mistake.
3. **Purge it from history** once revoked (` + "`git filter-repo --replace-text`" + ` or BFG), force-push, and ask everyone with a clone to re-clone. Revoking comes first: purging without revoking leaves the key usable.
4. If the key is a false positive (an example, a fixture), add ` + "`notifyscan:allow`" + ` to the line or its fingerprint to ` + "`.notifyscanignore`" + `.

notifyscan never shows the secret: reports carry the key's name, service id, the first four characters of its secret and a one-way fingerprint.`

// CurrentKeyRule finds current GC Notify keys, "gcntfy-<name>-<service_id>-<secret>".
var CurrentKeyRule = &Rule{
	ID:    "notify-api-key",
	Name:  "GCNotifyAPIKey",
	Short: "GC Notify API key in plain text",
	Full: "A GC Notify API key (gcntfy-<name>-<service_id>-<secret>) is stored in plain text. " +
		"Anyone who can read it can send email and SMS as the service and read its notifications, " +
		"including recipients' personal information. GC Notify's rules: never keep keys in a source " +
		"repository, keep them in an encrypted store, one key per third party, rotate and revoke regularly.",
	Help:      fixHelp,
	Tags:      []string{"gc-notify", "secret", "security"},
	Severity:  9.0,
	Precision: "very-high",
	True: []string{
		"NOTIFY_API_KEY=gcntfy-prod-{SID}-{SECRET}",
		"export API_KEY=\"gcntfy--{SID}-{SECRET}\"\n",
		"key: 'gcntfy-my-prod-key-{SID}-{SECRET}'",
		"gcntfy_-leading-{SID}-{SECRET}",
		"client = NotificationsAPIClient(\"gcntfy-日本語-{SID}-{SECRET}\")",
		"https://example.org/hook?key=gcntfy-k-{SID}-{SECRET}&x=1",
		"gcntfy-{UUID}-{SID}-{SECRET}\r\n",
		"a=gcntfy-a-{SID}-{SECRET},b=gcntfy-b-{SECRET}-{SID}",
		"\x00\x01binary\x00gcntfy-bin-{SID}-{SECRET}\x00",
	},
	False: []string{
		"gcntfy-my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0",
		"gcntfy-notAKey-f6c7cc49-b5b7-4e67-a8ff-24f34be34523-f6c7cc49-b5b7-4e67-a8ff-24f34be34523",
		"gcntfy-same-{SID}-{SID}",
		"gcntfy-github-test-revoked-01-{SID}-{SECRET}",
		"gcntfy-zero-00000000-0000-0000-0000-000000000000-{SECRET}",
		"gcntfy-ones-{SID}-11111111-1111-1111-1111-111111111111",
		"gcntfy-upper-{SID}-3D844EDF-8D35-48AC-975B-E847B4F122B0",
		"gcntfy-keyname-{service_id}-{secret}",
		"gcntfy-key-name-uuid-uuid",
		"gcntfy-${NAME}-${SERVICE_ID}-${SECRET}",
		"gcntfy-trunc-{SID}-{SECRET}abc",
		"gcntfy-short-{SID}-3d844edf-8d35-48ac-975b-e847b4f122",
		"gcntfy-xs-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
	},
}

// LegacyKeyRule finds unprefixed keys, "<name>-<service_id>-<secret>", as
// issued by GC Notify before August 2022 and by GOV.UK Notify and Notify.gov.
// Format alone cannot tell them from other UUID pairs, so they are reported
// only with Notify context nearby.
var LegacyKeyRule = &Rule{
	ID:    "notify-legacy-api-key",
	Name:  "NotifyLegacyAPIKey",
	Short: "Notify API key (legacy or GOV.UK format) in plain text",
	Full: "A Notify API key without the gcntfy- prefix (<name>-<service_id>-<secret>) is stored in plain text. " +
		"Such keys were issued by GC Notify before August 2022 and are still issued by GOV.UK Notify and " +
		"Notify.gov; GC Notify never revoked the old ones, so a leaked legacy key is as live as a new one.",
	Help:      fixHelp,
	Tags:      []string{"gc-notify", "govuk-notify", "secret", "security"},
	Severity:  8.5,
	Precision: "high",
	True: []string{
		"NOTIFY_API_KEY=legacy_key-{SID}-{SECRET}",
		"notifications_client = NotificationsAPIClient('{SID}-{SECRET}')",
		"# GOV.UK Notify\napi_key: my_service_live-{SID}-{SECRET}\n",
		"const client = new NotifyClient(\"prod-{SID}-{SECRET}\")",
	},
	False: []string{
		"trace_id={SID}-{SECRET}",
		"arn:aws:whatever:resource/abc-{SID}-{SECRET}",
		"NOTIFY_API_KEY=my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0",
		"notify: {SID}-{SID}",
		"notify: x-{UUID}{SID}-{SECRET}",
	},
}

// All is every detection rule, sorted by id.
func All() []*Rule { return []*Rule{CurrentKeyRule, LegacyKeyRule} }

// ByID returns the detection or policy rule with id, or nil.
func ByID(id string) *Rule {
	for _, r := range append(All(), PolicyRules()...) {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// NewUUID returns a random version 4 UUID in canonical lowercase form.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("notifyscan: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, UUIDLen)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[x>>4], hexDigits[x&0x0f])
	}
	return string(out)
}

// Expand fills a sample template with fresh UUIDs.
func Expand(sample string) string {
	return strings.NewReplacer("{SID}", NewUUID(), "{SECRET}", NewUUID(), "{UUID}", NewUUID()).Replace(sample)
}

// Check proves the rule against its samples: each True sample must give a
// match of this rule, and no False sample may. The error names the sample.
func (r *Rule) Check() error {
	count := func(text string) int {
		n := 0
		Find([]byte(text), false, func(m Match) bool {
			if m.Rule == r {
				n++
			}
			return true
		})
		return n
	}
	for _, s := range r.True {
		if count(Expand(s)) == 0 {
			return fmt.Errorf("rule %s misses its true sample %q", r.ID, s)
		}
	}
	for _, s := range r.False {
		if n := count(Expand(s)); n != 0 {
			return fmt.Errorf("rule %s matches its false sample %q", r.ID, s)
		}
	}
	return nil
}
