package rules

import "encoding/binary"

// Dense text is where a key hidden in an encoding can stand: a base64 run
// or an escaped key is a long run of dense bytes, bytes above ' ' (no space,
// control character or zero byte). A scanner that looks for such keys needs
// to know where those runs are; FindDense tells it in the same pass over
// the buffer as the search for plain keys, reading the sixteen bytes that
// end at each byte Find samples (or start there, at the start of a run).

// DenseProbe is the shortest stretch of dense bytes FindDense reports.
const DenseProbe = 16

// DenseReach is the length of a run of dense bytes that always holds a
// stretch FindDense reports: bytes are sampled no more than PairLen apart,
// and the DenseProbe bytes that end at a dense sample, or else the
// DenseProbe bytes that start there, are reported when they are all dense.
// A line of base64 wrapped at 76 columns is always reported.
const DenseReach = PairLen

// FindDense is Find, and it also calls dense(s, e) for stretches buf[s:e]
// of at least DenseProbe dense bytes, in order of position (a stretch may
// overlap the one before), such that every run of DenseReach dense bytes or
// more holds one, unless it starts before the index the last call to dense
// returned (the caller has read that far) or it is made of hex digits and
// dashes alone and neither starts nor ends buf (no encoding of a key is);
// no stretch ends at or before that index. fn and dense are called as keys
// and stretches are met; fn returning false stops the search.
//
// It returns whether an eight-byte word it read at a sample holds a zero
// byte, as one always does in 82 bytes or more whose every other byte is
// zero (UTF-16 text of the Latin-1 range).
func FindDense(buf []byte, notifyContext bool, fn func(Match) bool, dense func(s, e int) int) (zero bool) {
	n := len(buf)
	known := 0 // as in Find
	skip := 0  // stretches that end at or before skip are not reported
	var zw uint64
	for i := PairLen - 1; i < n; {
		// The sample is buf[i]; its probe is the DenseProbe bytes ending there.
		probe := buf[i-15 : i+1 : i+1]
		w0 := binary.LittleEndian.Uint64(probe[0:8])
		w1 := binary.LittleEndian.Uint64(probe[8:16])
		zw |= (w1 - lsb) &^ w1
		full := denseWords(w0, w1)
		if !pairByte[probe[15]] {
			known = i + 1
			switch {
			case i < skip:
			case full:
				skip = dense(i-15, i+1)
			case probe[15] > ' ' && i+ahead+DenseProbe <= n && denseAt(buf, i+ahead) && denseAt(buf, i):
				// The sample may be near the start of a run of DenseReach
				// dense bytes: then its DenseProbe bytes, and those ahead
				// bytes further, are dense (most text has no such run).
				skip = dense(i, i+DenseProbe)
			}
			i += PairLen
			continue
		}
		p, r := pairRun(buf, i, known)
		if m, ok := matchRun(buf, p, r, notifyContext); ok {
			if !fn(m) {
				break
			}
		}
		// The run is dense. The next sample is PairLen past it, so the
		// stretch about it is reported here: the probe and the run, or,
		// when neither is DenseProbe long, the DenseProbe bytes after the
		// run, which any run of DenseReach dense bytes about it holds.
		switch {
		case r <= skip:
		case p > 0 && r < n && buf[p-1] <= ' ' && buf[r] <= ' ':
			// The dense run is this run of hex digits and dashes alone
			// (a rule of dashes, a hash): no encoding of a key is made of
			// those bytes (in base64 every group of a key's bytes begins
			// with an upper-case letter), so there is nothing to report.
		case full:
			skip = dense(min(p, i-15), r)
		case r-p >= DenseProbe:
			skip = dense(p, r)
		case r+DenseProbe <= n && denseWords(binary.LittleEndian.Uint64(buf[r:]), binary.LittleEndian.Uint64(buf[r+8:])):
			skip = dense(p, r+DenseProbe)
		}
		known = r
		i = r + PairLen
	}
	return zw&msb != 0
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// ahead is how far past a dense sample whose probe is not all dense
// FindDense looks for more dense bytes: a run of 64 dense bytes (a line of
// base64 wrapped at 64 columns) that holds the sample among its first
// DenseProbe-1 bytes reaches that far, and so does any longer run.
const ahead = 64 - 2*DenseProbe + 1

// denseAt reports whether the DenseProbe bytes at buf[i:] are all dense.
func denseAt(buf []byte, i int) bool {
	return denseWords(binary.LittleEndian.Uint64(buf[i:]), binary.LittleEndian.Uint64(buf[i+8:]))
}

// denseWords reports whether all sixteen bytes of w0 and w1 are dense.
func denseWords(w0, w1 uint64) bool {
	const space = lsb * 0x21
	return ((w0-space)&^w0|(w1-space)&^w1)&msb == 0
}
