package analyze

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/intunecap/intunecap/internal/prefault"
	"github.com/intunecap/intunecap/result"
)

// inlineRecords holds the records an engine writing to its own sink finished in one packet or sweep
// beyond its first record slice: the slices that filled, in the order they filled, and spare ones to reuse.
// A sweep that finishes thousands of records (every connection whose linger ended in that second) fills
// several slices instead of growing one, which copied every record at each doubling into fresh pages.
type inlineRecords struct {
	filled [][]result.Record
	spare  [][]result.Record
	order  []*result.Record // scratch: the records of a flush, sorted by first frame
}

// maxSpareSlices bounds the emptied record slices an inline engine keeps for its next big sweep (about
// 4 MB); the rest are left to the collector.
const maxSpareSlices = 16

// stash is Engine.full for an engine in the reading goroutine: it keeps the full slice recs for flush and
// returns an empty one to go on with. Inline, flush writes every record after each packet and sweep, so
// start is always 0.
func (e *Engine) stash(recs []result.Record, start int) []result.Record {
	if start != 0 {
		panic(fmt.Sprintf("analyze: inline record slice stashed from %d", start))
	}
	in := &e.inline
	in.filled = append(in.filled, recs)
	if n := len(in.spare); n > 0 {
		s := in.spare[n-1]
		in.spare[n-1] = nil
		in.spare = in.spare[:n-1]
		return s
	}
	return newRecordSlice(cap(recs))
}

// newRecordSlice makes an empty slice for n records, its pages mapped in: records are written into it one
// after the other, about four to a page.
func newRecordSlice(n int) []result.Record {
	s := make([]result.Record, 0, n)
	prefault.Slice(s)
	return s
}

// writeRecords writes the records of the filled slices and then of batch to the sink, in order of first
// frame (a stable sort, as sortRecords, of pointers: records are big), and keeps the emptied slices for
// reuse. It is flush for an engine that writes to its sink itself (inline, or outside Run).
func (e *Engine) writeRecords() {
	in := &e.inline
	order := in.order[:0]
	for _, recs := range in.filled {
		for i := range recs {
			order = append(order, &recs[i])
		}
	}
	for i := range e.batch {
		order = append(order, &e.batch[i])
	}
	slices.SortStableFunc(order, func(a, b *result.Record) int { return cmp.Compare(a.Order, b.Order) })
	for _, r := range order {
		if e.err == nil {
			if err := e.sink.Record(r); err != nil {
				e.err = fmt.Errorf("write record: %w", err)
			}
		}
	}
	clear(order)
	in.order = order[:0]
	for i, recs := range in.filled {
		clear(recs)
		if len(in.spare) < maxSpareSlices {
			in.spare = append(in.spare, recs[:0])
		}
		in.filled[i] = nil
	}
	in.filled = in.filled[:0]
	clear(e.batch)
	e.batch = e.batch[:0]
}
