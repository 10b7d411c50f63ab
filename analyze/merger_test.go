package analyze

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
	"github.com/intunecap/intunecap/tools/synth/gen"
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

// failingSink accepts ok records, then fails every write.
type failingSink struct {
	ok, got int
}

var errSinkFull = errors.New("sink full")

func (s *failingSink) Record(*result.Record) error {
	s.got++
	if s.got > s.ok {
		return errSinkFull
	}
	return nil
}
func (s *failingSink) Summary(*result.Summary) error { return nil }

// TestSinkErrorStopsRun: a sink that fails makes Run return its error, wrapped, with one engine inline, one
// on a worker (where the merger writes and the reading goroutine learns of the failure from it) and two.
// Nothing is written after the failure, and reading stops long before the end of the capture: the reading
// goroutine is at most a few batches ahead of the merger.
func TestSinkErrorStopsRun(t *testing.T) {
	path := synthFile(t, gen.Config{Size: 40_000_000, Seed: 5, Format: "pcap", Mix: gen.MixConns})
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		workers int
		inline  bool
	}{{"inline", 1, true}, {"one worker", 1, false}, {"two workers", 2, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := capture.Open([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var src Source = fileSource{r}
			if tc.inline {
				src = copiedSource{r}
			}
			sink, frames := &failingSink{ok: 10}, 0
			count := Hooks{Frame: func(*capture.Frame) error { frames++; return nil }}
			err = Run(src, Options{Matcher: rules.NewMatcher(table), Workers: tc.workers}, sink, count)
			if !errors.Is(err, errSinkFull) || !strings.Contains(err.Error(), "write record") {
				t.Fatalf("Run returned %v, want the sink's error as a failed record write", err)
			}
			if sink.got != sink.ok+1 {
				t.Errorf("sink was given %d records, want %d: none after the failed one", sink.got, sink.ok+1)
			}
			if frames > 20*batchItems {
				t.Errorf("read %d frames: the run went on after the sink failed at its record %d", frames, sink.ok+1)
			}
		})
	}
}
