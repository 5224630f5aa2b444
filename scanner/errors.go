package scanner

import (
	"errors"
	"io/fs"
	"strings"
)

// cleanErr drops the path from file system errors (the caller names the input
// itself) so that messages read "path: permission denied", not the path twice.
func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// pathHintsNotify reports whether a path's name says its content is about
// Notify, which is context enough for a legacy key.
func pathHintsNotify(p string) bool {
	return strings.Contains(strings.ToLower(p), "notif")
}
