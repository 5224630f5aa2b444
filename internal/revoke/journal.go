package revoke

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Journal states; see the package documentation.
const (
	statePending   = "pending"
	stateRevoked   = "revoked"
	stateNotAKey   = "not-a-real-key"
	stateFailed    = "failed"
	stateUncertain = "uncertain"
	stateResolved  = "resolved"
)

// entry is one journal line. It holds nothing secret.
type entry struct {
	Time        string `json:"time"`
	Fingerprint string `json:"fingerprint"`
	Key         string `json:"key"` // redacted
	Host        string `json:"host,omitempty"`
	State       string `json:"state"`
	HTTPStatus  int    `json:"http,omitempty"`
	Message     string `json:"message,omitempty"`
}

// history is what the journal says about one key.
type history int

const (
	historyNone   history = iota // never sent, or sent and refused: may send
	historyDone                  // sent with a known outcome: never send again
	historyUnsure                // sent, outcome unknown: needs a manual check
)

func historyOf(state string) history {
	switch state {
	case stateRevoked, stateNotAKey, stateResolved:
		return historyDone
	case statePending, stateUncertain:
		return historyUnsure
	}
	return historyNone
}

// readJournal returns the last entry for each fingerprint. A missing file is
// an empty journal; lines that do not parse (a write torn by a crash) are
// skipped.
func readJournal(path string) (map[string]entry, error) {
	last := make(map[string]entry)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return last, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revoke journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e entry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Fingerprint == "" || e.State == "" {
			continue
		}
		last[e.Fingerprint] = e
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("revoke journal %s: %w", path, err)
	}
	return last, nil
}

// journal is an open journal, held under its lock file.
type journal struct {
	path, lock string
	f          *os.File
	now        func() time.Time
}

// openJournal takes the lock and opens the journal for appending, creating
// it and its directory (and making its directory entry durable) if needed.
func openJournal(path string, now func() time.Time) (*journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("revoke journal: %w", err)
	}
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("revoke journal %s is locked by another run (%s exists; if no other run is going, check the journal's last lines, then remove it)", path, lock)
	}
	if err != nil {
		return nil, fmt.Errorf("revoke journal lock: %w", err)
	}
	fmt.Fprintf(lf, "%d\n", os.Getpid())
	lf.Close()

	j := &journal{path: path, lock: lock, now: now}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		os.Remove(lock)
		return nil, fmt.Errorf("revoke journal: %w", err)
	}
	j.f = f
	if errors.Is(statErr, fs.ErrNotExist) {
		syncDir(filepath.Dir(path))
	}
	// A torn last line must not swallow the next entry.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, st.Size()-1); err == nil && b[0] != '\n' {
			if err := j.write([]byte("\n")); err != nil {
				j.close()
				return nil, err
			}
		}
	}
	return j, nil
}

// append writes one entry and fsyncs it.
func (j *journal) append(e entry) error {
	e.Time = j.now().UTC().Format(time.RFC3339)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return j.write(append(b, '\n'))
}

func (j *journal) write(b []byte) error {
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("revoke journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("revoke journal %s: sync: %w", j.path, err)
	}
	return nil
}

func (j *journal) close() error {
	err := j.f.Close()
	os.Remove(j.lock)
	return err
}

// syncDir makes a new directory entry durable (best effort: not every
// platform can fsync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
