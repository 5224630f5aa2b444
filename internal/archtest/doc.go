// Package archtest holds no code: its test keeps the import graph the shape
// the project was designed with (cmd -> scanner, internal/... -> rules).
package archtest
