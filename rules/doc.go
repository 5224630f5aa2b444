// Package rules is notifyscan's vocabulary: what a GC Notify (or Notify-family)
// API key looks like, how one is parsed, which look-alikes are placeholders,
// the rules that turn a match into a Finding, and the Finding itself.
//
// It owns no I/O and depends on the standard library only. Everything here is
// safe to print: a Key formats itself redacted, and a Finding carries only the
// redacted key and a one-way fingerprint in its exported, serialisable form.
package rules
