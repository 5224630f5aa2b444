// Command gitgen writes a git fast-import stream of a large synthetic history
// for the git scan benchmark (internal/bench/git.sh): a main line of commits
// that each edit a few source-like files, side branches (most merged, some
// not), lightweight and annotated tags, and fresh Notify keys planted where
// history scanners miss them: in files deleted later, on unmerged branches,
// in commit and tag messages, and in a file that is still at HEAD.
//
// Keys are made at run time and never printed; the number of distinct
// (file, key) places planted is written to standard error as
// "planted N", which is the number of findings a history scan must report.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

func main() {
	commits := flag.Int("commits", 30000, "commits on the main line")
	files := flag.Int("files", 3000, "files in the tree")
	size := flag.Int("size", 16<<10, "average file size in bytes")
	edits := flag.Int("edits", 3, "files edited per commit")
	seed := flag.Uint64("seed", 1, "random seed for the content (keys are always fresh)")
	flag.Parse()
	g := &gen{
		w:   bufio.NewWriterSize(os.Stdout, 1<<20),
		rnd: rand.New(rand.NewPCG(*seed, 2)),
	}
	g.run(*commits, *files, *size, *edits)
	if err := g.w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gitgen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "planted %d\n", g.planted)
}

type gen struct {
	w       *bufio.Writer
	rnd     *rand.Rand
	mark    int
	time    int64
	planted int
	content [][]string // lines of each file on main
}

var words = strings.Fields(`func return if else for range var const type struct interface map string int
	error nil true false err ctx context request response handler service client server config value key name
	user account template notification email sms status message send queue retry timeout buffer reader writer
	package import http json yaml log fmt bytes strings sync time os path file line column index count total`)

// line is one line of pseudo source code, sometimes with a hash or a UUID,
// the shapes that keep a key matcher honest.
func (g *gen) line() string {
	var b strings.Builder
	indent := g.rnd.IntN(4)
	b.WriteString(strings.Repeat("\t", indent))
	n := 3 + g.rnd.IntN(9)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch r := g.rnd.IntN(40); {
		case r == 0:
			b.WriteString(rules.NewUUID())
		case r == 1:
			fmt.Fprintf(&b, "%016x%016x%08x", g.rnd.Uint64(), g.rnd.Uint64(), g.rnd.Uint32())
		case r < 5:
			fmt.Fprintf(&b, "%d", g.rnd.IntN(100000))
		default:
			b.WriteString(words[g.rnd.IntN(len(words))])
		}
	}
	return b.String()
}

func (g *gen) newFile(size int) []string {
	var lines []string
	for n := 0; n < size; {
		l := g.line()
		lines = append(lines, l)
		n += len(l) + 1
	}
	return lines
}

// path spreads files like a real tree: about 40 files a directory, ten
// directories a group.
func (g *gen) path(i int) string {
	return fmt.Sprintf("src/group%02d/dir%d/file%05d.go", i/400, i/40%10, i)
}

func key(name string) string { return "gcntfy-" + name + "-" + rules.NewUUID() + "-" + rules.NewUUID() }

func (g *gen) next() int { g.mark++; return g.mark }

func (g *gen) data(s string) { fmt.Fprintf(g.w, "data %d\n%s\n", len(s), s) }

// commit writes a commit on ref with the given file changes (path to
// content; "" deletes) and returns its mark.
func (g *gen) commit(ref string, from int, merge []int, msg string, changes []change) int {
	m := g.next()
	g.time += 60 + g.rnd.Int64N(3600)
	fmt.Fprintf(g.w, "commit %s\nmark :%d\n", ref, m)
	who := fmt.Sprintf("Dev %d <dev%d@example.com>", g.rnd.IntN(40), g.rnd.IntN(40))
	fmt.Fprintf(g.w, "author %s %d +0000\ncommitter %s %d +0000\n", who, g.time, who, g.time)
	g.data(msg)
	if from > 0 {
		fmt.Fprintf(g.w, "from :%d\n", from)
	}
	for _, p := range merge {
		fmt.Fprintf(g.w, "merge :%d\n", p)
	}
	for _, c := range changes {
		if c.content == "" {
			fmt.Fprintf(g.w, "D %s\n", c.path)
			continue
		}
		fmt.Fprintf(g.w, "M 100644 inline %s\n", c.path)
		g.data(c.content)
	}
	return m
}

type change struct{ path, content string }

func (g *gen) edit(i int) change {
	lines := g.content[i]
	at := g.rnd.IntN(len(lines) + 1)
	drop := min(g.rnd.IntN(4), len(lines)-at)
	add := []string{}
	for range 1 + g.rnd.IntN(6) {
		add = append(add, g.line())
	}
	out := append(append(append([]string{}, lines[:at]...), add...), lines[at+drop:]...)
	g.content[i] = out
	return change{g.path(i), strings.Join(out, "\n") + "\n"}
}

func (g *gen) run(commits, files, size, edits int) {
	g.time = 1500000000
	g.content = make([][]string, files)
	var first []change
	for i := range files {
		g.content[i] = g.newFile(size/2 + g.rnd.IntN(size))
		first = append(first, change{g.path(i), strings.Join(g.content[i], "\n") + "\n"})
	}
	head := g.commit("refs/heads/main", 0, nil, "initial import", first)
	for c := 1; c < commits; c++ {
		var ch []change
		for range 1 + g.rnd.IntN(2*edits-1) {
			ch = append(ch, g.edit(g.rnd.IntN(files)))
		}
		msg := fmt.Sprintf("change %d: %s %s", c, words[g.rnd.IntN(len(words))], words[g.rnd.IntN(len(words))])
		switch c % 5000 {
		case 100: // a key in a file that a later commit deletes
			ch = append(ch, change{"config/old.env", "NOTIFY_API_KEY=" + key("deleted") + "\n"})
			g.planted++
		case 101:
			ch = append(ch, change{"config/old.env", ""})
		case 200: // a key in a commit message
			msg += "\n\nused " + key("in-message") + " to test"
			g.planted++
		case 300: // a key that stays
			ch = append(ch, change{fmt.Sprintf("deploy/settings%d.py", c), "NOTIFY_KEY = \"" + key("kept") + "\"\n"})
			g.planted++
		}
		head = g.commit("refs/heads/main", head, nil, msg, ch)
		switch {
		case c%1000 == 0:
			fmt.Fprintf(g.w, "reset refs/tags/v%d\nfrom :%d\n\n", c/1000, head)
		case c%1000 == 500:
			fmt.Fprintf(g.w, "tag r%d\nfrom :%d\ntagger Release <rel@example.com> %d +0000\n", c/1000, head, g.time)
			msg := "release " + fmt.Sprint(c)
			if c%5000 == 500 {
				msg += "\nrollback key " + key("in-tag")
				g.planted++
			}
			g.data(msg)
		}
		if c%700 == 350 { // a side branch of a few commits
			ref := fmt.Sprintf("refs/heads/feature/%d", c)
			tip := head
			saved := map[int][]string{}
			for k := range 3 + g.rnd.IntN(8) {
				i := g.rnd.IntN(files)
				if _, ok := saved[i]; !ok {
					saved[i] = g.content[i]
				}
				ch := []change{g.edit(i)}
				if k == 1 && c%2100 == 350 { // an unmerged branch holding a key
					ch = append(ch, change{fmt.Sprintf("feature/%d/secrets.yaml", c), "notify_api_key: " + key("side") + "\n"})
					g.planted++
				}
				tip = g.commit(ref, tip, nil, fmt.Sprintf("feature %d step %d", c, k), ch)
			}
			if c%2100 == 350 {
				for i, lines := range saved {
					g.content[i] = lines
				}
				continue
			}
			var ch []change
			for i := range saved {
				ch = append(ch, change{g.path(i), strings.Join(g.content[i], "\n") + "\n"})
			}
			head = g.commit("refs/heads/main", head, []int{tip}, "Merge branch 'feature/"+fmt.Sprint(c)+"'", ch)
		}
	}
}
