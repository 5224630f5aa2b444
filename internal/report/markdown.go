package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

// writeMarkdown writes a GitHub job summary: a heading, a one-line verdict,
// a table of findings, the counts, what was scanned, what could not be read,
// and how to fix. Table cells are escaped so that no path, name or detail
// can break the table or inject markup.
func writeMarkdown(w io.Writer, v *view) error {
	var b strings.Builder
	name := v.Tool.Name
	if name == "" {
		name = "notifyscan"
	}
	fmt.Fprintf(&b, "## %s report\n\n", mdText(name))
	b.WriteString(verdict(v) + "\n\n")

	if len(v.findings) > 0 {
		b.WriteString("| Key | Rule | Status | Commit | Author | Date | Location | Fix |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for i := range v.findings {
			writeRow(&b, v, &v.findings[i])
		}
		b.WriteString("\n")
		b.WriteString("**Counts:** " + statusCounts(v) + "\n\n")
	}
	if v.Ignored > 0 {
		fmt.Fprintf(&b, "%d %s suppressed by `notifyscan:allow` or `.notifyscanignore`.\n\n",
			v.Ignored, plural(v.Ignored, "finding was", "findings were"))
	}
	b.WriteString(scanned(v) + "\n")

	if len(v.Errors) > 0 {
		fmt.Fprintf(&b, "\n### Could not read (%d)\n\n", len(v.Errors))
		for _, e := range v.Errors {
			b.WriteString("- " + mdText(e) + "\n")
		}
	}
	var helps []string
	for i := range v.findings {
		if r := rules.ByID(v.findings[i].RuleID); r != nil && r.Help != "" && !slices.Contains(helps, r.Help) {
			helps = append(helps, r.Help)
		}
	}
	for _, h := range helps {
		b.WriteString("\n<details><summary>How to fix</summary>\n\n" + h + "\n\n</details>\n")
	}
	if v.Tool.Version != "" || v.Tool.InformationURI != "" {
		tool := mdText(strings.TrimSpace(name + " " + v.Tool.Version))
		if u := v.Tool.InformationURI; strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			tool = "[" + tool + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u) + ")"
		}
		b.WriteString("\n<sub>Report by " + tool + ".</sub>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// verdict is the one line that says whether anything was found.
func verdict(v *view) string {
	n := 0
	files := map[string]bool{}
	live := 0
	for i := range v.findings {
		if v.findings[i].Note != "" {
			continue // a policy finding about a key counted already
		}
		n++
		files[displayPath(&v.findings[i])] = true
		if level(v.status(&v.findings[i])) == "error" {
			live++
		}
	}
	if n == 0 {
		return "**No Notify API keys found.**"
	}
	s := fmt.Sprintf("**%d Notify API %s found** in %d %s.", n, plural(n, "key", "keys"), len(files), plural(len(files), "place", "places"))
	if live > 0 {
		s += fmt.Sprintf(" %d may be live: treat %s as compromised.", live, plural(live, "it", "them"))
	}
	return s
}

func writeRow(b *strings.Builder, v *view, f *rules.Finding) {
	st := v.status(f)
	key := "`" + strings.ReplaceAll(f.Key.Redacted(), "`", "") + "`"
	if f.Encoding != "" {
		key += " (" + mdText(f.Encoding) + ")"
	}
	var commit, author, date string
	if g := f.Git; g != nil {
		if g.Commit != "" {
			commit = "`" + mdCode(shortCommit(g.Commit)) + "`"
		}
		author, date = mdText(g.Author), mdText(day(g.Date))
	}
	loc := displayPath(f)
	if f.Line > 0 {
		loc += fmt.Sprintf(":%d", f.Line)
	}
	fix := fixHint(st)
	if f.Note != "" {
		fix = mdText(upperFirst(f.Note)) + ". " + fix
	}
	cells := []string{key, mdText(f.RuleID), st.Label(), commit, author, date, mdText(loc), fix}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// statusCounts is "1 active, 2 unverified": every status present, most
// severe first.
func statusCounts(v *view) string {
	count := map[rules.Status]int{}
	for i := range v.findings {
		count[v.status(&v.findings[i])]++
	}
	order := []rules.Status{rules.StatusActive, rules.StatusUnknown, rules.StatusUnverified,
		rules.StatusInactive, rules.StatusRevoked, rules.StatusInvalid}
	var parts []string
	for _, s := range order {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s.Label()))
		}
	}
	return strings.Join(parts, ", ")
}

// scanned says what was scanned: "Scanned (git): 3 files, 1.2 KiB, 4 blobs, 2 commits."
func scanned(v *view) string {
	s := "Scanned"
	if v.Command != "" {
		s += " (" + mdText(v.Command) + ")"
	}
	st := v.Stats
	parts := []string{fmt.Sprintf("%d %s", st.Files, plural(int(st.Files), "file", "files")), humanBytes(st.Bytes)}
	if st.Blobs > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", st.Blobs, plural(int(st.Blobs), "blob", "blobs")))
	}
	if st.Commits > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", st.Commits, plural(int(st.Commits), "commit", "commits")))
	}
	return s + ": " + strings.Join(parts, ", ") + "."
}

// humanBytes is n in B, KiB, MiB, GiB or TiB with one decimal.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB"} {
		f /= 1024
		if f < 1024 {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f TiB", f/1024)
}

// mdText makes s safe as inline Markdown text in a table cell or list item:
// line breaks become spaces, other control characters are escaped, and
// every character Markdown or HTML could read as markup is backslash-escaped.
func mdText(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	s = printable(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|#~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode makes s safe inside a code span in a table cell.
func mdCode(s string) string {
	return strings.NewReplacer("`", "", "|", "\\|", "\n", " ", "\r", " ").Replace(printable(s))
}
