package scanner

// Base64 runs. A key is at least rules.PairLen (73) bytes, so its base64 form
// is a run of at least 97 alphabet characters at any byte alignment, found
// inside the tokens the pre-check hands over.
const minB64Run = 96 // alphabet characters a run needs to be decoded

// b64val is the value of a base64 character in either alphabet ('+' and '-'
// are 62, '/' and '_' are 63), or -1.
var b64val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" {
		t[c] = int8(i)
	}
	t['+'], t['-'] = 62, 62
	t['/'], t['_'] = 63, 63
	return t
}()

// b64Seg is one line of a run: buf[start:end], its characters starting at
// index clean in the run.
type b64Seg struct{ start, end, clean int }

// scanBase64 decodes every base64 run in the token buf[ts:te] long enough
// to hold a key. It returns where the last run ended, which is past te when
// a wrapped run goes on over the next lines.
func (d *decoder) scanBase64(buf []byte, ts, te, depth int, notifyContext bool, report reportFunc) int {
	end := te
	for i := ts; i < te; {
		if b64val[buf[i]] < 0 {
			i++
			continue
		}
		s := i
		for i < te && b64val[buf[i]] >= 0 {
			i++
		}
		if i-s < 64 {
			continue // neither a run that can hold a key nor a line of a wrapped one
		}
		segs, e := b64Join(buf, s, i)
		end = max(end, e)
		if chars := segs[len(segs)-1].clean + segs[len(segs)-1].end - segs[len(segs)-1].start; chars >= minB64Run {
			d.decodeRun(buf, segs, chars, depth, notifyContext, report)
		}
		if e > te {
			break
		}
	}
	return end
}

// b64Join returns the lines of the run that starts with buf[s:e]. A run
// wrapped at 64 or 76 characters (PEM, MIME, base64(1), openssl) continues
// over a line break (and the indentation of a YAML block) on whole lines of
// the same width, and ends with a line no longer. end is where the run
// stops. Runs of other widths are single lines: a Kubernetes value is
// followed by the next key, not by more of itself.
func b64Join(buf []byte, s, e int) ([]b64Seg, int) {
	width := e - s
	if width != 76 && width != 64 {
		return []b64Seg{{s, e, 0}}, e
	}
	segs := []b64Seg{{s, e, 0}}
	for {
		last := segs[len(segs)-1]
		if last.end-last.start != width {
			return segs, last.end
		}
		p := last.end
		if p < len(buf) && buf[p] == '\r' {
			p++
		}
		if p >= len(buf) || buf[p] != '\n' {
			return segs, last.end
		}
		p++
		for p < len(buf) && (buf[p] == ' ' || buf[p] == '\t') {
			p++
		}
		q := p
		for q < len(buf) && b64val[buf[q]] >= 0 && q-p <= width {
			q++
		}
		if q == p || q-p > width || (q < len(buf) && buf[q] != '\r' && buf[q] != '\n' && buf[q] != '=') {
			return segs, last.end
		}
		segs = append(segs, b64Seg{p, q, last.clean + width})
	}
}

// isBase64 reports whether b is all base64 characters.
func isBase64(b []byte) bool {
	for _, c := range b {
		if b64val[c] < 0 {
			return false
		}
	}
	return true
}

// b64BlockStart returns the start of the first line of the wrapped block
// whose line of the given width starts at s: it walks back over whole lines
// of that width, each followed by a line break and indentation.
func b64BlockStart(buf []byte, s, width int) int {
	for {
		p := s
		for p > 0 && (buf[p-1] == ' ' || buf[p-1] == '\t') {
			p--
		}
		if p == 0 || buf[p-1] != '\n' {
			return s
		}
		p--
		if p > 0 && buf[p-1] == '\r' {
			p--
		}
		q := p - width
		if q < 0 || !isBase64(buf[q:p]) || (q > 0 && b64val[buf[q-1]] >= 0) {
			return s
		}
		s = q
	}
}

// decodeRun decodes one run and matches what it holds. A run followed by
// '=' padding is aligned from its end; an unpadded one is decoded at each of
// the four character alignments, since its start may be glued to other text
// or cut by the window.
func (d *decoder) decodeRun(buf []byte, segs []b64Seg, chars, depth int, notifyContext bool, report reportFunc) {
	last := segs[len(segs)-1]
	var src []byte
	if len(segs) == 1 {
		src = buf[last.start:last.end]
	} else {
		c := d.clean[depth][:0]
		for _, sg := range segs {
			c = append(c, buf[sg.start:sg.end]...)
		}
		d.clean[depth] = c
		src = c
	}
	enc := EncBase64
	for _, c := range src {
		if c == '-' || c == '_' {
			enc = EncBase64URL
			break
		}
	}
	pad := 0
	for p := last.end; p < len(buf) && buf[p] == '=' && pad < 2; p++ {
		pad++
	}
	// pos maps a character index of src to its offset in buf.
	pos := func(c int) int {
		k := len(segs) - 1
		for k > 0 && segs[k].clean > c {
			k--
		}
		return segs[k].start + c - segs[k].clean
	}
	ctx := regionContext(notifyContext, buf, segs[0].start, last.end)
	try := func(a int) {
		d.bufs[depth] = b64Decode(d.bufs[depth][:0], src[a:])
		span := func(ds, de int) (int, int) {
			cs := a + ds*8/6
			ce := min(chars, a+(de*8+5)/6)
			return pos(cs), pos(ce-1) + 1
		}
		d.decoded(d.bufs[depth], depth, ctx, func(int, int) string { return enc }, span, nil, report)
	}
	if pad > 0 {
		try((chars + pad) % 4)
		return
	}
	for a := range 4 {
		try(a)
	}
}

// b64Decode appends to dst the bytes that src, base64 characters only,
// encodes; a final group of two or three characters gives one or two bytes.
func b64Decode(dst, src []byte) []byte {
	q := len(src) &^ 3
	for i := 0; i < q; i += 4 {
		v := uint(uint8(b64val[src[i]]))<<18 | uint(uint8(b64val[src[i+1]]))<<12 |
			uint(uint8(b64val[src[i+2]]))<<6 | uint(uint8(b64val[src[i+3]]))
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
	}
	switch len(src) - q {
	case 2:
		v := uint(uint8(b64val[src[q]]))<<18 | uint(uint8(b64val[src[q+1]]))<<12
		dst = append(dst, byte(v>>16))
	case 3:
		v := uint(uint8(b64val[src[q]]))<<18 | uint(uint8(b64val[src[q+1]]))<<12 | uint(uint8(b64val[src[q+2]]))<<6
		dst = append(dst, byte(v>>16), byte(v>>8))
	}
	return dst
}
