package report

import (
	"bytes"
	"cmp"
	"fmt"
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
func (t *textWriter) render(b *bytes.Buffer, s *result.Summary) {
	t.renderHeadline(b, t.decide(s), s)
	if s == nil {
		b.WriteString("(the analysis ended before its summary: requirements and capture facts are missing)\n")
		s = &result.Summary{}
	}
	t.renderFailing(b, s.Rules)
	t.renderProblems(b)
	t.renderInspection(b)
	t.renderUnlisted(b, s)
	renderProxies(b, s, t.opts.Color)
	t.renderRules(b, s.Rules)
	renderDevices(b, s, t.opts.Color)
	t.renderCapture(b, &s.Capture)
	t.renderQuality(b, &s.Capture)
	t.renderVerbose(b)
}

// renderFailing lists failing requirements in table order, each with a few records as evidence.
func (t *textWriter) renderFailing(b *bytes.Buffer, rows []result.RuleSummary) {
	if len(t.failing) == 0 {
		return
	}
	b.WriteString("\nFailing requirements\n")
	for _, g := range failingOrder(t.failing, rows) {
		info := ruleInfo(g, rows)
		head := fmt.Sprintf("  %s  (%s)  %s", safetext.Text(info.Pattern), countList(g.counts), describeRule(info, t.opts.Wide))
		b.WriteString(paint(t.opts.Color, colorRed, head) + "\n")
		if !t.opts.Wide && info.Purpose != "" {
			b.WriteString("    for " + safetext.Text(info.Purpose) + "\n")
		}
		t.renderEvidence(b, g, false)
		renderGroupFilter(b, g)
	}
}

// textFilterRecords bounds the records whose display filters the text report ORs per failing requirement; the
// JSON summary's display_filter carries up to ten.
const textFilterRecords = 3

// renderGroupFilter writes a Wireshark display filter for a failing requirement's first records, wrapped.
func renderGroupFilter(b *bytes.Buffer, g *group) {
	var filters []string
	for _, ex := range g.examples() {
		filters = append(filters, ex.r.DisplayFilter)
	}
	if f := result.JoinFilters(filters, textFilterRecords); f != "" {
		wrap(b, "wireshark: "+safetext.Text(f), "    ", reportWidth)
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

// describeRule is the bracketed part of a failing requirement's heading; the wide layout adds the purpose.
func describeRule(r result.RuleSummary, wide bool) string {
	s := "[" + safetext.Text(r.Key)
	if r.Ports != "" {
		s += ", ports " + safetext.Text(r.Ports)
	}
	s += "]"
	if wide && r.Purpose != "" {
		s += " " + safetext.Text(r.Purpose)
	}
	return s
}

// renderProblems lists what went wrong outside the failing requirements: failures to unlisted Microsoft names,
// ports a rule does not allow, failures not counted by --fail-on, and warnings.
func (t *textWriter) renderProblems(b *bytes.Buffer) {
	kinds := problemOrder(t.problems)
	if g := t.problems[kindUnlistedFailure]; g != nil {
		g.total = t.tracker.Failing() // failed lookups forgiven by a later answer are not problems
		if g.total == 0 {
			kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == kindUnlistedFailure })
		}
	}
	if len(kinds) == 0 {
		return
	}
	b.WriteString("\nOther problems\n")
	for _, kind := range kinds {
		g := t.problems[kind]
		title, color := kind, colorYellow
		switch {
		case kind == kindWarning:
			title = "warnings"
		case kind == kindUnlistedFailure:
			title, color = "blocked or reset, to unlisted Microsoft names", colorRed
		case t.isFail(rules.Verdict(kind)):
			color = colorRed
		}
		b.WriteString(paint(t.opts.Color, color, fmt.Sprintf("  %s (%d)", title, g.total)) + "\n")
		t.renderEvidence(b, g, true)
	}
}

// problemOrder sorts problem kinds: failures to unlisted names first, then verdict order, warnings last.
func problemOrder(groups map[string]*group) []string {
	rank := func(k string) int {
		switch k {
		case kindUnlistedFailure:
			return 0
		case kindWarning:
			return 2
		}
		return 1
	}
	return slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), compareVerdicts(rules.Verdict(a), rules.Verdict(b)))
	})
}

// renderUnlisted lists Microsoft-looking names no requirement covers, most frequent first, and how many of
// them another built-in table lists.
// Past the engine's cap on the list, the rest is said from the summary's totals (an estimate of the names).
func (t *textWriter) renderUnlisted(b *bytes.Buffer, s *result.Summary) {
	names, cov := s.Unlisted, s.UnlistedCoverage
	if len(names) == 0 {
		return
	}
	sorted := slices.Clone(names)
	slices.SortStableFunc(sorted, func(x, y result.NameCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Name, y.Name))
	})
	b.WriteString("\nUnlisted Microsoft names (no requirement covers them)\n")
	if cov != nil && cov.Names > 0 {
		some := fmt.Sprintf("%d of them", cov.Names)
		if cov.Names == cov.Of {
			some = "all of them"
		}
		fmt.Fprintf(b, "  --rules %s lists %s\n", safetext.Text(cov.Rules), some)
	}
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
		if !s.UnlistedNamesEstimated {
			fmt.Fprintf(b, "  … and %s, seen %s\n", plural(len(rest), "more name"), plural(total, "time"))
		}
	}
	if s.UnlistedNamesEstimated {
		shown := min(len(sorted), maxUnlisted)
		total := s.UnlistedOmitted
		for _, n := range sorted[shown:] {
			total += n.Count
		}
		fmt.Fprintf(b, "  … and about %s (estimated; at least %d), seen %s\n",
			plural(max(s.UnlistedNames-shown, len(sorted)-shown+1), "more name"), len(sorted)-shown+1, plural(total, "time"))
	}
}

// renderRules writes the per-requirement table: every row of the rules, with its status and counts. The wide
// layout has a PURPOSE column; the narrow one says each purpose once, above its rows.
func (t *textWriter) renderRules(b *bytes.Buffer, rows []result.RuleSummary) {
	b.WriteString("\nRequirements\n")
	if len(rows) == 0 {
		b.WriteString("  none (no summary, or an empty rules table)\n")
		return
	}
	status := map[string]int{}
	tb := table{indent: "    "}
	if t.opts.Wide {
		tb.indent = "  "
	}
	head := []string{"STATUS", "RULE", "PATTERN", "PORTS", "VERDICTS"}
	if t.opts.Wide {
		head = append(head, "PURPOSE")
	}
	tb.add("", head...)
	purpose := ""
	for i := range rows {
		r := &rows[i]
		if r.Table == "proxy" { // the Proxies section shows these, proxy by proxy
			continue
		}
		status[r.Status]++
		cells := []string{safetext.Text(r.Status), safetext.Text(r.Key), safetext.Text(r.Pattern),
			safetext.Text(r.Ports), countList(verdictCounts(r.Verdicts))}
		if t.opts.Wide {
			cells = append(cells, safetext.Text(r.Purpose))
		}
		tb.add(statusColor(r.Status), cells...)
		if !t.opts.Wide && r.Purpose != purpose {
			purpose = r.Purpose
			tb.above("  " + safetext.Text(purpose) + ":")
		}
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
