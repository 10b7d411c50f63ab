package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
)

// statsHandle returns the kernel counters of a test, one set per call.
type statsHandle struct {
	stats []live.Stats
	calls int
}

func (h *statsHandle) Next() (capture.Frame, error) { return capture.Frame{}, nil }
func (h *statsHandle) Close()                       {}
func (h *statsHandle) Stats() (live.Stats, error) {
	st := h.stats[min(h.calls, len(h.stats)-1)]
	h.calls++
	return st, nil
}

// TestLiveCheckDrops: a second with drops warns once with the count of that second and of all, and says when
// the capture ring was full; a second without drops says nothing.
func TestLiveCheckDrops(t *testing.T) {
	tests := []struct {
		stats []live.Stats
		want  []string // the warning after each check; "" none
	}{
		{[]live.Stats{{Received: 10}, {Received: 20}}, []string{"", ""}},
		{[]live.Stats{{Dropped: 5}, {Dropped: 5}, {Dropped: 7, IfDropped: 1}},
			[]string{"5 packets dropped in the last second (5 in all): ", "", "3 packets dropped in the last second (8 in all): "}},
		{[]live.Stats{{Dropped: 4, Freezes: 2}, {Dropped: 6, Freezes: 2}},
			[]string{"4 packets dropped in the last second (4 in all) (the capture buffer was full 2 times", "2 packets dropped in the last second (6 in all): "}},
	}
	for i, tc := range tests {
		var got string
		l := &liveHooks{h: &statsHandle{stats: tc.stats}, status: &liveSink{},
			warn: func(format string, args ...any) { got = fmt.Sprintf(format, args...) }}
		for j, want := range tc.want {
			got = ""
			l.checkDrops()
			if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
				t.Errorf("case %d, check %d: warning %q, want %q", i, j, got, want)
			}
		}
		if last := tc.stats[len(tc.stats)-1]; l.status.drops != last.Dropped+last.IfDropped {
			t.Errorf("case %d: status counts %d drops, want %d", i, l.status.drops, last.Dropped+last.IfDropped)
		}
	}
}
