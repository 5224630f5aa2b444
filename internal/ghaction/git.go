package ghaction

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Git runs git in one repository and fetches from one remote.
type Git struct {
	Dir    string    // the work tree (or a bare repository)
	Remote string    // where missing commits come from; "origin" when empty
	Log    io.Writer // one line per fetch, for the step's log; may be nil
}

// deepenSteps are the successive --deepen values tried before giving up on
// a shallow clone and unshallowing it.
var deepenSteps = []int{50, 500}

func (g *Git) remote() string {
	if g.Remote == "" {
		return "origin"
	}
	return g.Remote
}

func (g *Git) logf(format string, args ...any) {
	if g.Log != nil {
		fmt.Fprintf(g.Log, "notifyscan: "+format+"\n", args...)
	}
}

// gitError is a failed git command with the last line it printed.
type gitError struct {
	args []string
	msg  string
	code int
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), e.msg)
}

// run runs git with args and returns its standard output, trimmed.
func (g *Git) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.Dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		ge := &gitError{args: args, msg: lastLine(stderr.String()), code: -1}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ge.code = ee.ExitCode()
		}
		if ge.msg == "" {
			ge.msg = err.Error()
		}
		return "", ge
	}
	return strings.TrimSpace(stdout.String()), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// lines splits git's output into lines, none for empty output.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// check makes sure Dir is a git repository.
func (g *Git) check(ctx context.Context) error {
	if _, err := g.run(ctx, "rev-parse", "--git-dir"); err != nil {
		return fmt.Errorf("%s is not a git repository (%v): check out the repository first (actions/checkout)", g.Dir, err)
	}
	return nil
}

// has reports whether the commit is in the object store.
func (g *Git) has(ctx context.Context, sha string) bool {
	_, err := g.run(ctx, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// shallow reports whether the repository is a shallow clone.
func (g *Git) shallow(ctx context.Context) (bool, error) {
	out, err := g.run(ctx, "rev-parse", "--is-shallow-repository")
	return out == "true", err
}

// shallowCommits is the set of commits whose parents a shallow clone lacks.
func (g *Git) shallowCommits(ctx context.Context) (map[string]bool, error) {
	p, err := g.run(ctx, "rev-parse", "--git-path", "shallow")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(g.Dir, p)
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	set := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			set[l] = true
		}
	}
	return set, sc.Err()
}

// need makes sure the commit is in the object store, fetching it (and in a
// shallow clone only it) from the remote if not. what names the commit in
// errors; fallbackRef, when the remote refuses a fetch by id, is a ref that
// holds it (a pull request's refs/pull/N/head).
func (g *Git) need(ctx context.Context, sha, what, fallbackRef string) error {
	if g.has(ctx, sha) {
		return nil
	}
	shallow, err := g.shallow(ctx)
	if err != nil {
		return err
	}
	args := []string{"fetch", "--no-tags", "--quiet"}
	if shallow {
		args = append(args, "--depth=1")
	}
	g.logf("fetching %s %s from %s", what, short(sha), g.remote())
	_, err = g.run(ctx, append(args, g.remote(), sha)...)
	if err != nil && fallbackRef != "" {
		g.logf("fetching %s from %s", fallbackRef, g.remote())
		_, err = g.run(ctx, append(args, g.remote(), fallbackRef)...)
	}
	if err == nil && !g.has(ctx, sha) {
		err = errors.New("the remote did not send it")
	}
	if err != nil {
		return fmt.Errorf("the %s %s is not in the checkout and cannot be fetched from %s: %w", what, short(sha), g.remote(), err)
	}
	return nil
}

// deepen fetches more history for the given commits; step counts the calls.
// It returns false when the repository is not shallow (nothing to deepen).
func (g *Git) deepen(ctx context.Context, step int, shas ...string) (bool, error) {
	shallow, err := g.shallow(ctx)
	if err != nil || !shallow {
		return false, err
	}
	args := []string{"fetch", "--no-tags", "--quiet"}
	if step < len(deepenSteps) {
		g.logf("shallow clone: fetching %d more commits of history", deepenSteps[step])
		args = append(args, "--deepen="+strconv.Itoa(deepenSteps[step]))
	} else {
		g.logf("shallow clone: fetching the whole history")
		args = append(args, "--unshallow")
	}
	if _, err := g.run(ctx, append(append(args, g.remote()), shas...)...); err != nil {
		return false, fmt.Errorf("deepening the shallow clone: %w", err)
	}
	return true, nil
}

// complete makes the repository hold every branch and tag of the remote with
// its whole history, as a full history scan needs. A clone that is not
// shallow is taken as it is: actions/checkout with fetch-depth: 0 already
// fetched every branch and tag.
func (g *Git) complete(ctx context.Context) error {
	shallow, err := g.shallow(ctx)
	if err != nil || !shallow {
		return err
	}
	g.logf("shallow clone: fetching every branch and tag with its whole history from %s", g.remote())
	_, err = g.run(ctx, "fetch", "--no-tags", "--quiet", "--unshallow", g.remote(),
		"+refs/heads/*:refs/remotes/"+g.remote()+"/*", "+refs/tags/*:refs/tags/*")
	if err != nil {
		return fmt.Errorf("fetching the whole history: %w", err)
	}
	return nil
}

// mergeBase is the best common ancestor of a and b, deepening a shallow
// clone until it shows one. ok is false when the histories are unrelated.
func (g *Git) mergeBase(ctx context.Context, a, b string) (mb string, ok bool, err error) {
	for step := 0; ; step++ {
		mb, err := g.run(ctx, "merge-base", a, b)
		if err == nil {
			return mb, true, nil
		}
		var ge *gitError
		if !errors.As(err, &ge) || ge.code != 1 {
			return "", false, err
		}
		deepened, err := g.deepen(ctx, step, a, b)
		if err != nil {
			return "", false, err
		}
		if !deepened {
			return "", false, nil
		}
	}
}

// revList lists the commits reachable from tip and from none of exclude,
// newest first, deepening a shallow clone until none of them lacks its
// parents: a commit cut off by the clone's depth could hide older commits
// that belong to the set.
func (g *Git) revList(ctx context.Context, tip string, exclude ...string) ([]string, error) {
	for step := 0; ; step++ {
		args := []string{"rev-list", tip}
		if len(exclude) > 0 {
			args = append(append(args, "--not"), exclude...)
		}
		out, err := g.run(ctx, args...)
		if err != nil {
			return nil, err
		}
		commits := lines(out)
		cut, err := g.shallowCommits(ctx)
		if err != nil {
			return nil, err
		}
		complete := true
		for _, c := range commits {
			if cut[c] {
				complete = false
				break
			}
		}
		if complete {
			return commits, nil
		}
		deepened, err := g.deepen(ctx, step, tip)
		if err != nil {
			return nil, err
		}
		if !deepened {
			return commits, nil
		}
	}
}
