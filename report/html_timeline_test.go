package report

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/intunecap/intunecap/rules"
)

// TestTimelineBounded feeds records spread over hours in shuffled order and checks the histogram stays within
// its caps, loses no record, and does not depend on the arrival order.
func TestTimelineBounded(t *testing.T) {
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	type rec struct {
		start string
		v     rules.Verdict
	}
	var recs []rec
	rng := rand.New(rand.NewPCG(1, 2))
	verdicts := rules.Verdicts()
	for range 20000 {
		at := base.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
		recs = append(recs, rec{at.Format(time.RFC3339Nano), verdicts[rng.IntN(len(verdicts))]})
	}
	recs = append(recs, rec{"not a time", rules.Allowed})
	build := func(order []rec) *timelineView {
		tl := newTimeline()
		for _, r := range order {
			tl.add(r.start, r.v)
			if len(tl.buckets) > maxTimelineBuckets {
				t.Fatalf("%d buckets held", len(tl.buckets))
			}
		}
		return tl.view()
	}
	v := build(recs)
	total := 0
	for _, b := range v.Bars {
		total += b.Total
	}
	if total != len(recs)-1 || v.Unknown != 1 {
		t.Errorf("%d records drawn and %d unknown, want %d and 1", total, v.Unknown, len(recs)-1)
	}
	if len(v.Bars) > timelineBars+1 {
		t.Errorf("%d bars, want at most %d", len(v.Bars), timelineBars+1)
	}
	shuffled := append([]rec(nil), recs...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	w := build(shuffled)
	if len(w.Bars) != len(v.Bars) || w.Width != v.Width || w.Max != v.Max {
		t.Fatalf("arrival order changed the view: %d bars of %s (max %d) against %d of %s (max %d)",
			len(w.Bars), w.Width, w.Max, len(v.Bars), v.Width, v.Max)
	}
	for i := range v.Bars {
		if v.Bars[i].Start != w.Bars[i].Start || v.Bars[i].Total != w.Bars[i].Total {
			t.Fatalf("bar %d differs: %+v against %+v", i, v.Bars[i], w.Bars[i])
		}
	}
}

func TestFloorDiv(t *testing.T) {
	tests := []struct{ a, b, want int64 }{{7, 2, 3}, {-7, 2, -4}, {-8, 2, -4}, {0, 5, 0}, {-1, 1000, -1}}
	for _, tt := range tests {
		if got := floorDiv(tt.a, tt.b); got != tt.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
