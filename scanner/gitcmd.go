package scanner

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
	"strings"
	"sync"
)

// gitRepo is a repository reached through the git binary.
type gitRepo struct {
	bin     string // the git executable
	arg     string // the repository as the caller named it, for messages
	gitDir  string // absolute git directory
	top     string // absolute work tree root; empty for a bare repository
	shallow bool
}

// ErrNotRepository is wrapped by the error for a path that is not a git
// repository.
var ErrNotRepository = errors.New("not a git repository")

// gitBinary is the git executable on PATH, or "" when there is none. A
// variable so that tests can force the go-git fallback.
var gitBinary = sync.OnceValue(func() string {
	p, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	return p
})

// openGitRepo asks git where the repository at path is. One process: this
// is on the path of every staged scan.
func openGitRepo(ctx context.Context, bin, path string) (*gitRepo, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", path, cleanErr(err))
	}
	r := &gitRepo{bin: bin, arg: path}
	out, err := r.output(ctx, nil, "-C", path, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository", "--show-cdup")
	if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return nil, fmt.Errorf("%s: %w", path, ErrNotRepository)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("%s: unexpected answer from git rev-parse: %q", path, out)
	}
	r.gitDir = lines[0]
	r.shallow = lines[2] == "true"
	if lines[1] != "true" {
		cdup := ""
		if len(lines) > 3 {
			cdup = lines[3]
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		r.top = filepath.Clean(filepath.Join(abs, cdup))
	}
	return r, nil
}

// gitArgs are put before every command: the objects as stored (replace
// refs would let a repository hide a blob from the scan), no pager, no
// optional locks that would fight with a concurrent git.
func (r *gitRepo) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--no-replace-objects", "--no-pager", "--literal-pathspecs"}, args...)
	cmd := exec.CommandContext(ctx, r.bin, full...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
	switch {
	case r.top != "":
		cmd.Dir = r.top
	case r.gitDir != "":
		cmd.Dir = r.gitDir
	}
	return cmd
}

// output runs git and returns its standard output; the error carries git's
// own message.
func (r *gitRepo) output(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := r.command(ctx, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return out, gitError(args, err, stderr.String())
	}
	return out, nil
}

// gitError is a failed git command, with git's message when it gave one.
func gitError(args []string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		// The last line is the fatal one; keep the first too when it differs.
		first, last := strings.TrimSpace(msg[:strings.Index(msg, "\n")]), strings.TrimSpace(msg[i+1:])
		msg = first
		if first != last {
			msg += "; " + last
		}
	}
	msg = strings.TrimPrefix(strings.TrimPrefix(msg, "fatal: "), "error: ")
	name := "git"
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = "git " + a
			break
		}
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stream runs git and hands its standard output to read; git's exit status
// and message become the error when read succeeds.
func (r *gitRepo) stream(ctx context.Context, stdin io.Reader, read func(*bufio.Reader) error, args ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, args...)
	cmd.Stdin = stdin
	stderr := &limitedBuffer{buf: &bytes.Buffer{}, max: 4 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	rerr := read(bufio.NewReaderSize(out, 64<<10))
	if rerr != nil {
		cancel()
	} else {
		_, _ = io.Copy(io.Discard, out)
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil && rerr == nil:
		return ctx.Err()
	case rerr != nil:
		return rerr
	case werr != nil:
		return gitError(args, werr, stderr.String())
	}
	return nil
}

// hexOID reports whether s looks like a full object id (SHA-1 or SHA-256).
func hexOID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isHex reports whether c is a lower-case hexadecimal digit.
func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// zeroOID reports whether s is the all-zero object id.
func zeroOID(s string) bool {
	return hexOID(s) && strings.Trim(s, "0") == ""
}
