package report

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/intunecap/intunecap/rules"
)

// The timeline counts records per time bucket and verdict in bounded memory, whatever the capture's length
// and whatever order records arrive in: buckets are aligned to absolute time, and when there are too many the
// width doubles and neighbours merge.
const (
	maxTimelineBuckets = 4096                   // buckets held while records stream in
	timelineBars       = 120                    // bars drawn at most
	timelineMinWidth   = time.Millisecond       // the finest bucket
	timelineSVGWidth   = 960                    // drawing width in SVG units
	timelineSVGHeight  = 160                    // drawing height of the bars
	timelineMaxWidth   = time.Duration(1 << 60) // far beyond any span of int64 nanoseconds / 4096
)

// timeline is the bounded histogram.
type timeline struct {
	width   time.Duration
	buckets map[int64]map[rules.Verdict]int // bucket index (unix nanoseconds / width) → counts
	unknown int                             // records whose start did not parse
}

func newTimeline() *timeline {
	return &timeline{width: timelineMinWidth, buckets: map[int64]map[rules.Verdict]int{}}
}

// add counts a record that started at start (RFC 3339).
func (t *timeline) add(start string, v rules.Verdict) {
	ts, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		t.unknown++
		return
	}
	i := floorDiv(ts.UnixNano(), int64(t.width))
	b := t.buckets[i]
	if b == nil {
		b = map[rules.Verdict]int{}
		t.buckets[i] = b
	}
	b[v]++
	for len(t.buckets) > maxTimelineBuckets && t.width < timelineMaxWidth {
		t.coarsen(2)
	}
}

// coarsen multiplies the bucket width by k, merging buckets.
func (t *timeline) coarsen(k int64) {
	merged := make(map[int64]map[rules.Verdict]int, len(t.buckets)/int(k)+1)
	for i, b := range t.buckets {
		j := floorDiv(i, k)
		m := merged[j]
		if m == nil {
			m = map[rules.Verdict]int{}
			merged[j] = m
		}
		for v, n := range b {
			m[v] += n
		}
	}
	t.buckets = merged
	t.width *= time.Duration(k)
}

// floorDiv divides rounding toward minus infinity, so buckets before 1970 stay aligned.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// timelineBar is one bar of the drawing.
type timelineBar struct {
	Start  string // RFC 3339 of the bar's start
	Total  int
	Counts []verdictCount // in verdict order
	X, W   float64
	Rects  []timelineRect
}

type timelineRect struct {
	Y, H  float64
	Color string
	Title string
}

type verdictCount struct {
	Verdict string
	N       int
}

// timelineView is what the template draws.
type timelineView struct {
	Bars     []timelineBar
	Width    string // bar width, e.g. "2.5 s"
	Max      int
	Verdicts []legendItem
	Unknown  int
	Span     string
}

type legendItem struct {
	Verdict string
	Color   string
	N       int
}

// view merges buckets down to at most timelineBars bars and lays them out.
func (t *timeline) view() *timelineView {
	if len(t.buckets) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(t.buckets))
	lo, hi := keys[0], keys[len(keys)-1]
	k := (hi-lo)/timelineBars + 1
	width := t.width * time.Duration(k)
	bars := map[int64]map[rules.Verdict]int{}
	for _, i := range keys {
		j := floorDiv(i, k)
		if bars[j] == nil {
			bars[j] = map[rules.Verdict]int{}
		}
		for v, n := range t.buckets[i] {
			bars[j][v] += n
		}
	}
	first, last := floorDiv(lo, k), floorDiv(hi, k)
	slots := float64(last - first + 1)
	view := &timelineView{Width: width.String(), Unknown: t.unknown,
		Span: fmt.Sprintf("%s to %s", barTime(first, width), barTime(last+1, width))}
	totals := map[rules.Verdict]int{}
	for _, j := range slices.Sorted(maps.Keys(bars)) {
		bar := timelineBar{Start: barTime(j, width), X: float64(j-first) * timelineSVGWidth / slots,
			W: max(timelineSVGWidth/slots-1, 1)}
		for _, v := range sortedVerdicts(bars[j]) {
			bar.Counts = append(bar.Counts, verdictCount{clean(string(v)), bars[j][v]})
			bar.Total += bars[j][v]
			totals[v] += bars[j][v]
		}
		view.Max = max(view.Max, bar.Total)
		view.Bars = append(view.Bars, bar)
	}
	for _, v := range sortedVerdicts(totals) {
		view.Verdicts = append(view.Verdicts, legendItem{clean(string(v)), verdictColor(v), totals[v]})
	}
	view.layout()
	return view
}

// layout stacks each bar's verdicts from the bottom, scaled to the tallest bar.
func (v *timelineView) layout() {
	for i := range v.Bars {
		bar := &v.Bars[i]
		y := float64(timelineSVGHeight)
		for _, c := range bar.Counts {
			h := float64(c.N) * timelineSVGHeight / float64(v.Max)
			y -= h
			bar.Rects = append(bar.Rects, timelineRect{Y: y, H: h, Color: verdictColor(rules.Verdict(c.Verdict)),
				Title: fmt.Sprintf("%s: %d %s", bar.Start, c.N, c.Verdict)})
		}
	}
}

// barTime is the start of bar j of the given width, RFC 3339 UTC.
func barTime(j int64, width time.Duration) string {
	return time.Unix(0, j*int64(width)).UTC().Format(time.RFC3339Nano)
}

// verdictColor is the Okabe–Ito colour of a verdict: a palette that colour-blind readers can tell apart.
// Failures get the warm colours, allowed the green.
func verdictColor(v rules.Verdict) string {
	switch v {
	case rules.Allowed:
		return "#009E73" // bluish green
	case rules.Blocked:
		return "#D55E00" // vermillion
	case rules.Reset:
		return "#CC79A7" // reddish purple
	case rules.Intercepted:
		return "#E69F00" // orange
	case rules.PortNotAllowed:
		return "#F0E442" // yellow
	case rules.Unlisted:
		return "#56B4E9" // sky blue
	case rules.Other:
		return "#0072B2" // blue
	}
	return "#000000"
}
