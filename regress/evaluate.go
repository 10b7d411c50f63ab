package regress

import (
	"slices"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// Evaluate checks every expectation against what the collector saw, in file order: requirements, names,
// verdict ceilings, never_unlisted. Resolve must have run. A failing case carries example records.
func Evaluate(e *Expectations, c *Collector) []Case {
	var out []Case
	for i := range e.Requirements {
		out = append(out, evalRequirement(e, &e.Requirements[i], c))
	}
	for i := range e.Names {
		out = append(out, evalName(e, &e.Names[i], c))
	}
	for _, m := range e.Max {
		out = append(out, evalMax(e, m, c))
	}
	for _, u := range e.NeverUnlisted {
		out = append(out, evalUnlisted(e, u, c))
	}
	return out
}

// evalRequirement judges the rows a requirement names together: failing if any is failing, ok if any is ok.
func evalRequirement(e *Expectations, r *Requirement, c *Collector) Case {
	var total counts
	var statuses []Status
	var ex examples
	for _, key := range r.Keys {
		st, n, _ := c.ruleStatus(key)
		statuses = append(statuses, st)
		for i := range n {
			total[i] += n[i]
		}
		if t := c.rows[key]; t != nil {
			ex.failing = append(ex.failing, t.examples.failing...)
			ex.other = append(ex.other, t.examples.other...)
		}
	}
	got := combine(statuses)
	pass := statusAllows(r.Status, got) && verdictsMatch(r.Verdicts, &total)
	cs := Case{
		Suite: SuiteRequirements, Name: "requirement " + requirementTitle(r), File: e.File, Line: r.At.Line,
		Expected: expectedText(r.Status, r.Verdicts), Actual: string(got) + " (" + countsText(total) + ")",
		Pass: pass, Note: r.Note,
	}
	if !pass {
		cs.Evidence = ex.pick(maxExamples, got == StatusFailing || !slices.Contains(r.Status, StatusFailing))
	}
	return cs
}

// combine folds the statuses of several rows into one.
func combine(list []Status) Status {
	switch {
	case slices.Contains(list, StatusFailing):
		return StatusFailing
	case slices.Contains(list, StatusOK):
		return StatusOK
	}
	return StatusNotSeen
}

// requirementTitle names a requirement as the file did, with the rows it stands for.
func requirementTitle(r *Requirement) string {
	title := r.Ref
	if r.By != "rule" {
		title = r.By + " " + r.Ref
	}
	if len(r.Keys) == 1 && r.By != "rule" {
		title += " (" + r.Keys[0] + ")"
	} else if len(r.Keys) > 1 {
		title += " (" + strings.Join(r.Keys, ", ") + ")"
	}
	return title
}

// verdictsMatch says whether exactly the expected verdicts were seen; no expectation always matches.
func verdictsMatch(want []rules.Verdict, n *counts) bool {
	return want == nil || slices.Equal(want, n.seen())
}

// expectedText renders an expectation for a report: "status ok", "status ok or not-seen, verdicts allowed".
func expectedText(status []Status, verdicts []rules.Verdict) string {
	var parts []string
	if len(status) > 0 {
		parts = append(parts, "status "+statusWords(status))
	}
	if verdicts != nil {
		parts = append(parts, "verdicts exactly "+verdictList(verdicts))
	}
	return strings.Join(parts, ", ")
}

func evalName(e *Expectations, n *NameExpect, c *Collector) Case {
	t := c.tracked[n.Name]
	if t == nil {
		t = &tally{}
	}
	got := t.counts.nameStatus()
	pass := statusAllows(n.Status, got) && verdictsMatch(n.Verdicts, &t.counts)
	cs := Case{
		Suite: SuiteNames, Name: "name " + n.Name, File: e.File, Line: n.At.Line,
		Expected: expectedText(n.Status, n.Verdicts), Actual: string(got) + " (" + countsText(t.counts) + ")",
		Pass: pass, Note: n.Note,
	}
	if !pass {
		cs.Evidence = t.examples.pick(maxExamples, got == StatusFailing || !slices.Contains(n.Status, StatusFailing))
	}
	return cs
}

func evalMax(e *Expectations, m VerdictMax, c *Collector) Case {
	vi := verdictIndex(m.Verdict)
	t := &c.verdicts[vi]
	got := t.counts[vi]
	cs := Case{
		Suite: SuiteVerdicts, Name: "at most " + itoa(m.Max) + " " + string(m.Verdict), File: e.File,
		Line: m.At.Line, Expected: "at most " + itoa(m.Max), Actual: itoa(got), Pass: got <= m.Max,
	}
	if !cs.Pass {
		cs.Evidence = t.examples.pick(maxExamples, failingVerdict(m.Verdict))
	}
	return cs
}

func evalUnlisted(e *Expectations, u UnlistedName, c *Collector) Case {
	var hits []string
	for name := range c.unlisted {
		if u.Matches(name) {
			hits = append(hits, name)
		}
	}
	slices.Sort(hits)
	cs := Case{
		Suite: SuiteUnlisted, Name: "never unlisted " + u.Pattern, File: e.File, Line: u.At.Line,
		Expected: "no unlisted name", Actual: "none", Pass: len(hits) == 0,
	}
	if len(hits) > 0 {
		cs.Actual = itoa(len(hits)) + " unlisted: " + strings.Join(hits[:min(20, len(hits))], ", ")
		if len(hits) > 20 {
			cs.Actual += ", ..."
		}
		for _, name := range hits[:min(maxExamples, len(hits))] {
			cs.Evidence = append(cs.Evidence, c.unlisted[name].examples.pick(1, false)...)
		}
	}
	return cs
}
