package analyze

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/intunecap/intunecap/result"
)

// The merger puts the records of lanes on workers back in the order one engine gives. Each engine hands over
// its finished records in batches keyed by the capture position that finished them (batchKey); a batch is
// written once every lane has passed its position, sorted by key and then by where each record began.

// keyedRecords is a batch of records an engine finished, with the capture position that finished them and
// the worker whose engine it goes back to once written.
type keyedRecords struct {
	key    batchKey
	recs   []result.Record
	worker int
	// backing, on the last batch of a worker's hand-over, is the slice all its batches share: once this batch
	// is written, the merger hands it back to the worker's engine.
	backing []result.Record
}

// spareRecordSlices is how many written record batches wait for their engine to refill them: each engine
// hands its batch to the merger and takes a written one back, so the records of a long run reuse the same
// memory instead of faulting in fresh pages until the next collection.
const spareRecordSlices = 16

// maxSpareRecords is the largest batch (in records) handed back for reuse: the batch of a sweep that expires
// many connections at once is left to the collector, so that spare batches keep no more than a few MiB.
const maxSpareRecords = 1024

// progress is a worker's report: the records it finished and the capture position it has reached.
type progress struct {
	worker  int
	upTo    batchKey
	batches []keyedRecords
}

// merger writes the workers' records to the sink in the order one engine would: by the capture position that
// finished them, then by where each began. A batch is written once every worker has passed its position.
type merger struct {
	in      chan progress
	sink    result.Sink
	upTo    []batchKey
	queue   []keyedRecords
	order   []keyedRecord          // the records release writes, sorted; reused
	written []keyedRecords         // the batches release writes; reused
	spare   []chan []result.Record // per worker: written record batches, emptied, for its engine to reuse
	done    chan struct{}
	err     error
	// failed holds err once it is set, for the reading goroutine, which looks after every packet: an atomic
	// load costs it one instruction where a channel receive cost some fifty.
	failed atomic.Pointer[error]
}

func newMerger(n int, sink result.Sink) *merger {
	m := &merger{in: make(chan progress, 4*n), sink: sink, upTo: make([]batchKey, n),
		spare: make([]chan []result.Record, n), done: make(chan struct{})}
	for i := range m.spare {
		m.spare[i] = make(chan []result.Record, spareRecordSlices)
	}
	return m
}

func (m *merger) run() {
	defer close(m.done)
	for p := range m.in {
		m.upTo[p.worker] = p.upTo
		m.queue = append(m.queue, p.batches...)
		m.release()
	}
	m.release()
}

// release writes every queued batch no worker can still precede.
func (m *merger) release() {
	safe := slices.MinFunc(m.upTo, func(a, b batchKey) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	keep := m.queue[:0]
	m.order = m.order[:0]
	for i := range m.queue {
		b := &m.queue[i]
		if safe.less(b.key) {
			keep = append(keep, *b)
			continue
		}
		for j := range b.recs {
			m.order = append(m.order, keyedRecord{b.key, &b.recs[j]})
		}
		m.written = append(m.written, *b)
	}
	if !slices.IsSortedFunc(m.order, byKeyThenOrder) { // in order already with one worker
		slices.SortStableFunc(m.order, byKeyThenOrder)
	}
	for _, k := range m.order {
		if m.err == nil {
			if err := m.sink.Record(k.rec); err != nil {
				m.err = fmt.Errorf("write record: %w", err)
				m.failed.Store(&m.err)
			}
		}
	}
	clear(m.queue[len(keep):])
	m.queue = keep
	clear(m.order) // drop the pointers into written batches
	m.recycle()
}

// byKeyThenOrder orders records by the capture position that finished them, then by where each began.
func byKeyThenOrder(a, b keyedRecord) int {
	if a.key != b.key {
		if a.key.less(b.key) {
			return -1
		}
		return 1
	}
	return cmpUint(a.rec.Order, b.rec.Order)
}

// recycle hands the batches release wrote back to their engines, emptied; a batch no engine has room for is
// left to the collector.
func (m *merger) recycle() {
	for _, b := range m.written {
		if b.backing == nil || cap(b.backing) > maxSpareRecords {
			continue
		}
		clear(b.backing) // the strings and slices of written records are garbage now
		select {
		case m.spare[b.worker] <- b.backing[:0]:
		default:
		}
	}
	clear(m.written)
	m.written = m.written[:0]
}

// keyedRecord is a record waiting in the merger, with the capture position that finished it.
type keyedRecord struct {
	key batchKey
	rec *result.Record
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// error reports a sink error without waiting for the merger.
func (m *merger) error() error {
	if err := m.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// close waits for the merger to write everything.
func (m *merger) close() {
	close(m.in)
	<-m.done
}
