package regress

import (
	"maps"
	"slices"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// Compare reports how now differs from base. A requirement whose status got worse (ok before not-seen before
// failing: ok to not-seen, ok to failing, not-seen to failing), a name newly blocked or reset, and a name newly
// unlisted are worse, and fail a case; a requirement that became ok and a problem name that went away are
// better, and only reported. c is the collection now was built from, for the
// evidence of worse changes. Every requirement row gets a case, then one case for new failing names and one for
// new unlisted names.
func Compare(base, now *Baseline, c *Collector) ([]Case, []Change) {
	var cases []Case
	var changes []Change
	before := map[string]BaselineRule{}
	for _, r := range base.Requirements {
		before[r.Key] = r
	}
	for _, r := range now.Requirements {
		cs, ch := compareRule(before[r.Key], r, c)
		cases = append(cases, cs)
		changes = append(changes, ch...)
	}
	cs, ch := compareNames("failing-name", "no new blocked or reset names", base.FailingNames, now.FailingNames, c.failing)
	cases, changes = append(cases, cs), append(changes, ch...)
	cs, ch = compareNames("unlisted-name", "no new unlisted names", base.UnlistedNames, now.UnlistedNames, c.unlisted)
	return append(cases, cs), append(changes, ch...)
}

// compareRule compares one requirement row; old is zero when the baseline did not have the row.
func compareRule(old, cur BaselineRule, c *Collector) (Case, []Change) {
	oldStatus := old.Status
	if oldStatus == "" {
		oldStatus = string(StatusNotSeen)
	}
	worse := statusRank(cur.Status) > statusRank(oldStatus)
	better := oldStatus != string(StatusOK) && cur.Status == string(StatusOK)
	detail := strings.TrimSpace(cur.Pattern + " " + parens(cur.Purpose))
	cs := Case{
		Suite: SuiteBaseline, Name: "requirement " + cur.Key + " " + detail, Expected: "not worse than " + oldStatus,
		Actual: cur.Status + " (" + mapText(cur.Verdicts) + ")", Pass: !worse,
	}
	if !worse && !better {
		return cs, nil
	}
	ch := Change{Kind: "requirement", Subject: cur.Key, Detail: detail, Before: oldStatus, After: cur.Status, Worse: worse}
	if worse {
		if t := c.rows[cur.Key]; t != nil {
			ch.Evidence = t.examples.pick(maxExamples, true)
		}
		cs.Evidence = ch.Evidence
	}
	return cs, []Change{ch}
}

// compareNames finds the names that appeared in (worse) or vanished from (better) a problem list.
func compareNames(kind, title string, old, cur []BaselineName, now map[string]*tally) (Case, []Change) {
	had := map[string]map[string]int{}
	for _, n := range old {
		had[n.Name] = n.Verdicts
	}
	has := map[string]bool{}
	var changes []Change
	var added []string
	cs := Case{Suite: SuiteBaseline, Name: title, Expected: "none", Actual: "none", Pass: true}
	for _, n := range cur {
		has[n.Name] = true
		if _, ok := had[n.Name]; ok {
			continue
		}
		ch := Change{Kind: kind, Subject: n.Name, Before: "none", After: mapText(n.Verdicts), Worse: true}
		if t := now[n.Name]; t != nil {
			ch.Evidence = t.examples.pick(1, true)
			cs.Evidence = append(cs.Evidence, ch.Evidence...)
		}
		changes = append(changes, ch)
		added = append(added, n.Name)
	}
	for _, n := range old {
		if !has[n.Name] {
			changes = append(changes, Change{Kind: kind, Subject: n.Name, Before: mapText(n.Verdicts), After: "none"})
		}
	}
	if len(added) > 0 {
		cs.Pass = false
		cs.Actual = itoa(len(added)) + " new: " + strings.Join(added[:min(20, len(added))], ", ")
		if len(added) > 20 {
			cs.Actual += ", ..."
		}
	}
	return cs, changes
}

// statusRank orders requirement statuses from best to worst: ok, not-seen, failing. A status outside the
// vocabulary ranks as not-seen.
func statusRank(s string) int {
	switch Status(s) {
	case StatusOK:
		return 0
	case StatusFailing:
		return 2
	}
	return 1
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// mapText renders verdict counts in report order, like countsText: "allowed 3, reset 1".
func mapText(m map[string]int) string {
	if len(m) == 0 {
		return "no records"
	}
	var parts []string
	for _, v := range rules.Verdicts() {
		if n, ok := m[string(v)]; ok {
			parts = append(parts, string(v)+" "+itoa(n))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if verdictIndex(rules.Verdict(k)) < 0 {
			parts = append(parts, k+" "+itoa(m[k]))
		}
	}
	return strings.Join(parts, ", ")
}
