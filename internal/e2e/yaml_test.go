package e2e

import (
	"fmt"
	"strconv"
	"strings"
)

// parseYAML reads the block-style subset of YAML that action.yml,
// .pre-commit-hooks.yaml and the example workflows are written in: nested
// mappings and sequences, plain and quoted scalars, "|" and ">" block
// scalars, and comments. It returns map[string]any, []any and string values
// and refuses what it does not know (tabs, anchors, flow mappings), so a
// file that strays from the subset fails the structural tests instead of
// being misread. The module has no YAML dependency, and these files do not
// need one.
func parseYAML(src string) (any, error) {
	var ls []line
	for i, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(strings.TrimLeft(raw, " "), "\t") {
			return nil, fmt.Errorf("line %d: tab indentation", i+1)
		}
		ls = append(ls, line{n: i + 1, raw: raw, indent: len(raw) - len(strings.TrimLeft(raw, " "))})
	}
	p := &yamlParser{ls: ls}
	p.skip()
	if p.i >= len(p.ls) {
		return nil, nil
	}
	v, err := p.block(p.ls[p.i].indent)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.ls) {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.ls[p.i].n)
	}
	return v, nil
}

type line struct {
	n      int
	raw    string
	indent int
}

func (l line) text() string { return strings.TrimSpace(stripComment(l.raw)) }

type yamlParser struct {
	ls []line
	i  int
}

// skip moves past blank and comment-only lines.
func (p *yamlParser) skip() {
	for p.i < len(p.ls) && p.ls[p.i].text() == "" {
		p.i++
	}
}

// block reads the mapping or sequence whose lines start at column indent.
func (p *yamlParser) block(indent int) (any, error) {
	p.skip()
	if p.i >= len(p.ls) {
		return nil, nil
	}
	if t := p.ls[p.i].text(); t == "-" || strings.HasPrefix(t, "- ") {
		return p.sequence(indent)
	}
	return p.mapping(indent, nil)
}

func (p *yamlParser) sequence(indent int) ([]any, error) {
	var seq []any
	for p.skip(); p.i < len(p.ls) && p.ls[p.i].indent == indent; p.skip() {
		l := p.ls[p.i]
		t := l.text()
		if t != "-" && !strings.HasPrefix(t, "- ") {
			return nil, fmt.Errorf("line %d: expected a sequence item", l.n)
		}
		rest := strings.TrimSpace(strings.TrimPrefix(t, "-"))
		switch {
		case rest == "":
			p.i++
			p.skip()
			if p.i >= len(p.ls) || p.ls[p.i].indent <= indent {
				seq = append(seq, nil)
				continue
			}
			v, err := p.block(p.ls[p.i].indent)
			if err != nil {
				return nil, err
			}
			seq = append(seq, v)
		case isMappingEntry(rest):
			// "- key: value" starts a mapping whose keys sit after "- ".
			col := indent + (len(t) - len(strings.TrimLeft(strings.TrimPrefix(t, "-"), " ")))
			first := line{n: l.n, raw: strings.Repeat(" ", col) + rest, indent: col}
			m, err := p.mapping(col, &first)
			if err != nil {
				return nil, err
			}
			seq = append(seq, m)
		default:
			p.i++
			s, err := scalar(rest, l.n)
			if err != nil {
				return nil, err
			}
			seq = append(seq, s)
		}
	}
	return seq, nil
}

// mapping reads "key: value" lines at column indent; first, when set,
// stands in for the current line (the first entry of a sequence item).
func (p *yamlParser) mapping(indent int, first *line) (map[string]any, error) {
	m := map[string]any{}
	for {
		var l line
		if first != nil {
			l, first = *first, nil
		} else {
			p.skip()
			if p.i >= len(p.ls) || p.ls[p.i].indent != indent {
				return m, nil
			}
			l = p.ls[p.i]
		}
		t := l.text()
		if !isMappingEntry(t) {
			return nil, fmt.Errorf("line %d: expected key: value", l.n)
		}
		key, rest := splitEntry(t)
		if k, err := scalar(key, l.n); err == nil {
			key = k
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", l.n, key)
		}
		p.i++
		switch {
		case rest == "":
			p.skip()
			if p.i < len(p.ls) && (p.ls[p.i].indent > indent || (p.ls[p.i].indent == indent && strings.HasPrefix(p.ls[p.i].text(), "- "))) {
				v, err := p.block(p.ls[p.i].indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
			} else {
				m[key] = nil
			}
		case strings.HasPrefix(rest, "|") || strings.HasPrefix(rest, ">"):
			m[key] = p.blockScalar(indent, rest)
		default:
			s, err := scalar(rest, l.n)
			if err != nil {
				return nil, err
			}
			m[key] = s
		}
	}
}

// blockScalar reads the lines of a "|" or ">" scalar (with "-" or "+").
func (p *yamlParser) blockScalar(indent int, header string) string {
	var body []string
	col := -1
	for p.i < len(p.ls) {
		l := p.ls[p.i]
		if strings.TrimSpace(l.raw) == "" {
			body = append(body, "")
			p.i++
			continue
		}
		if l.indent <= indent {
			break
		}
		if col < 0 {
			col = l.indent
		}
		body = append(body, l.raw[min(col, l.indent):])
		p.i++
	}
	for len(body) > 0 && body[len(body)-1] == "" {
		body = body[:len(body)-1]
	}
	sep := "\n"
	if header[0] == '>' {
		sep = " "
	}
	s := strings.Join(body, sep)
	if !strings.Contains(header, "-") {
		s += "\n"
	}
	return s
}

func isMappingEntry(t string) bool {
	if strings.HasPrefix(t, "\"") || strings.HasPrefix(t, "'") {
		q := t[0]
		end := strings.IndexByte(t[1:], q)
		return end >= 0 && strings.HasPrefix(t[end+2:], ":")
	}
	i := strings.Index(t, ":")
	return i > 0 && (i == len(t)-1 || t[i+1] == ' ')
}

func splitEntry(t string) (key, rest string) {
	if strings.HasPrefix(t, "\"") || strings.HasPrefix(t, "'") {
		end := strings.IndexByte(t[1:], t[0]) + 2
		return t[:end], strings.TrimSpace(t[end+1:])
	}
	i := strings.Index(t, ":")
	return strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
}

// scalar reads a one-line scalar.
func scalar(s string, n int) (string, error) {
	switch {
	case strings.HasPrefix(s, "\""):
		v, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("line %d: bad double-quoted string %s", n, s)
		}
		return v, nil
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") {
			return "", fmt.Errorf("line %d: bad single-quoted string %s", n, s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case strings.HasPrefix(s, "&"), strings.HasPrefix(s, "*"), strings.HasPrefix(s, "{"), strings.HasPrefix(s, "["), strings.HasPrefix(s, "!"):
		return "", fmt.Errorf("line %d: %q is outside the YAML subset these files use", n, s)
	}
	return s, nil
}

// stripComment drops a " #" comment that is not inside quotes.
func stripComment(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "#") {
		return ""
	}
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			if i == 0 || s[i-1] == ' ' || s[i-1] == ':' {
				q = c
			}
		case c == '#' && i > 0 && s[i-1] == ' ':
			return s[:i]
		}
	}
	return s
}
