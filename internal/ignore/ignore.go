// Package ignore owns the .notifyscanignore file: fingerprints of keys that
// are known and accepted, and doublestar path globs of files never reported.
package ignore

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// FileName is the ignore file's name in a scanned root or repository.
const FileName = ".notifyscanignore"

// List is a parsed ignore file. The zero List ignores nothing.
type List struct {
	fingerprints map[string]bool
	globs        []string
}

// Parse reads an ignore file: one entry per line, '#' starts a comment, an
// entry starting with "nsfp1:" is a fingerprint, anything else a path glob
// relative to the root (doublestar syntax: "**/testdata/**", "docs/*.md";
// a glob with no '/' matches the base name at any depth). name is used in
// errors.
func Parse(name string, r io.Reader) (*List, error) {
	l := &List{fingerprints: map[string]bool{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "nsfp1:") {
			if len(line) != len("nsfp1:")+32 || strings.Trim(line[6:], "0123456789abcdef") != "" {
				return nil, fmt.Errorf("%s:%d: malformed fingerprint (want nsfp1: and 32 hex digits)", name, n)
			}
			l.fingerprints[line] = true
			continue
		}
		glob := strings.TrimPrefix(line, "/")
		if !strings.Contains(strings.TrimSuffix(line, "/"), "/") {
			glob = "**/" + glob
		}
		glob = strings.TrimSuffix(glob, "/")
		if !doublestar.ValidatePattern(glob) {
			return nil, fmt.Errorf("%s:%d: invalid path glob %q", name, n, line)
		}
		l.globs = append(l.globs, glob)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// Load reads the ignore file at p; a missing file is an empty List.
func Load(p string) (*List, error) {
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return &List{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(p, f)
}

// Fingerprint reports whether a key fingerprint is ignored.
func (l *List) Fingerprint(fp string) bool { return l != nil && l.fingerprints[fp] }

// Path reports whether a slash path relative to the root is ignored: a glob
// matches the path itself or one of its parent directories.
func (l *List) Path(rel string) bool {
	if l == nil || len(l.globs) == 0 {
		return false
	}
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		for _, g := range l.globs {
			if ok, _ := doublestar.Match(g, p); ok {
				return true
			}
		}
	}
	return false
}

// Empty reports whether the list ignores nothing.
func (l *List) Empty() bool { return l == nil || (len(l.fingerprints) == 0 && len(l.globs) == 0) }
