//go:build unix && !race

// Timing assertions mean nothing under the race detector: the race build runs every functional test, not these.

package scanner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// costRatio runs scan with decoding off and on, alternately, and returns the
// best CPU time of each: on a shared machine the best of several runs is
// the stable figure.
func costRatio(runs int, scan func(noDecode bool)) (off, on time.Duration) {
	off, on = time.Duration(1<<62), time.Duration(1<<62)
	for range runs {
		for _, nd := range []bool{true, false} {
			start := cpuTime()
			scan(nd)
			d := cpuTime() - start
			if nd {
				off = min(off, d)
			} else {
				on = min(on, d)
			}
		}
	}
	return off, on
}

// TestDecodeCost checks the budget: on a tree of plain source files (no
// archives, no long base64 runs) decoding costs at most 10% more CPU time
// than not decoding; in-memory matching of the same text is logged too.
// The assertion allows for a noisy machine; the logged ratio is the figure.
func TestDecodeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	const total = 16 << 20
	root := writeTree(t, total)
	off, on := costRatio(7, func(nd bool) {
		if _, err := ScanPaths(context.Background(), []string{root}, nil, Options{Concurrency: 1, NoDecode: nd}); err != nil {
			t.Fatal(err)
		}
	})
	mbps := func(d time.Duration) float64 { return total / d.Seconds() / 1e6 }
	tree := float64(on) / float64(off)
	t.Logf("tree of source files: decode off %.0f MB/s, on %.0f MB/s of CPU time, ratio %.3f", mbps(off), mbps(on), tree)

	for _, c := range []struct {
		name string
		data []byte
	}{{"generated source", sourceText(total)}, {"Go sources", goSources(total)}} {
		if c.data == nil {
			continue
		}
		buf := make([]byte, chunkSize+overlap)
		off, on := costRatio(7, func(nd bool) {
			m := &matcher{decode: !nd, emit: func(hit) {}}
			scanContent(context.Background(), m, bytes.NewReader(c.data), buf)
		})
		t.Logf("%s in memory: decode off %.0f MB/s, on %.0f MB/s, ratio %.3f", c.name, mbps(off), mbps(on), float64(on)/float64(off))
	}
	if tree > 1.5 { // a regression guard: see the logged ratio for the figure
		t.Errorf("decoding costs %.0f%% on a tree of plain text", 100*(tree-1))
	}
}

// TestDecodeWorstCases checks that no input makes decoding expensive: each
// worst case for the decoders (long runs of base64 alphabet, hex, UTF-16,
// escapes, minified code), 64 MiB of it in one file, is scanned with
// decoding on in at most its bound times the CPU time of the scan with
// decoding off, reading the file as notifyscan dir does. Before the base64
// filter, lines of base64 alphabet cost decoding 20 to 100 times.
func TestDecodeWorstCases(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	const size = 64 << 20
	for _, c := range worstCases(size) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "input"), c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		off, on := costRatio(3, func(nd bool) {
			if _, err := ScanPaths(context.Background(), []string{root}, nil, Options{Concurrency: 1, NoDecode: nd}); err != nil {
				t.Fatal(err)
			}
		})
		ratio := float64(on) / float64(off)
		t.Logf("%-32s decode off %5.0f MB/s, on %5.0f MB/s of CPU time, ratio %5.2f (bound %g)",
			c.name, size/off.Seconds()/1e6, size/on.Seconds()/1e6, ratio, c.bound)
		if ratio > c.bound {
			t.Errorf("%s: decoding costs %.1f times the plain scan, more than %g", c.name, ratio, c.bound)
		}
		os.RemoveAll(root)
	}
}
