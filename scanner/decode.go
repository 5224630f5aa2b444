package scanner

import "github.com/cds-snc/notifyscan/rules"

// findEncoded looks for keys hidden in encodings inside win and reports each
// with the name of its encoding. Matches must end in (lo, hi].
func findEncoded(win []byte, lo, hi int, notifyContext bool, fn func(rules.Match, string)) {}
