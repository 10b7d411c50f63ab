package regress

import (
	"maps"
	"strings"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxNames bounds the distinct blocked, reset or unlisted names a collector follows; past it, further names
// are counted in Dropped and the report says the list is incomplete.
const maxNames = 10000

// numVerdicts is the size of the verdict vocabulary; counts are kept in arrays indexed by verdictIndex.
const numVerdicts = 7

// counts is how many records had each verdict, indexed like rules.Verdicts().
type counts [numVerdicts]int

// verdictIndex places a verdict in counts; -1 for a word outside the vocabulary.
func verdictIndex(v rules.Verdict) int {
	switch v {
	case rules.Allowed:
		return 0
	case rules.Blocked:
		return 1
	case rules.Reset:
		return 2
	case rules.Intercepted:
		return 3
	case rules.PortNotAllowed:
		return 4
	case rules.Unlisted:
		return 5
	case rules.Other:
		return 6
	}
	return -1
}

// failingVerdict says whether a verdict means the network stopped the traffic.
func failingVerdict(v rules.Verdict) bool { return v.Failure() }

// status is the summary's status for a set of counts: failing if anything was blocked, reset or
// intercepted, ok if something was allowed, not-seen otherwise.
func (c *counts) status() Status {
	switch {
	case c[1]+c[2]+c[3] > 0:
		return StatusFailing
	case c[0] > 0:
		return StatusOK
	}
	return StatusNotSeen
}

// nameStatus is status for a name, where a name seen only with other verdicts is Other, not not-seen.
func (c *counts) nameStatus() Status {
	s := c.status()
	if s == StatusNotSeen && c.total() > 0 {
		return StatusOther
	}
	return s
}

func (c *counts) total() int {
	n := 0
	for _, x := range c {
		n += x
	}
	return n
}

// seen lists the verdicts with a count, in sorted order, for comparing with an expectation's verdicts.
func (c *counts) seen() []rules.Verdict {
	var out []rules.Verdict
	for i, v := range rules.Verdicts() {
		if c[i] > 0 {
			out = append(out, v)
		}
	}
	sortVerdicts(out)
	return out
}

// asMap renders the counts the way the summary and the JSON reports do: verdict → count, zero counts left out.
func (c *counts) asMap() map[string]int {
	m := map[string]int{}
	for i, v := range rules.Verdicts() {
		if c[i] > 0 {
			m[string(v)] = c[i]
		}
	}
	return m
}

// tally is the counts and examples of one requirement row, name or verdict.
type tally struct {
	counts   counts
	examples examples
}

func (t *tally) add(r *result.Record, vi int) {
	t.counts[vi]++
	t.examples.add(r, failingVerdict(r.Verdict))
}

// Collector is the result.Sink behind check and baseline. It keeps, per requirement row, per followed name,
// per verdict and per blocked, reset or unlisted name, the counts and a few example records: memory grows with
// the rules table and the distinct problem names (bounded by maxNames), never with the number of records.
type Collector struct {
	rows     map[string]*tally // by rule key
	tracked  map[string]*tally // names an expectations file asks about
	failing  map[string]*tally // names with a blocked or reset record
	unlisted map[string]*tally // names with an unlisted record
	verdicts [numVerdicts]tally
	summary  *result.Summary

	// Dropped counts blocked, reset or unlisted names not followed because maxNames was reached.
	Dropped int
}

// NewCollector returns a collector that also follows every record of the given names (matched exactly,
// case-insensitively), for name expectations.
func NewCollector(track []string) *Collector {
	c := &Collector{
		rows:     map[string]*tally{},
		tracked:  map[string]*tally{},
		failing:  map[string]*tally{},
		unlisted: map[string]*tally{},
	}
	for _, n := range track {
		c.tracked[strings.ToLower(n)] = &tally{}
	}
	return c
}

// Record folds one record into the counts. It never fails: the collector only counts.
func (c *Collector) Record(r *result.Record) error {
	vi := verdictIndex(r.Verdict)
	if vi < 0 {
		return nil
	}
	c.verdicts[vi].add(r, vi)
	if r.RuleKey != "" {
		c.tallyOf(c.rows, r.RuleKey, true).add(r, vi)
	}
	name := strings.ToLower(r.Name) // no allocation for the lower-case names the engine reports
	if t := c.tracked[name]; t != nil && name != "" {
		t.add(r, vi)
	}
	switch {
	case failingVerdict(r.Verdict):
		c.problem(c.failing, problemKey(r, name), r, vi)
	case r.Verdict == rules.Unlisted:
		c.problem(c.unlisted, problemKey(r, name), r, vi)
	}
	return nil
}

// Summary keeps the summary: requirement statuses come from it, as in the analyze report.
func (c *Collector) Summary(s *result.Summary) error {
	cp := *s
	cp.Verdicts = maps.Clone(s.Verdicts)
	c.summary = &cp
	return nil
}

// problem counts a record under a blocked, reset or unlisted name, within the bound.
func (c *Collector) problem(m map[string]*tally, key string, r *result.Record, vi int) {
	t := m[key]
	if t == nil {
		if len(m) >= maxNames {
			c.Dropped++
			return
		}
		t = &tally{}
		m[key] = t
	}
	t.add(r, vi)
}

// tallyOf finds or makes the tally of key. Rule keys come from a table, so their number is bounded.
func (c *Collector) tallyOf(m map[string]*tally, key string, create bool) *tally {
	t := m[key]
	if t == nil && create {
		t = &tally{}
		m[key] = t
	}
	return t
}

// problemKey is what identifies a problem across captures: the name, or for an unnamed connection its server
// address and port in brackets ("[198.18.1.9]:443"), which cannot be mistaken for a name.
func problemKey(r *result.Record, name string) string {
	if name != "" {
		return name
	}
	return "[" + r.Server + "]:" + itoa(int(r.Port))
}

// ruleStatus is a requirement row's status and counts, from the summary (as analyze reports it).
func (c *Collector) ruleStatus(key string) (Status, counts, bool) {
	var n counts
	if t := c.rows[key]; t != nil {
		n = t.counts
	}
	if c.summary == nil {
		return n.status(), n, false
	}
	for i := range c.summary.Rules {
		if rs := &c.summary.Rules[i]; rs.Key == key {
			return Status(rs.Status), n, true
		}
	}
	return n.status(), n, false
}
