package outcome

import "github.com/intunecap/intunecap/result"

// Sink passes records and the summary on to another sink, and fills the summary's UnlistedFailing and Outcome
// fields on the way, so every writer behind it, and the command's exit status, read the same decision.
type Sink struct {
	// Cover, if set, says how many of the unlisted names another table would list, for UnlistedCoverage.
	Cover func(unlisted []result.NameCount) *result.Coverage

	next    result.Sink
	policy  Policy
	tracker *Tracker
	final   *result.Summary
}

// NewSink returns a sink that judges what it passes to next under p.
func NewSink(next result.Sink, p Policy) *Sink {
	return &Sink{next: next, policy: p, tracker: NewTracker(p)}
}

// Record counts r and passes it on.
func (s *Sink) Record(r *result.Record) error {
	s.tracker.Add(r)
	return s.next.Record(r)
}

// Summary passes on a copy of sum with the outcome filled in.
func (s *Sink) Summary(sum *result.Summary) error {
	c := *sum
	c.UnlistedFailing = s.tracker.Failing()
	if s.Cover != nil && len(c.Unlisted) > 0 {
		c.UnlistedCoverage = s.Cover(c.Unlisted)
	}
	Fill(&c, s.policy)
	s.final = &c
	return s.next.Summary(&c)
}

// Final is the summary as passed on, or nil when none came.
func (s *Sink) Final() *result.Summary { return s.final }
