package main

import (
	"slices"

	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// currentProfile is the built-in table a run on the 2015 table is compared with for its unlisted names.
const currentProfile = "intune-current"

// newJudge wraps a sink so that the summary it receives carries the outcome (outcome.Sink), and, when the run
// used the 2015 table, how many of the unlisted names the current endpoint list would cover.
func newJudge(next result.Sink, table *rules.Table, p outcome.Policy) *outcome.Sink {
	s := outcome.NewSink(next, p)
	if slices.Equal(table.Sources, []string{"intune-2015"}) {
		s.Cover = currentCoverage
	}
	return s
}

// currentCoverage counts the unlisted names the current table lists. The table is built in (built from Go
// values, not parsed: a tenth of a millisecond), so it always loads; if it did not, there would be nothing to
// say.
func currentCoverage(unlisted []result.NameCount) *result.Coverage {
	table, err := rules.Load([]string{currentProfile})
	if err != nil {
		return nil
	}
	m := rules.NewMatcher(table)
	cov := &result.Coverage{Rules: currentProfile, Of: len(unlisted)}
	for _, n := range unlisted {
		if m.Match(n.Name, rules.TCP, 443).Rule != nil {
			cov.Names++
		}
	}
	return cov
}
