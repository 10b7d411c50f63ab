package regress

import (
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// TestEvaluate runs one expectation at a time against a capture where enrollment works, an update server is
// reset once, and graph.windows.net is unlisted.
func TestEvaluate(t *testing.T) {
	tb := table2015(t)
	recs := append(goodRecords(),
		rec("fe2.update.microsoft.com", rules.Reset, "intune-2015:14", 80),
		rec("www.microsoft.com", rules.PortNotAllowed, "intune-2015:29", 90))
	for _, tc := range []struct {
		name, yaml string
		pass       bool
		actual     string
		evidence   int
	}{
		{"rule ok", "requirements: [{rule: intune-2015:1, status: ok}]", true, "ok (allowed 1)", 0},
		{"rule failing", "requirements: [{rule: intune-2015:14, status: ok}]", false, "failing (allowed 1, reset 1)", 2},
		{"rule failing expected", "requirements: [{rule: intune-2015:14, status: failing}]", true, "failing (allowed 1, reset 1)", 0},
		{"rule not seen", "requirements: [{rule: intune-2015:24, status: ok}]", false, "not-seen (no records)", 0},
		{"rule any", "requirements: [{rule: intune-2015:24, status: any}]", true, "not-seen (no records)", 0},
		{"rule one of", "requirements: [{rule: intune-2015:24, status: [ok, not-seen]}]", true, "not-seen (no records)", 0},
		{"rule port only", "requirements: [{rule: intune-2015:29, status: not-seen, verdicts: [port-not-allowed]}]", true,
			"not-seen (port-not-allowed 1)", 0},
		{"rule verdicts exact", "requirements: [{rule: intune-2015:14, verdicts: [allowed]}]", false, "failing (allowed 1, reset 1)", 2},
		{"pattern", "requirements: [{pattern: \"*.update.microsoft.com\", status: failing}]", true, "failing (allowed 1, reset 1)", 0},
		{"name ok", "names: [{name: enrollment.manage.microsoft.com, status: ok}]", true, "ok (allowed 1)", 0},
		{"name failing", "names: [{name: fe2.update.microsoft.com, status: ok}]", false, "failing (allowed 1, reset 1)", 2},
		{"name not seen", "names: [{name: portal.manage.microsoft.com, status: ok}]", false, "not-seen (no records)", 0},
		{"name not seen expected", "names: [{name: portal.manage.microsoft.com, status: not-seen}]", true, "not-seen (no records)", 0},
		{"name other", "names: [{name: graph.windows.net, status: other, verdicts: [unlisted]}]", true, "other (unlisted 1)", 0},
		{"name verdicts only", "names: [{name: graph.windows.net, verdicts: [unlisted]}]", true, "other (unlisted 1)", 0},
		{"name verdicts only fail", "names: [{name: graph.windows.net, verdicts: [allowed]}]", false, "other (unlisted 1)", 1},
		{"name other is not ok", "names: [{name: www.microsoft.com, status: ok}]", false, "other (port-not-allowed 1)", 1},
		{"max pass", "max: {reset: 1, blocked: 0}", true, "1", 0},
		{"max fail", "max: {reset: 0}", false, "1", 1},
		{"never unlisted pass", "never_unlisted: [\"*.microsoft.com\"]", true, "none", 0},
		{"never unlisted fail", "never_unlisted: [\"*windows.net\"]", false, "1 unlisted: graph.windows.net", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse("e.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Resolve(tb); err != nil {
				t.Fatal(err)
			}
			c := collectAll(t, tb, e.TrackedNames(), recs)
			cases := Evaluate(e, c)
			got := cases[0]
			if got.Pass != tc.pass || got.Actual != tc.actual || len(got.Evidence) != tc.evidence {
				t.Errorf("got pass %v, actual %q, %d evidence; want %v, %q, %d", got.Pass, got.Actual,
					len(got.Evidence), tc.pass, tc.actual, tc.evidence)
			}
			if got.File != "e.yaml" || got.Line != 1 {
				t.Errorf("source %s", got.Source())
			}
		})
	}
}

// TestEvidenceFailuresFirst checks that a failure among many successes is the evidence shown.
func TestEvidenceFailuresFirst(t *testing.T) {
	tb := table2015(t)
	var recs []*result.Record
	for i := range 10 {
		recs = append(recs, rec("enrollment.manage.microsoft.com", rules.Allowed, "intune-2015:1", uint64(i*10+1)))
	}
	recs = append(recs, rec("enrollment.manage.microsoft.com", rules.Blocked, "intune-2015:1", 500))
	e, _ := Parse("e.yaml", []byte("requirements: [{rule: intune-2015:1, status: ok}]"))
	if err := e.Resolve(tb); err != nil {
		t.Fatal(err)
	}
	cs := Evaluate(e, collectAll(t, tb, nil, recs))[0]
	if cs.Pass || len(cs.Evidence) != maxExamples || cs.Evidence[0].FirstFrame != 500 {
		t.Fatalf("got %+v", cs)
	}
	want := "blocked: enrollment.manage.microsoft.com (sni) flow tcp 198.18.0.2 -> 198.18.1.10:443 unanswered, frames 500-509: no answer to the SYN"
	if got := cs.Evidence[0].String(); got != want {
		t.Errorf("evidence\n got  %s\n want %s", got, want)
	}
}

// TestEvidenceEscapes checks that a crafted name cannot put control characters into a CI log.
func TestEvidenceEscapes(t *testing.T) {
	r := rec("evil\x1b[2J.microsoft.com", rules.Blocked, "", 1)
	s := evidenceOf(r).String()
	if strings.ContainsRune(s, 0x1b) || !strings.Contains(s, `evil\x1b[2J.microsoft.com`) {
		t.Errorf("not escaped: %q", s)
	}
}

// TestCollectorBounded checks that problem names stop being followed at the bound, and say so.
func TestCollectorBounded(t *testing.T) {
	c := NewCollector(nil)
	r := rec("", rules.Unlisted, "", 1)
	for i := range maxNames + 5 {
		r.Name = "n" + itoa(i) + ".microsoft.com"
		if err := c.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.unlisted) != maxNames || c.Dropped != 5 {
		t.Fatalf("followed %d, dropped %d", len(c.unlisted), c.Dropped)
	}
	var res Result
	res.AddWarnings(c)
	if len(res.Warnings) != 1 {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func BenchmarkCollectorRecord(b *testing.B) {
	recs := append(goodRecords(), rec("fe2.update.microsoft.com", rules.Reset, "intune-2015:14", 80))
	c := NewCollector([]string{"enrollment.manage.microsoft.com"})
	for _, r := range recs { // warm up: the first record of each kind allocates its tally
		c.Record(r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Record(recs[i%len(recs)])
	}
}
