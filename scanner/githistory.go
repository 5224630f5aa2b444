package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cds-snc/notifyscan/internal/ignore"
)

// Pseudo paths for keys found in messages rather than files. They are the
// names git gives the files it opens for editing a message, so they read
// as what they are and never clash with a real path in a finding whose
// GitProvenance.Message is set.
const (
	CommitMessagePath = "COMMIT_EDITMSG" // a commit's message
	TagMessagePath    = "TAG_EDITMSG"    // an annotated tag's message
)

// batchObjects is how many ids a batch for one cat-file process holds.
const batchObjects = 512

// objScan gathers what reading objects found: hit blobs, the commit graph,
// message hits, tags. It is shared by the full and the range scan.
type objScan struct {
	noDecode bool
	hint     map[string]bool   // blob id -> its path says Notify (range and staged scans)
	paths    map[string]string // blob id -> a path it is at, when known before reading

	mu      sync.Mutex
	blobs   map[string][]hit      // blobs with hits
	commits map[string]*commitRec // every commit read
	trees   []*treeShard          // every tree read, compactly, by reader (full scans)
	idents  map[string]string     // interned author names and emails
	msgs    map[string]*msgHits   // commits and tags with hits in their message
	tags    map[string]tagTarget  // every annotated tag read
	errs    []*InputError
	// Objects whose containers could not be read completely (zip bombs,
	// corrupt archives, limits): their hits stand, and where the object
	// is in the scan it is an input error.
	archErrs map[string]*ArchiveError // blobs
	msgErrs  map[string]*ArchiveError // commit and tag messages

	nCommits, nBlobs, nBytes, nFiles atomic.Int64
}

// msgHits is a message with keys: who wrote it and when.
type msgHits struct {
	tag                bool
	hits               []hit
	name, email        string
	when               int64
	date               string // RFC 3339
	target, targetType string // for a tag: what it points at
	tagName            string
}

type tagTarget struct{ id, typ string }

// commitRec is what provenance needs of a commit.
type commitRec struct {
	tree        string
	parents     []string
	name, email string
	when        int64
	date        string
}

func (s *objScan) intern(v string) string {
	if w, ok := s.idents[v]; ok {
		return w
	}
	s.idents[v] = v
	return v
}

func newObjScan(noDecode bool) *objScan {
	return &objScan{
		noDecode: noDecode,
		blobs:    map[string][]hit{},
		commits:  map[string]*commitRec{},
		idents:   map[string]string{},
		msgs:     map[string]*msgHits{},
		tags:     map[string]tagTarget{},
		archErrs: map[string]*ArchiveError{},
		msgErrs:  map[string]*ArchiveError{},
	}
}

// tracked lists, sorted, the blobs provenance must place: those with hits
// and those with archive errors.
func (s *objScan) tracked() []string {
	ids := slices.Collect(maps.Keys(s.blobs))
	for id := range s.archErrs {
		if s.blobs[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// archiveError is err as an *ArchiveError, or nil.
func archiveError(err error) *ArchiveError {
	var ae *ArchiveError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// relContainer makes a hit's Container relative to its input, read with the
// matcher path path: "member", not "path!member". Hits are kept that way
// because a blob can be at several paths; memberPath completes them.
func relContainer(path, container string) string {
	if path == "" {
		return container
	}
	return strings.TrimPrefix(container, path+"!")
}

// memberPath is the Container of a finding at path for a hit whose
// Container is relative to the blob or message: "path!member".
func memberPath(path, rel string) string {
	if rel == "" {
		return ""
	}
	return path + "!" + rel
}

func (s *objScan) fail(input string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, &InputError{Input: input, Err: err})
}

// handler is one cat-file worker's view: its own window buffer, header
// reader and tree shard.
func (s *objScan) handler(ctx context.Context) catHandler {
	buf := make([]byte, chunkSize+overlap)
	hr := bufio.NewReaderSize(nil, 4<<10)
	var trees *treeShard
	return catHandler{
		object: func(id, typ string, size int64, body io.Reader) error {
			switch typ {
			case "blob":
				return s.blob(ctx, id, body, buf)
			case "commit", "tag":
				hr.Reset(body)
				return s.message(ctx, id, typ, hr, buf)
			case "tree":
				if trees == nil {
					trees = &treeShard{}
					s.mu.Lock()
					s.trees = append(s.trees, trees)
					s.mu.Unlock()
				}
				trees.add(id, size, body)
			}
			return nil
		},
		fail: func(id string, err error) { s.fail("object "+id, err) },
	}
}

// blob matches one blob's content as it streams from git.
func (s *objScan) blob(ctx context.Context, id string, body io.Reader, buf []byte) error {
	var hits []hit
	path := s.paths[id]
	m := &matcher{notifyContext: s.hint[id], decode: !s.noDecode, path: path, emit: func(h hit) {
		h.f.Container = relContainer(path, h.f.Container)
		hits = append(hits, h)
	}}
	n, err := scanContent(ctx, m, body, buf)
	s.nBlobs.Add(1)
	s.nFiles.Add(1)
	s.nBytes.Add(n)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	// Any other error than an archive's is a read error: it leaves the body
	// unread, and catOne reports the object.
	ae := archiveError(err)
	if len(hits) > 0 || ae != nil {
		s.mu.Lock()
		if len(hits) > 0 {
			s.blobs[id] = hits
		}
		if ae != nil {
			s.archErrs[id] = ae
		}
		s.mu.Unlock()
	}
	return nil
}

// message reads a commit's or tag's header and matches its message.
func (s *objScan) message(ctx context.Context, id, typ string, hr *bufio.Reader, buf []byte) error {
	info := &msgHits{tag: typ == "tag"}
	var parents []string
	var tree string
	var hdrErr error
	for {
		line, err := hr.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// An overlong header line: keep its start, skip the rest.
			_, err = hr.ReadSlice('\n')
		}
		if err != nil {
			hdrErr = err
			break
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "parent":
			parents = append(parents, string(val))
		case "tree":
			tree = string(val)
		case "author", "tagger":
			info.name, info.email, info.when, info.date = parseIdent(val)
		case "object":
			info.target = string(val)
		case "type":
			info.targetType = string(val)
		case "tag":
			info.tagName = string(val)
		}
	}
	if typ == "commit" {
		s.nCommits.Add(1)
		s.mu.Lock()
		s.commits[id] = &commitRec{tree: tree, parents: parents, name: s.intern(info.name), email: s.intern(info.email), when: info.when, date: info.date}
		s.mu.Unlock()
	} else {
		s.mu.Lock()
		s.tags[id] = tagTarget{info.target, info.targetType}
		s.mu.Unlock()
	}
	if hdrErr != nil {
		if errors.Is(hdrErr, io.EOF) {
			return nil // no message at all
		}
		return nil // a read error: catOne reports the object
	}
	path := CommitMessagePath
	if info.tag {
		path = TagMessagePath
	}
	m := &matcher{decode: !s.noDecode, path: path, emit: func(h hit) {
		h.f.Container = relContainer(path, h.f.Container)
		info.hits = append(info.hits, h)
	}}
	n, err := scanContent(ctx, m, hr, buf)
	s.nFiles.Add(1)
	s.nBytes.Add(n)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	ae := archiveError(err)
	if len(info.hits) > 0 || ae != nil {
		s.mu.Lock()
		if len(info.hits) > 0 {
			s.msgs[id] = info
		}
		if ae != nil {
			s.msgErrs[id] = ae
		}
		s.mu.Unlock()
	}
	return nil
}

// parseIdent splits "Name <email> 1700000000 +0100".
func parseIdent(v []byte) (name, email string, when int64, date string) {
	lt := bytes.IndexByte(v, '<')
	gt := bytes.LastIndexByte(v, '>')
	if lt < 0 || gt < lt {
		return string(bytes.TrimSpace(v)), "", 0, ""
	}
	name = string(bytes.TrimSpace(v[:lt]))
	email = string(v[lt+1 : gt])
	rest := bytes.Fields(v[gt+1:])
	if len(rest) >= 1 {
		when, _ = strconv.ParseInt(string(rest[0]), 10, 64)
		loc := time.UTC
		if len(rest) >= 2 && len(rest[1]) == 5 {
			tz := rest[1]
			h, _ := strconv.Atoi(string(tz[1:3]))
			m, _ := strconv.Atoi(string(tz[3:5]))
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
		date = time.Unix(when, 0).In(loc).Format(time.RFC3339)
	}
	return name, email, when, date
}

// listObjects sends every object in the object store that skip does not
// accept (skip may be nil), in pack order, as batches. Only names are
// listed: git then reads no object to list it.
func (r *gitRepo) listObjects(ctx context.Context, skip func(id string) bool, out chan<- catBatch) error {
	var b catBatch
	flush := func() error {
		if len(b) == 0 {
			return nil
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = nil
		return nil
	}
	err := r.stream(ctx, nil, func(br *bufio.Reader) error {
		for {
			line, err := br.ReadSlice('\n')
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			id := string(bytes.TrimSpace(line))
			if !hexOID(id) {
				return fmt.Errorf("git cat-file: unexpected line %.80q", line)
			}
			if skip != nil && skip(id) {
				continue
			}
			if b = append(b, id); len(b) >= batchObjects {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}, "cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objectname)")
	if err != nil {
		return err
	}
	return flush()
}

// readObjects runs the producer and the cat-file readers together.
func (r *gitRepo) readObjects(ctx context.Context, workers int, s *objScan, produce func(ctx context.Context, out chan<- catBatch) error, newHandler func(*objScan) catHandler) error {
	batches := make(chan catBatch, 2*workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	perr := make(chan error, 1)
	go func() {
		defer close(batches)
		perr <- produce(ctx, batches)
	}()
	if newHandler == nil {
		newHandler = func(s *objScan) catHandler { return s.handler(ctx) }
	}
	err := r.catFile(ctx, workers, batches, func() catHandler { return newHandler(s) })
	if err != nil {
		cancel()
		<-perr
		return err
	}
	return <-perr
}

// msgErrors records the archive errors of the messages of ids (commits and
// tags) that inScope accepts as input errors, unless the ignore file names
// the message's path.
func (s *objScan) msgErrors(ids []string, inScope func(id string) bool, ign *ignore.List) {
	for _, id := range ids {
		ae := s.msgErrs[id]
		if ae == nil || !inScope(id) {
			continue
		}
		path, what := CommitMessagePath, "commit"
		if _, tag := s.tags[id]; tag {
			path, what = TagMessagePath, "tag"
		}
		if !ign.Path(path) {
			s.fail(path+" of "+what+" "+id, ae)
		}
	}
}
