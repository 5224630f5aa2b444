package rules

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// denseFound is what FindDense reports in buf: its matches as found
// formats them, its stretches, and its answer about zero bytes. skipTo
// gives what the caller returns for a stretch.
func denseFound(buf []byte, notifyContext bool, skipTo func(s, e int) int) (matches []string, stretches [][2]int, zero bool) {
	zero = FindDense(buf, notifyContext, func(m Match) bool {
		matches = append(matches, fmt.Sprintf("%s@%d:%s", m.Rule.ID, m.Start, buf[m.Start:m.End]))
		return true
	}, func(s, e int) int {
		stretches = append(stretches, [2]int{s, e})
		return skipTo(s, e)
	})
	return matches, stretches, zero
}

// checkDense checks FindDense's promises on buf: the keys of Find, and
// stretches of dense bytes, in order, that every long run of dense bytes
// the caller has not begun to read holds.
func checkDense(t *testing.T, buf []byte, skipTo func(s, e int) int) {
	t.Helper()
	for _, nc := range []bool{false, true} {
		want := found(string(buf), nc)
		got, stretches, _ := denseFound(buf, nc, skipTo)
		if !slices.Equal(got, want) {
			t.Fatalf("notifyContext %v: FindDense found %q, Find %q", nc, got, want)
		}
		read := 0 // what the caller said it read
		for k, st := range stretches {
			s, e := st[0], st[1]
			if e-s < DenseProbe || s < 0 || e > len(buf) {
				t.Fatalf("stretch %d:%d of %d bytes", s, e, len(buf))
			}
			for _, c := range buf[s:e] {
				if c <= ' ' {
					t.Fatalf("stretch %d:%d holds %q", s, e, c)
				}
			}
			if k > 0 && (s <= stretches[k-1][0] || e < stretches[k-1][1]) {
				t.Fatalf("stretch %d:%d after %v", s, e, stretches[k-1])
			}
			if e <= read {
				t.Fatalf("stretch %d:%d reported after the caller read to %d", s, e, read)
			}
			read = skipTo(s, e)
		}
		// Every run of DenseReach dense bytes or more holds a stretch,
		// unless it starts before where the caller had read to.
		read = 0
		next := 0 // stretches[next:] are not yet behind the run
		for i := 0; i < len(buf); {
			if buf[i] <= ' ' {
				i++
				continue
			}
			j := i
			for j < len(buf) && buf[j] > ' ' {
				j++
			}
			held := false
			for ; next < len(stretches) && stretches[next][0] < j; next++ {
				if st := stretches[next]; st[0] >= i && st[1] <= j {
					held = true
				}
				read = max(read, skipTo(stretches[next][0], stretches[next][1]))
			}
			// A run of hex digits and dashes alone, inside the buffer, holds
			// no encoded key and need not be reported.
			pairsOnly := i > 0 && j < len(buf)
			for k := i; pairsOnly && k < j; k++ {
				pairsOnly = pairByte[buf[k]]
			}
			if j-i >= DenseReach && !held && i >= read && !pairsOnly {
				var near [][2]int
				for _, st := range stretches {
					if st[1] > i-200 && st[0] < j+200 {
						near = append(near, st)
					}
				}
				t.Fatalf("run %d:%d of %d dense bytes holds no stretch (near: %v; read to %d): %q", i, j, j-i, near, read, buf[max(0, i-150):min(len(buf), j+150)])
			}
			i = j
		}
	}
}

func TestFindDenseOnSource(t *testing.T) {
	text := sourceText(1 << 20)
	// Keys, long runs of dense bytes and runs just short of DenseReach.
	var b bytes.Buffer
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i+4096 <= len(text); i += 4096 {
		b.Write(text[i : i+4096])
		switch i / 4096 % 4 {
		case 0:
			b.WriteString("k=gcntfy-x-" + NewUUID() + "-" + NewUUID() + "\n")
		case 1:
			b.WriteString(string(bytes.Repeat([]byte{'a' + byte(r.IntN(26))}, DenseReach-1+r.IntN(300))) + " ")
		case 2:
			b.WriteString(string(bytes.Repeat([]byte("0-"), r.IntN(100))) + "\n")
		}
	}
	for _, skip := range []func(s, e int) int{
		func(s, e int) int { return 0 },
		func(s, e int) int { return e },
		func(s, e int) int { return e + 200 },
	} {
		checkDense(t, b.Bytes(), skip)
	}
}

func TestFindDenseZero(t *testing.T) {
	var utf16 []byte
	for _, c := range []byte("notify key in UTF-16 text, long enough to hold a probe. ") {
		utf16 = append(utf16, c, 0)
	}
	for pad := range 100 {
		buf := append(bytes.Repeat([]byte("text "), pad), utf16[:82]...)
		if _, _, zero := denseFound(buf, false, func(s, e int) int { return e }); !zero {
			t.Fatalf("after %d bytes: 82 bytes of UTF-16 text without a zero byte found", 5*pad)
		}
	}
	if _, _, zero := denseFound(sourceText(1<<16), false, func(s, e int) int { return e }); zero {
		t.Errorf("a zero byte found in text")
	}
}

// FindDense finds what Find finds and keeps its promises about dense text,
// in any bytes.
func FuzzFindDense(f *testing.F) {
	f.Add([]byte("gcntfy-x-"+NewUUID()+"-"+NewUUID()), uint16(0))
	f.Add(bytes.Repeat([]byte("-"), 200), uint16(1))
	f.Add(append(bytes.Repeat([]byte("ab"), 50), bytes.Repeat([]byte("\x00a"), 60)...), uint16(90))
	f.Add(sourceText(4096), uint16(3))
	f.Fuzz(func(t *testing.T, buf []byte, ahead uint16) {
		checkDense(t, buf, func(s, e int) int { return e + int(ahead) })
	})
}
