package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Reading objects through git: what the pack reader (pack.go) does not
// read, and every object of a range or staged scan, is read by long-lived
// `git cat-file --batch` processes, one per worker, each fed batches of
// object ids pulled from a shared queue (so a worker stuck on a big blob
// does not hold up the others) and each streaming its objects straight
// into the matcher with a bounded buffer.

// catBatch is a run of object ids handed to one cat-file process; ids from
// one batch stay together so that git's delta base cache serves them.
type catBatch []string

// catHandler is told about each object read. body yields exactly size
// bytes; the handler need not read them all. It returns an error only to
// stop the whole read (the context is done).
type catHandler struct {
	object func(id, typ string, size int64, body io.Reader) error
	// fail is told about an object that could not be read.
	fail func(id string, err error)
}

// errCatDied is a cat-file process ending in the middle of its work.
var errCatDied = errors.New("git cat-file stopped")

// catFile reads every object of every batch from batches with n parallel
// cat-file processes, each with its own handler from newHandler, and
// returns when batches is closed and drained. A
// corrupt object is reported to h.fail and the scan goes on: a process
// that dies on it is replaced.
func (r *gitRepo) catFile(ctx context.Context, n int, batches <-chan catBatch, newHandler func() catHandler) error {
	g, ctx := errgroup.WithContext(ctx)
	for range n {
		g.Go(func() error {
			h := newHandler()
			var leftover []catBatch
			for {
				rest, err := r.catRun(ctx, leftover, batches, h)
				if err != nil || rest == nil {
					return err
				}
				leftover = rest
			}
		})
	}
	return g.Wait()
}

// catRun runs one cat-file process over first, then over batches. It
// returns nil, nil when all is read; the ids still to read when the
// process died under it; or the context's error.
func (r *gitRepo) catRun(ctx context.Context, first []catBatch, batches <-chan catBatch, h catHandler) ([]catBatch, error) {
	pctx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := r.command(pctx, "cat-file", "--batch", "--buffer")
	stderr := &limitedBuffer{buf: &bytes.Buffer{}, max: 4 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting git cat-file: %w", err)
	}
	widenPipe(stdout)

	// The writer sends ids to git and tells the reader, in order, which
	// batches to expect. dead tells it the reader gave up.
	pending := make(chan catBatch, 64)
	dead := make(chan struct{})
	unsent := make(chan []catBatch, 1)
	go func() {
		var keep []catBatch
		defer func() { close(pending); unsent <- keep }()
		w := bufio.NewWriterSize(stdin, 32<<10)
		defer stdin.Close()
		send := func(b catBatch) bool {
			select {
			case pending <- b:
			case <-dead:
				keep = append(keep, b)
				return false
			}
			for _, id := range b {
				w.WriteString(id)
				w.WriteByte('\n')
			}
			return w.Flush() == nil
		}
		for i, b := range first {
			if !send(b) {
				keep = append(keep, first[i+1:]...)
				return
			}
		}
		for {
			select {
			case b, ok := <-batches:
				if !ok {
					return
				}
				if !send(b) {
					return
				}
			case <-dead:
				return
			case <-pctx.Done():
				return
			}
		}
	}()

	br := bufio.NewReaderSize(stdout, 64<<10)
	var rest []catBatch
	var readErr, failErr error
	var failed string
read:
	for b := range pending {
		for i, id := range b {
			err := catOne(br, id, h)
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				readErr = ctx.Err()
				break read
			}
			if !errors.Is(err, errCatDied) {
				readErr = err
				break read
			}
			failed, failErr = id, err
			rest = append(rest, b[i+1:])
			break read
		}
	}
	if readErr == nil && rest == nil {
		// Every batch sent was read, so the writer has stopped: the queue
		// is drained, or the context is done.
		<-unsent
		_ = cmd.Wait()
		return nil, ctx.Err()
	}
	close(dead)
	// Let a dying git finish its message on stderr; kill one that is not
	// dying (an answer out of step).
	exited := make(chan struct{})
	go func() {
		for b := range pending {
			rest = append(rest, b)
		}
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		kill()
		<-exited
	}
	rest = append(rest, <-unsent...)
	if readErr != nil {
		return nil, readErr
	}
	h.fail(failed, catDeath(failErr, stderr.String()))
	if rest == nil {
		rest = []catBatch{} // not nil: a new process takes over the queue
	}
	return rest, nil
}

// catDeath explains why cat-file stopped on an object, from its stderr.
func catDeath(err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = msg[i+1:]
	}
	msg = strings.TrimPrefix(strings.TrimPrefix(msg, "fatal: "), "error: ")
	if msg == "" {
		return err
	}
	return errors.New(msg)
}

// catOne reads one object's answer for id and hands it to h. A missing or
// unreadable object that git reports and passes over is h.fail's; a
// process that stops answering is errCatDied.
func catOne(br *bufio.Reader, id string, h catHandler) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("%w: %v", errCatDied, err)
	}
	line = line[:len(line)-1]
	rest, ok := bytes.CutPrefix(line, []byte(id))
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return fmt.Errorf("%w: unexpected answer %.80q", errCatDied, line)
	}
	rest = rest[1:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		// "<id> missing": git could not read it (absent or corrupt); it
		// says why on stderr and goes on.
		h.fail(id, fmt.Errorf("object is missing or corrupt (git cat-file: %s)", rest))
		return nil
	}
	typ := string(rest[:sp])
	size, err := strconv.ParseInt(string(rest[sp+1:]), 10, 64)
	if err != nil || size < 0 {
		return fmt.Errorf("%w: unexpected answer %.80q", errCatDied, line)
	}
	body := &io.LimitedReader{R: br, N: size}
	if err := h.object(id, typ, size, body); err != nil {
		return err
	}
	if body.N > 0 {
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("%w: %v", errCatDied, err)
		}
	}
	if body.N > 0 {
		return fmt.Errorf("%w: object cut short", errCatDied)
	}
	if c, err := br.ReadByte(); err != nil || c != '\n' {
		return fmt.Errorf("%w: object not terminated", errCatDied)
	}
	return nil
}
