package regress

import (
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// table2015 is the embedded 2015 table: row 1 is *.manage.microsoft.com, 14 *.update.microsoft.com,
// 27 go.microsoft.com.
func table2015(t testing.TB) *rules.Table {
	t.Helper()
	tb, err := rules.Load([]string{"intune-2015"})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// rec builds a flow record the way the engine reports one, with the verdict and rule key given.
func rec(name string, v rules.Verdict, key string, frame uint64) *result.Record {
	r := &result.Record{
		Type: "flow", Proto: "tcp", Client: "198.18.0.2", ClientPort: 40000, Server: "198.18.1.10",
		ServerPort: 443, Port: 443, Name: name, NameSource: "sni", RuleKey: key, Transport: "tls",
		State: "established", Verdict: v, FirstFrame: frame, LastFrame: frame + 9,
	}
	switch v {
	case rules.Blocked:
		r.State, r.Reason = "unanswered", "no answer to the SYN"
	case rules.Reset:
		r.State, r.Stage = "reset", "after-client-hello"
	}
	return r
}

// summaryOf builds the summary the engine would give for these records over table t.
func summaryOf(t *rules.Table, recs []*result.Record) *result.Summary {
	byKey := map[string]*counts{}
	s := &result.Summary{Type: "summary", Verdicts: map[string]int{}}
	for _, r := range recs {
		s.Verdicts[string(r.Verdict)]++
		if r.RuleKey == "" {
			continue
		}
		if byKey[r.RuleKey] == nil {
			byKey[r.RuleKey] = &counts{}
		}
		byKey[r.RuleKey][verdictIndex(r.Verdict)]++
	}
	for _, row := range t.Rules {
		rs := result.RuleSummary{Key: row.Key(), Pattern: row.Pattern, Purpose: row.Purpose, Status: "not-seen"}
		if c := byKey[row.Key()]; c != nil {
			rs.Status = string(c.status())
			rs.Verdicts = c.asMap()
		}
		s.Rules = append(s.Rules, rs)
	}
	return s
}

// collectAll feeds records and their summary through a collector, as the engine would.
func collectAll(t testing.TB, tb *rules.Table, track []string, recs []*result.Record) *Collector {
	t.Helper()
	c := NewCollector(track)
	for _, r := range recs {
		if err := c.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Summary(summaryOf(tb, recs)); err != nil {
		t.Fatal(err)
	}
	return c
}

// goodRecords is a healthy enrollment: everything allowed, one unlisted name.
func goodRecords() []*result.Record {
	return []*result.Record{
		rec("enrollment.manage.microsoft.com", rules.Allowed, "intune-2015:1", 1),
		rec("fe2.update.microsoft.com", rules.Allowed, "intune-2015:14", 20),
		rec("go.microsoft.com", rules.Allowed, "intune-2015:27", 40),
		rec("graph.windows.net", rules.Unlisted, "", 60),
	}
}
