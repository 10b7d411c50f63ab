package regress

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
)

// WriteText writes the result for a person reading a CI log: one PASS or FAIL line per case, the evidence
// under each failure, the changes from a baseline, then the totals and, when the captures cannot tell, why the
// check is inconclusive. quiet leaves out passing cases.
func WriteText(w io.Writer, r *Result, quiet bool) error {
	bw := bufio.NewWriter(w)
	for _, c := range r.Cases {
		if c.Pass && quiet {
			continue
		}
		writeCaseText(bw, &c)
	}
	writeChangesText(bw, r.Changes)
	for _, warn := range r.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", safetext.Text(warn))
	}
	failed := r.Failed()
	verdict := map[string]string{OutcomePass: "PASSED", OutcomeFail: "FAILED", OutcomeInconclusive: "INCONCLUSIVE"}[r.Outcome()]
	fmt.Fprintf(bw, "%s: %d checks, %d passed, %d failed\n", verdict, len(r.Cases), len(r.Cases)-failed, failed)
	if len(r.Inconclusive) > 0 && failed > 0 {
		fmt.Fprintln(bw, "  and the captures cannot show everything:")
	}
	for _, why := range r.Inconclusive {
		fmt.Fprintf(bw, "  - %s\n", safetext.Text(why))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

func writeCaseText(w io.Writer, c *Case) {
	if c.Pass {
		fmt.Fprintf(w, "PASS  %s: %s\n", safetext.Text(c.Name), safetext.Text(c.Actual))
		return
	}
	where := ""
	if src := c.Source(); src != "" {
		where = "  (" + src + ")"
	}
	fmt.Fprintf(w, "FAIL  %s: %s%s\n", safetext.Text(c.Name), safetext.Text(c.Message()), where)
	if c.Note != "" {
		fmt.Fprintf(w, "      note: %s\n", safetext.Text(c.Note))
	}
	for _, e := range c.Evidence {
		fmt.Fprintf(w, "      %s\n", e.String())
	}
}

func writeChangesText(w io.Writer, changes []Change) {
	for _, worse := range []bool{true, false} {
		for _, ch := range changes {
			if ch.Worse != worse {
				continue
			}
			word := "BETTER"
			if worse {
				word = "WORSE "
			}
			fmt.Fprintf(w, "%s %s\n", word, changeLine(&ch))
		}
	}
}

// changeLine is one change in words: "requirement intune-2015:14 *.update.microsoft.com: ok -> failing".
func changeLine(ch *Change) string {
	what := strings.ReplaceAll(ch.Kind, "-", " ") + " " + safetext.Text(ch.Subject)
	if ch.Detail != "" {
		what += " " + safetext.Text(ch.Detail)
	}
	return what + ": " + ch.Before + " -> " + ch.After
}
