package analyze

import (
	"fmt"
	"slices"
	"time"

	"github.com/intunecap/intunecap/result"
)

// endStream is what one engine still holds when the capture ends, in order of first frame: its open
// connections, reported one at a time so that the end of a capture with half a million open connections does
// not hold half a million records at once, and its last DNS records (few: pending queries and held failures).
type endStream struct {
	e     *Engine
	conns []*conn
	recs  []result.Record
}

// endStream expires the engine's DNS state and lists its open connections.
func (e *Engine) endStream() *endStream {
	e.expireDNS(e.now, true)
	e.releaseHeld(time.Time{})
	recs := e.batch[e.batchStart:]
	if len(e.inline.filled) > 0 { // an inline engine's records not flushed yet: in the order they were finished
		recs = slices.Concat(append(e.inline.filled, recs)...)
		e.inline.filled = nil
	}
	e.batch, e.batchStart = nil, 0
	sortRecords(recs)
	return &endStream{e: e, conns: e.openConns(), recs: recs}
}

// peek returns the order of the next record, or false when the stream is done.
func (s *endStream) peek() (uint64, bool) {
	switch {
	case len(s.conns) > 0 && (len(s.recs) == 0 || s.conns[0].first.seq < s.recs[0].Order):
		return s.conns[0].first.seq, true
	case len(s.recs) > 0:
		return s.recs[0].Order, true
	}
	return 0, false
}

// pop returns the next record; a connection is retired and counted in the summary now. It reports false for
// a connection already reported with the same verdict (Options.ReportEstablished).
func (s *endStream) pop() (result.Record, bool) {
	if len(s.conns) > 0 && (len(s.recs) == 0 || s.conns[0].first.seq < s.recs[0].Order) {
		c := s.conns[0]
		s.conns[0] = nil
		s.conns = s.conns[1:]
		r := s.e.retire(c)
		s.e.stats.add(&r)
		return r, !(c.reported && r.Verdict == c.reportedVerdict)
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, true
}

// writeEnd writes what the engines still hold to sink, merged in order of first frame: the same order one
// engine gives, however the connections were shared out.
func writeEnd(engines []*Engine, sink result.Sink) error {
	for _, e := range engines {
		e.out, e.full = nil, nil // their lanes are done: what is finished from now on is written here
	}
	settleQUIC(engines)
	streams := make([]*endStream, len(engines))
	for i, e := range engines {
		streams[i] = e.endStream()
	}
	var r result.Record // one record, reused: the sink must not keep it
	for {
		best, bestOrder := -1, uint64(0)
		for i, s := range streams {
			if o, ok := s.peek(); ok && (best < 0 || o < bestOrder) {
				best, bestOrder = i, o
			}
		}
		if best < 0 {
			return nil
		}
		var report bool
		if r, report = streams[best].pop(); !report {
			continue
		}
		if err := sink.Record(&r); err != nil {
			return fmt.Errorf("write record: %w", err)
		}
	}
}
