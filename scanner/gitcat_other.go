//go:build !linux

package scanner

import "io"

// widenPipe is a no-op where pipes cannot be resized.
func widenPipe(io.ReadCloser) {}
