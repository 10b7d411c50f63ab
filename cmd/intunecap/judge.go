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
		s.Cover = loadCurrent().coverage
	}
	return s
}

// currentTable is the current built-in table, loaded on a goroutine of its own while the capture is read:
// parsing it takes a few milliseconds, which a short run would otherwise add at its end.
type currentTable struct {
	loaded  chan struct{}
	matcher *rules.Matcher // nil if the table did not load
}

// loadCurrent starts loading the current table.
func loadCurrent() *currentTable {
	c := &currentTable{loaded: make(chan struct{})}
	go func() {
		defer close(c.loaded)
		if table, err := rules.Load([]string{currentProfile}); err == nil {
			c.matcher = rules.NewMatcher(table)
		}
	}()
	return c
}

// coverage counts the names the current table lists. Its table is built-in, so it always loads; if it did
// not, there would be nothing to say.
func (c *currentTable) coverage(unlisted []result.NameCount) *result.Coverage {
	<-c.loaded
	if c.matcher == nil {
		return nil
	}
	cov := &result.Coverage{Rules: currentProfile, Of: len(unlisted)}
	for _, n := range unlisted {
		if c.matcher.Match(n.Name, rules.TCP, 443).Rule != nil {
			cov.Names++
		}
	}
	return cov
}
