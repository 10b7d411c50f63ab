package analyze

import (
	"slices"
	"testing"

	"github.com/intunecap/intunecap/result"
)

// nameSink keeps the names of the records it is given, copied, as a Sink must.
type nameSink struct{ names []string }

func (s *nameSink) Record(r *result.Record) error { s.names = append(s.names, r.Name); return nil }
func (s *nameSink) Summary(*result.Summary) error { return nil }

// TestMergerRecyclesWrittenBatches checks that the merger writes batches in capture order, hands the slice a
// worker's batches share back to its engine emptied once its last batch is written, and keeps no slice larger
// than maxSpareRecords.
func TestMergerRecyclesWrittenBatches(t *testing.T) {
	sink := &nameSink{}
	m := newMerger(2, sink)
	go m.run()
	small := make([]result.Record, 2, 8)
	small[0].Name, small[1].Name = "a", "b"
	big := make([]result.Record, 1, maxSpareRecords+1)
	big[0].Name = "c"
	m.in <- progress{worker: 0, upTo: batchKey{seq: 5, phase: 1},
		batches: []keyedRecords{{key: batchKey{seq: 1, phase: 1}, recs: small[:1], worker: 0},
			{key: batchKey{seq: 3, phase: 1}, recs: small[1:2], worker: 0, backing: small}}}
	m.in <- progress{worker: 1, upTo: batchKey{seq: 6, phase: 1},
		batches: []keyedRecords{{key: batchKey{seq: 2, phase: 1}, recs: big, worker: 1, backing: big}}}
	m.close()
	if want := []string{"a", "c", "b"}; !slices.Equal(sink.names, want) {
		t.Errorf("written %q, want %q", sink.names, want)
	}
	select {
	case s := <-m.spare[0]:
		if len(s) != 0 || cap(s) != 8 || small[0].Name != "" {
			t.Errorf("spare batch len %d cap %d, first record %q: want an emptied batch of capacity 8", len(s), cap(s), small[0].Name)
		}
	default:
		t.Error("worker 0 got no batch back")
	}
	select {
	case s := <-m.spare[1]:
		t.Errorf("worker 1 got back a batch of capacity %d, above maxSpareRecords", cap(s))
	default:
	}
}
