package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

// annotationLimit is how many annotations of each kind GitHub shows for a
// step; more are dropped silently, so the rest are summed up in a notice.
const annotationLimit = 10

// writeGitHub writes GitHub Actions workflow commands: "::error" for keys
// that are or may be live, "::warning" for revoked, inactive and invalid
// ones, at most annotationLimit of each, most severe first, and then one
// "::notice" that counts the findings left out. Errors reading input are not
// annotations; the CLI reports them.
func writeGitHub(w io.Writer, v *view) error {
	type annotation struct {
		f   *rules.Finding
		st  rules.Status
		sev float64
	}
	var all []annotation
	for i := range v.findings {
		f := &v.findings[i]
		st := v.status(f)
		all = append(all, annotation{f, st, severity(st, f.RuleID)})
	}
	// Most severe first; report order among equals.
	slices.SortStableFunc(all, func(a, b annotation) int { return cmp.Compare(b.sev, a.sev) })

	var b strings.Builder
	var leftErrors, leftWarnings int
	counts := map[string]int{}
	for _, a := range all {
		cmd := "warning"
		if level(a.st) == "error" {
			cmd = "error"
		}
		if counts[cmd] == annotationLimit {
			if cmd == "error" {
				leftErrors++
			} else {
				leftWarnings++
			}
			continue
		}
		counts[cmd]++
		writeAnnotation(&b, cmd, v, a.f, a.st)
	}
	if left := leftErrors + leftWarnings; left > 0 {
		fmt.Fprintf(&b, "::notice title=%s::%s\n", escapeProperty("notifyscan"), escapeData(fmt.Sprintf(
			"%d more %s not annotated (%d errors, %d warnings): GitHub shows at most %d error and %d warning annotations per step. See the full report.",
			left, plural(left, "finding is", "findings are"), leftErrors, leftWarnings, annotationLimit, annotationLimit)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAnnotation(b *strings.Builder, cmd string, v *view, f *rules.Finding, st rules.Status) {
	var props []string
	if f.Path != "" && f.Path != "-" {
		props = append(props, "file="+escapeProperty(f.Path))
		if f.Line > 0 {
			props = append(props, "line="+strconv.Itoa(f.Line))
			if f.Column > 0 {
				props = append(props, "col="+strconv.Itoa(f.Column))
				if f.EndColumn > f.Column {
					props = append(props, "endColumn="+strconv.Itoa(f.EndColumn))
				}
			}
		}
	}
	title := "Notify API key"
	if r := rules.ByID(f.RuleID); r != nil {
		title = strings.TrimSuffix(r.Short, " in plain text")
	}
	if v.Verified {
		title += " (" + st.Label() + ")"
	}
	props = append(props, "title="+escapeProperty(title))

	msg := textMessage(v, f)
	if m := memberPath(f); m != "" {
		msg = "in archive member " + m + ": " + msg
	}
	msg += ". " + fixHint(st)
	fmt.Fprintf(b, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(msg))
}

// escapeData escapes a workflow command's message as the Actions runner
// expects (actions/toolkit, command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
