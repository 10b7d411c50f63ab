package report

import (
	"strings"
	"testing"
)

// TestRareQualityCounters: the counters of rare or hostile conditions appear in the text and HTML reports
// when they are not zero, and the unlisted list past its cap says how many names it left out.
func TestRareQualityCounters(t *testing.T) {
	sum := fixtureSummary()
	q := &sum.Capture.Quality
	q.TimeJumps, q.FragmentsDropped, q.OverlapConflicts = 1, 4097, 2
	q.StreamGapsOverCap, q.DNSFalseCounts, q.DNSNamesEvicted = 3, 4, 5
	sum.UnlistedNames, sum.UnlistedNamesEstimated, sum.UnlistedOmitted = 29990, true, 40000
	for _, format := range []string{"text", "html"} {
		out := string(run(t, format, Options{}, fixtureRecords(), sum))
		for _, want := range []string{"time jumps", "4097", "overlap conflicts", "stream gaps over cap",
			"DNS false counts", "DNS names evicted"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q", format, want)
			}
		}
		if format == "text" && !strings.Contains(out, "… and about 29988 more names (estimated; at least 1), seen 40000 times") {
			t.Errorf("text report does not say what the unlisted list left out:\n%s", out)
		}
	}
}
