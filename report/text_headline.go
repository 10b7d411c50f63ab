package report

import (
	"bytes"
	"fmt"
	"maps"
	"strings"

	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
)

// decide is the run's outcome as outcome.Decide gives it. A summary that went through outcome.Sink carries it;
// a writer driven directly (tests, live mode) decides from its own counts, which are the same counts.
func (t *textWriter) decide(s *result.Summary) outcome.Decision {
	if s == nil {
		if t.failures() > 0 {
			return outcome.Decision{Outcome: outcome.Fail}
		}
		return outcome.Decision{Outcome: outcome.Inconclusive,
			Reasons: []string{"the analysis ended before its summary"}}
	}
	if s.Outcome != "" {
		return outcome.Decision{Outcome: outcome.Outcome(s.Outcome), Reasons: s.OutcomeReasons}
	}
	c := *s
	c.Failing = t.listedFailures()
	c.UnlistedFailing = t.tracker.Failing()
	return outcome.Decide(&c, t.opts.policy())
}

// listedFailures counts the records whose own verdict is in --fail-on.
func (t *textWriter) listedFailures() int {
	n := 0
	for _, c := range t.tally.failed {
		n += c
	}
	return n
}

// failures counts every failure: listed, and to unlisted Microsoft names.
func (t *textWriter) failures() int { return t.listedFailures() + t.tracker.Failing() }

// renderHeadline writes the lines that answer "did Intune traffic get through?": the outcome, then what it
// rests on. The words are the sections' words: connections and DNS lookups.
func (t *textWriter) renderHeadline(b *bytes.Buffer, d outcome.Decision, s *result.Summary) {
	var line, color string
	switch d.Outcome {
	case outcome.Fail:
		line, color = t.failLine(), colorRed
		if t.failures() == 0 && s != nil {
			line = "FAIL: " + plural(s.ProxyFailing, "failing proxy requirement") + " (see Proxies)"
		}
	case outcome.Pass:
		line, color = t.passLine(s), colorGreen
	default:
		line, color = "INCONCLUSIVE: this capture cannot show whether Intune traffic gets through", colorYellow
	}
	b.WriteString(paint(t.opts.Color, color, line) + "\n")
	if d.Outcome == outcome.Fail && t.failures() > 0 {
		b.WriteString("  " + t.failDetail() + "\n")
	}
	if s != nil && s.ProxyFailing > 0 && t.failures() > 0 {
		b.WriteString("  and " + plural(s.ProxyFailing, "failing proxy requirement") + " (see Proxies)\n")
	}
	for _, r := range d.Reasons {
		if t.opts.Wide {
			b.WriteString("  - " + r + "\n")
			continue
		}
		var item bytes.Buffer
		wrap(&item, r, "    ", reportWidth)
		b.WriteString("  - " + strings.TrimPrefix(item.String(), "    "))
	}
}

// failLine is "FAIL: 5 failures: 3 on listed requirements, 2 to unlisted Microsoft names".
func (t *textWriter) failLine() string {
	listed, unlisted := t.listedFailures(), t.tracker.Failing()
	var parts []string
	if tied := listed - t.tally.unruled; tied > 0 {
		parts = append(parts, fmt.Sprintf("%d on %s", tied, plural(len(t.failing), "listed requirement")))
	}
	if t.tally.unruled > 0 {
		parts = append(parts, fmt.Sprintf("%d not tied to a requirement", t.tally.unruled))
	}
	if unlisted > 0 {
		parts = append(parts, fmt.Sprintf("%d to unlisted Microsoft names", unlisted))
	}
	head := "FAIL: " + plural(listed+unlisted, "failure")
	if len(parts) == 1 {
		return head + " " + strings.TrimPrefix(parts[0], fmt.Sprintf("%d ", listed+unlisted))
	}
	return head + ": " + strings.Join(parts, ", ")
}

// failDetail is "4 blocked, 1 reset, in 3 connections and 2 DNS lookups".
func (t *textWriter) failDetail() string {
	counts := maps.Clone(t.tally.failed)
	for v, n := range t.tracker.Counts() {
		counts[v] += n
	}
	lookups := t.tally.failedDNS + t.tracker.FailingLookups()
	conns := t.failures() - lookups
	var in []string
	if conns > 0 {
		in = append(in, plural(conns, "connection"))
	}
	if lookups > 0 {
		in = append(in, plural(lookups, "DNS lookup"))
	}
	return countList(counts) + ", in " + strings.Join(in, " and ")
}

// passLine says what passed, and, when --fail-on left failures uncounted, that they were seen.
func (t *textWriter) passLine(s *result.Summary) string {
	stopped := t.tally.stopped
	uncounted := 0
	for _, n := range stopped {
		uncounted += n
	}
	if uncounted > 0 {
		return fmt.Sprintf("PASS (--fail-on %s): %s seen but not counted (%s)", t.failOnText(),
			plural(uncounted, "failure"), countList(stopped))
	}
	if s != nil && !outcome.IntuneSeen(s) {
		return "PASS: no Intune traffic seen, and none was expected (--allow-empty)"
	}
	return "PASS: no Intune connection or lookup failed (" + t.seenText() + ")"
}

// seenText is "2 connections and 1 DNS lookup on listed requirements", leaving out a kind not seen.
func (t *textWriter) seenText() string {
	var parts []string
	if n := t.tally.matched - t.tally.matchedDNS; n > 0 {
		parts = append(parts, plural(n, "connection"))
	}
	if n := t.tally.matchedDNS; n > 0 {
		parts = append(parts, plural(n, "DNS lookup"))
	}
	if len(parts) == 0 {
		return "no record on a listed requirement"
	}
	return strings.Join(parts, " and ") + " on listed requirements"
}

// failOnText is --fail-on as the user would write it.
func (t *textWriter) failOnText() string {
	if len(t.opts.FailOn) == 0 {
		return "none"
	}
	words := make([]string, len(t.opts.FailOn))
	for i, v := range t.opts.FailOn {
		words[i] = string(v)
	}
	return strings.Join(words, ",")
}
