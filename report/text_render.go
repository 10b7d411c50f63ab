package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxUnlisted bounds the unlisted names listed; the rest are counted.
const maxUnlisted = 20

// render writes the report in reading order: the verdict first, then the evidence, then the context that says
// how far the capture can be trusted. s is nil when the analysis ended without a summary.
func (t *textWriter) render(w io.Writer, s *result.Summary) {
	var b bytes.Buffer
	t.renderHeadline(&b)
	if s == nil {
		b.WriteString("(the analysis ended before its summary: requirements and capture facts are missing)\n")
		s = &result.Summary{}
	}
	t.renderFailing(&b, s.Rules)
	t.renderProblems(&b)
	t.renderUnlisted(&b, s.Unlisted)
	t.renderRules(&b, s.Rules)
	t.renderCapture(&b, &s.Capture)
	t.renderQuality(&b, &s.Capture)
	t.renderVerbose(&b)
	w.Write(b.Bytes())
}

// renderHeadline writes the one line that answers "did Intune traffic get through?".
func (t *textWriter) renderHeadline(b *bytes.Buffer) {
	failed := 0
	for _, n := range t.tally.failed {
		failed += n
	}
	if failed == 0 {
		line := "PASS: no Intune connection failed"
		if t.tally.matched == 0 {
			line += " (no Intune traffic seen)"
		}
		b.WriteString(paint(t.opts.Color, colorGreen, line) + "\n")
		return
	}
	line := fmt.Sprintf("FAIL: %s failed (%s) %s", plural(failed, "connection"), countList(t.tally.failed),
		t.spread())
	b.WriteString(paint(t.opts.Color, colorRed, line) + "\n")
}

// spread says how many requirements the failures touch.
func (t *textWriter) spread() string {
	reqs, unruled := len(t.failing), t.tally.unruled
	switch {
	case unruled == 0:
		return "across " + plural(reqs, "requirement")
	case reqs == 0:
		return "not tied to a requirement"
	}
	return fmt.Sprintf("across %s, %d not tied to one", plural(reqs, "requirement"), unruled)
}

// renderFailing lists failing requirements in table order, each with a few records as evidence.
func (t *textWriter) renderFailing(b *bytes.Buffer, rows []result.RuleSummary) {
	if len(t.failing) == 0 {
		return
	}
	b.WriteString("\nFailing requirements\n")
	for _, g := range failingOrder(t.failing, rows) {
		info := ruleInfo(g, rows)
		head := fmt.Sprintf("  %s  (%s)  %s", safetext.Text(info.Pattern), countList(g.counts), describeRule(info))
		b.WriteString(paint(t.opts.Color, colorRed, head) + "\n")
		t.renderEvidence(b, g, false)
	}
}

// failingOrder returns the groups in the order of the requirements table, unknown keys last by key.
func failingOrder(groups map[string]*group, rows []result.RuleSummary) []*group {
	pos := make(map[string]int, len(rows))
	for i := range rows {
		if _, seen := pos[rows[i].Key]; !seen {
			pos[rows[i].Key] = i
		}
	}
	rank := func(k string) int {
		if p, ok := pos[k]; ok {
			return p
		}
		return len(rows)
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	out := make([]*group, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// ruleInfo finds the summary row for g, or builds one from what its records said.
func ruleInfo(g *group, rows []result.RuleSummary) result.RuleSummary {
	for i := range rows {
		if rows[i].Key == g.key {
			return rows[i]
		}
	}
	return result.RuleSummary{Key: g.key, Pattern: g.rule, Purpose: g.purpose}
}

// describeRule is the bracketed part of a failing requirement's heading.
func describeRule(r result.RuleSummary) string {
	s := "[" + safetext.Text(r.Key)
	if r.Ports != "" {
		s += ", ports " + safetext.Text(r.Ports)
	}
	s += "]"
	if r.Purpose != "" {
		s += " " + safetext.Text(r.Purpose)
	}
	return s
}

// renderProblems lists what went wrong outside the failing requirements: ports a rule does not allow, failures
// not counted by --fail-on, and warnings.
func (t *textWriter) renderProblems(b *bytes.Buffer) {
	if len(t.problems) == 0 {
		return
	}
	b.WriteString("\nOther problems\n")
	for _, kind := range problemOrder(t.problems) {
		g := t.problems[kind]
		title, color := kind, colorYellow
		switch {
		case kind == kindWarning:
			title = "warnings"
		case t.isFail(rules.Verdict(kind)):
			color = colorRed
		}
		b.WriteString(paint(t.opts.Color, color, fmt.Sprintf("  %s (%d)", title, g.total)) + "\n")
		t.renderEvidence(b, g, true)
	}
}

// problemOrder sorts problem kinds in verdict order, warnings last.
func problemOrder(groups map[string]*group) []string {
	return slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		if (a == kindWarning) != (b == kindWarning) {
			if a == kindWarning {
				return 1
			}
			return -1
		}
		return compareVerdicts(rules.Verdict(a), rules.Verdict(b))
	})
}

// renderUnlisted lists Microsoft-looking names no requirement covers, most frequent first.
func (t *textWriter) renderUnlisted(b *bytes.Buffer, names []result.NameCount) {
	if len(names) == 0 {
		return
	}
	sorted := slices.Clone(names)
	slices.SortStableFunc(sorted, func(x, y result.NameCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Name, y.Name))
	})
	b.WriteString("\nUnlisted Microsoft names (no requirement covers them)\n")
	tb := table{indent: "  "}
	tb.add("", "COUNT", "NAME")
	for _, n := range sorted[:min(len(sorted), maxUnlisted)] {
		tb.add("", strconv.Itoa(n.Count), safetext.Text(n.Name))
	}
	tb.render(b, t.opts.Color)
	if rest := sorted[min(len(sorted), maxUnlisted):]; len(rest) > 0 {
		total := 0
		for _, n := range rest {
			total += n.Count
		}
		fmt.Fprintf(b, "  … and %s, seen %s\n", plural(len(rest), "more name"), plural(total, "time"))
	}
}

// renderRules writes the per-requirement table: every row of the rules, with its status and counts.
func (t *textWriter) renderRules(b *bytes.Buffer, rows []result.RuleSummary) {
	b.WriteString("\nRequirements\n")
	if len(rows) == 0 {
		b.WriteString("  none (no summary, or an empty rules table)\n")
		return
	}
	status := map[string]int{}
	tb := table{indent: "  "}
	tb.add("", "STATUS", "RULE", "PATTERN", "PORTS", "VERDICTS", "PURPOSE")
	for i := range rows {
		r := &rows[i]
		status[r.Status]++
		tb.add(statusColor(r.Status), safetext.Text(r.Status), safetext.Text(r.Key), safetext.Text(r.Pattern),
			safetext.Text(r.Ports), countList(verdictCounts(r.Verdicts)), safetext.Text(r.Purpose))
	}
	fmt.Fprintf(b, "  %d ok, %d failing, %d not seen\n", status["ok"], status["failing"], status["not-seen"])
	tb.render(b, t.opts.Color)
}

// statusColor is the colour of a requirement's status: red failing, green ok, dim not seen.
func statusColor(status string) string {
	switch status {
	case "ok":
		return colorGreen
	case "failing":
		return colorRed
	case "not-seen":
		return colorDim
	}
	return ""
}
