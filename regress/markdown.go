package regress

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
)

// WriteMarkdown writes the result as a pull-request comment: the verdict in the heading, the failures with
// their evidence, the changes from a baseline, and every check folded away below. Strings from packets are
// escaped twice: for the terminal-safe form, then for Markdown, so a crafted name cannot inject links or HTML.
func WriteMarkdown(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	failed := r.Failed()
	switch {
	case r.Outcome() == OutcomeInconclusive:
		fmt.Fprintf(bw, "## intunecap check: inconclusive (%d checks passed, but the captures cannot tell)\n\n", len(r.Cases))
		for _, why := range r.Inconclusive {
			fmt.Fprintf(bw, "- %s\n", md(why))
		}
		fmt.Fprintln(bw)
	case failed == 0:
		fmt.Fprintf(bw, "## intunecap check: passed (%d checks)\n\n", len(r.Cases))
	default:
		fmt.Fprintf(bw, "## intunecap check: %d of %d checks failed\n\n", failed, len(r.Cases))
	}
	writeInputsMarkdown(bw, r)
	writeFailuresMarkdown(bw, r)
	writeChangesMarkdown(bw, r.Changes)
	for _, warn := range r.Warnings {
		fmt.Fprintf(bw, "> warning: %s\n\n", md(warn))
	}
	writeAllMarkdown(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

func writeInputsMarkdown(w io.Writer, r *Result) {
	fmt.Fprintf(w, "Captures: %s  \nRules: %s  \n", mdList(r.Captures), mdList(r.Rules))
	if r.Expectations != "" {
		fmt.Fprintf(w, "Expectations: %s  \n", md(r.Expectations))
	}
	if r.Baseline != "" {
		fmt.Fprintf(w, "Baseline: %s  \n", md(r.Baseline))
	}
	fmt.Fprintln(w)
}

func writeFailuresMarkdown(w io.Writer, r *Result) {
	if r.Failed() == 0 {
		return
	}
	fmt.Fprint(w, "### Failures\n\n| Check | Expected | Got | Where |\n|---|---|---|---|\n")
	for _, c := range r.Cases {
		if !c.Pass {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", md(c.Name), md(c.Expected), md(c.Actual), md(c.Source()))
		}
	}
	fmt.Fprintln(w)
	for _, c := range r.Cases {
		if c.Pass || len(c.Evidence) == 0 && c.Note == "" {
			continue
		}
		var lines []string
		if c.Note != "" {
			lines = append(lines, "note: "+safetext.Text(c.Note))
		}
		for _, e := range c.Evidence {
			lines = append(lines, e.String())
		}
		fmt.Fprintf(w, "**%s**\n\n%s\n", md(c.Name), codeBlock(lines))
	}
}

func writeChangesMarkdown(w io.Writer, changes []Change) {
	for _, worse := range []bool{true, false} {
		title := "### Better than the baseline\n\n"
		if worse {
			title = "### Worse than the baseline\n\n"
		}
		for _, ch := range changes {
			if ch.Worse != worse {
				continue
			}
			fmt.Fprint(w, title)
			title = ""
			fmt.Fprintf(w, "- %s\n", md(changeLine(&ch)))
		}
		if title == "" {
			fmt.Fprintln(w)
		}
	}
}

func writeAllMarkdown(w io.Writer, r *Result) {
	fmt.Fprintf(w, "<details><summary>All %d checks</summary>\n\n| | Check | Got |\n|---|---|---|\n", len(r.Cases))
	for _, c := range r.Cases {
		mark := "pass"
		if !c.Pass {
			mark = "**FAIL**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", mark, md(c.Name), md(c.Actual))
	}
	fmt.Fprint(w, "\n</details>\n")
}

// mdSpecial are the characters that carry meaning in GitHub and GitLab Markdown, escaped with a backslash.
const mdSpecial = "\\`*_{}[]<>#|~&!.@"

// md makes text literal in Markdown and in a table cell; it never contains a newline.
func md(s string) string {
	s = safetext.Text(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(mdSpecial, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func mdList(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = md(s)
	}
	return strings.Join(parts, ", ")
}

// codeBlock fences lines with more backticks than any run inside them, so nothing can close it early.
func codeBlock(lines []string) string {
	body := strings.Join(lines, "\n")
	longest, run := 0, 0
	for i := 0; i < len(body); i++ {
		if body[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "text\n" + body + "\n" + fence + "\n"
}
