package scanner

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

// Tracking values for findings in a git work tree.
const (
	Tracked   = "tracked"   // git tracks the file: the key is in the repository
	Ignored   = "ignored"   // git ignores the file: a plain-text key on disk
	Untracked = "untracked" // neither: the next "git add ." commits it
)

// markTracking sets Finding.Tracking for findings in files inside a git work
// tree. It asks git only about files with findings, so a clean scan pays
// nothing. Without git, or outside a work tree, Tracking stays empty.
func markTracking(ctx context.Context, fs []rules.Finding) {
	if len(fs) == 0 {
		return
	}
	if _, err := exec.LookPath("git"); err != nil {
		return
	}
	byDir := map[string][]int{}
	for i, f := range fs {
		if f.Path == Stdin {
			continue
		}
		dir := filepath.Dir(filepath.FromSlash(f.Path))
		byDir[dir] = append(byDir[dir], i)
	}
	for dir, idx := range byDir {
		names := make([]string, 0, len(idx))
		seen := map[string]bool{}
		for _, i := range idx {
			n := filepath.Base(filepath.FromSlash(fs[i].Path))
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		state := gitFileStates(ctx, dir, names)
		for _, i := range idx {
			fs[i].Tracking = state[filepath.Base(filepath.FromSlash(fs[i].Path))]
		}
	}
}

// gitFileStates asks git, in dir, which of names are tracked or ignored.
func gitFileStates(ctx context.Context, dir string, names []string) map[string]string {
	out := map[string]string{}
	inside, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	if err != nil || strings.TrimSpace(string(inside)) != "true" {
		return out
	}
	args := append([]string{"-C", dir, "ls-files", "-z", "--"}, names...)
	tracked, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		return out
	}
	for _, n := range bytes.Split(tracked, []byte{0}) {
		if len(n) > 0 {
			out[string(n)] = Tracked
		}
	}
	var rest []string
	for _, n := range names {
		if out[n] == "" {
			rest = append(rest, n)
		}
	}
	if len(rest) == 0 {
		return out
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "check-ignore", "-z", "--stdin")
	cmd.Stdin = strings.NewReader(strings.Join(rest, "\x00") + "\x00")
	ignored, _ := cmd.Output() // exit 1 means none is ignored
	isIgnored := map[string]bool{}
	for _, n := range bytes.Split(ignored, []byte{0}) {
		isIgnored[string(n)] = true
	}
	for _, n := range rest {
		if isIgnored[n] {
			out[n] = Ignored
		} else {
			out[n] = Untracked
		}
	}
	return out
}
