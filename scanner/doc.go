// Package scanner owns where bytes come from and how they are matched:
// directories and files, standard input, git history and ranges, and staged
// changes. Sources hand content to one engine that streams it through the
// rules matcher in overlapping windows, applies the allow comment and the
// ignore file, and returns findings sorted in report order, identical at any
// concurrency.
//
// The scanner never verifies keys and never writes reports; cmd/notifyscan
// wires it to internal/verify and internal/report.
package scanner
