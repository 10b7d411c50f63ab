package metrics

import (
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// scrape returns the exposition text the handler serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// series returns the value of the series name{labels} and whether it exists. Labels not given must be absent
// or empty in the series, so a lookup never matches a series it did not mean.
func series(t *testing.T, m *Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if sameLabels(s.GetLabel(), labels) {
				return metricValue(s), true
			}
		}
	}
	return 0, false
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	n := 0
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
		if l.GetValue() != "" {
			n++
		}
	}
	for _, v := range want {
		if v == "" {
			n++
		}
	}
	return n == len(want)
}

func metricValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	}
	return s.GetUntyped().GetValue()
}

func loadTable(t testing.TB) *rules.Table {
	t.Helper()
	table, err := rules.Load([]string{"intune-2015"})
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestMetricsCounts(t *testing.T) {
	m := New(Options{Version: "1.2.3"})
	records := []result.Record{
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "sni"},
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "dns"},
		{Type: "flow", Verdict: rules.Unlisted, NameSource: "sni"},
		{Type: "dns", Verdict: rules.Allowed, Rule: "login.microsoftonline.com", RuleKey: "intune-current:7"},
	}
	for i := range records {
		m.Record(&records[i])
	}
	m.Packet(time.Unix(1700000000, 500_000_000), 60)
	m.Packet(time.Unix(1700000001, 250_000_000), 1500)
	m.SetDrops(7, 2)
	body := scrape(t, m)
	tests := []struct {
		line string
		want bool
	}{
		{`intunecap_connections_total{rule="*.manage.microsoft.com",rule_key="intune-2015:1",verdict="blocked"} 2`, true},
		{`intunecap_connections_total{rule="",rule_key="",verdict="unlisted"} 1`, true},
		{`intunecap_dns_exchanges_total{rule="login.microsoftonline.com",rule_key="intune-current:7",verdict="allowed"} 1`, true},
		{`intunecap_names_total{source="sni"} 2`, true},
		{`intunecap_names_total{source="dns"} 1`, true},
		{`intunecap_packets_total 2`, true},
		{`intunecap_bytes_total 1560`, true},
		{`intunecap_kernel_dropped_packets_total 7`, true},
		{`intunecap_interface_dropped_packets_total 2`, true},
		{`intunecap_last_packet_timestamp_seconds 1.70000000125e+09`, true},
		{`intunecap_last_requirement_record_timestamp_seconds 0`, true}, // records came before any packet
		{`intunecap_requirement_status{rule="*.manage.microsoft.com",rule_key="intune-2015:1",status="failing"} 1`, true},
		{`intunecap_requirement_status{rule="*.manage.microsoft.com",rule_key="intune-2015:1",status="ok"} 0`, true},
		{`intunecap_requirement_status{rule="login.microsoftonline.com",rule_key="intune-current:7",status="ok"} 1`, true},
		{`intunecap_requirement_status{rule="",rule_key=""`, false}, // no row, no status
		{`intunecap_build_info{goversion="` + runtime.Version() + `",version="1.2.3"} 1`, true},
		{`intunecap_flow_table_connections`, false}, // not yet known
		{`go_goroutines`, true},
	}
	for _, tc := range tests {
		if got := strings.Contains(body, tc.line); got != tc.want {
			t.Errorf("metrics contain %q = %v, want %v", tc.line, got, tc.want)
		}
	}
	m.SetFlowTable(3)
	m.SetFlowTable(5)
	if body := scrape(t, m); !strings.Contains(body, "intunecap_flow_table_connections 5") {
		t.Errorf("flow table gauge missing after SetFlowTable:\n%s", body)
	}
}

// TestWriteMetrics follows --write through a failure and its end: the series appear with the first call and
// say what the writer reported.
func TestWriteMetrics(t *testing.T) {
	m := New(Options{})
	if _, ok := series(t, m, "intunecap_write_ok", nil); ok {
		t.Fatal("intunecap_write_ok before --write reported anything")
	}
	steps := []struct {
		do                    func()
		ok, failures, dropped float64
	}{
		{func() { m.SetWriteOK(true) }, 1, 0, 0},
		{func() { m.WriteFailed(); m.SetWriteOK(false); m.WriteDropped(3) }, 0, 1, 3},
		{func() { m.WriteDropped(1); m.WriteDropped(1) }, 0, 1, 5},
		{func() { m.SetWriteOK(true) }, 1, 1, 5},
		{func() { m.WriteFailed(); m.SetWriteOK(false) }, 0, 2, 5},
	}
	for i, st := range steps {
		st.do()
		for name, want := range map[string]float64{"intunecap_write_ok": st.ok,
			"intunecap_write_failures_total": st.failures, "intunecap_write_dropped_packets_total": st.dropped} {
			if got, ok := series(t, m, name, nil); !ok || got != want {
				t.Errorf("step %d: %s = %v (present %v), want %v", i, name, got, ok, want)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.WriteDropped(1) }); n != 0 {
		t.Errorf("WriteDropped: %v allocations, want 0", n)
	}
}

// TestMetricsTable checks, against a loop over the table's rows, that every row that can match has every
// verdict's series at zero and its status not-seen before any record, and that note rows have none.
func TestMetricsTable(t *testing.T) {
	table := loadTable(t)
	m := New(Options{Table: table, Start: time.Unix(1700000000, 0)})
	rows := 0
	for _, row := range table.Rules {
		pattern := row.Pattern
		if pattern == "" && row.Prefix.IsValid() {
			pattern = row.Prefix.String()
		}
		_, exists := series(t, m, "intunecap_requirement_status",
			map[string]string{"rule": pattern, "rule_key": row.Key(), "status": "not-seen"})
		if pattern == "" {
			if exists {
				t.Errorf("row %s matches nothing but has a status series", row.Key())
			}
			continue
		}
		rows++
		for status, want := range map[string]float64{"not-seen": 1, "ok": 0, "failing": 0} {
			got, ok := series(t, m, "intunecap_requirement_status",
				map[string]string{"rule": pattern, "rule_key": row.Key(), "status": status})
			if !ok || got != want {
				t.Errorf("row %s status %s = %v (present %v), want %v", row.Key(), status, got, ok, want)
			}
		}
		for _, name := range []string{"intunecap_connections_total", "intunecap_dns_exchanges_total"} {
			for _, v := range rules.Verdicts() {
				got, ok := series(t, m, name, map[string]string{"rule": pattern, "rule_key": row.Key(), "verdict": string(v)})
				if !ok || got != 0 {
					t.Errorf("%s{rule_key=%q,verdict=%q} = %v (present %v), want 0", name, row.Key(), v, got, ok)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("the intune-2015 table gave no rows")
	}
	for _, name := range []string{"intunecap_last_packet_timestamp_seconds", "intunecap_last_requirement_record_timestamp_seconds"} {
		if got, _ := series(t, m, name, nil); got != 1700000000 {
			t.Errorf("%s = %v before any packet, want the start 1700000000", name, got)
		}
	}
}

// TestRequirementStatus follows a row through sequences of verdicts: the latest telling verdict decides.
func TestRequirementStatus(t *testing.T) {
	intercepted := rules.Verdict("intercepted") // unknown to this package until the engine gives it
	tests := []struct {
		name     string
		verdicts []rules.Verdict
		want     string
	}{
		{"nothing yet", nil, "not-seen"},
		{"allowed", []rules.Verdict{rules.Allowed}, "ok"},
		{"blocked", []rules.Verdict{rules.Blocked}, "failing"},
		{"reset", []rules.Verdict{rules.Reset}, "failing"},
		{"intercepted", []rules.Verdict{intercepted}, "failing"},
		{"a verdict added later", []rules.Verdict{"tampered"}, "failing"},
		{"every known verdict but allowed fails or tells nothing", nonAllowed(), "failing"},
		{"recovers", []rules.Verdict{rules.Blocked, rules.Allowed}, "ok"},
		{"fails again", []rules.Verdict{rules.Allowed, rules.Reset}, "failing"},
		{"rule-only verdicts keep the status", []rules.Verdict{rules.Blocked, rules.PortNotAllowed, rules.Other}, "failing"},
		{"rule-only verdicts alone", []rules.Verdict{rules.PortNotAllowed, rules.Unlisted, rules.Other}, "not-seen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{Table: loadTable(t)})
			for _, v := range tc.verdicts {
				m.Record(&result.Record{Type: "flow", Verdict: v, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1"})
			}
			for _, s := range statusNames {
				want := 0.0
				if s == tc.want {
					want = 1
				}
				got, ok := series(t, m, "intunecap_requirement_status",
					map[string]string{"rule": "*.manage.microsoft.com", "rule_key": "intune-2015:1", "status": s})
				if !ok || got != want {
					t.Errorf("status %s = %v (present %v), want %v", s, got, ok, want)
				}
			}
			if len(tc.verdicts) > 0 {
				v := tc.verdicts[len(tc.verdicts)-1]
				got, ok := series(t, m, "intunecap_connections_total",
					map[string]string{"rule": "*.manage.microsoft.com", "rule_key": "intune-2015:1", "verdict": string(v)})
				if !ok || got < 1 {
					t.Errorf("verdict %q not counted: %v (present %v)", v, got, ok)
				}
			}
		})
	}
}

// nonAllowed is every verdict rules knows except allowed, blocked last.
func nonAllowed() []rules.Verdict {
	var out []rules.Verdict
	for _, v := range rules.Verdicts() {
		if v != rules.Allowed && v != rules.Blocked {
			out = append(out, v)
		}
	}
	return append(out, rules.Blocked)
}

// TestLastRequirementRecord checks the gauge takes the capture time of the latest packet when a record that
// matched a row comes, and ignores records without a row.
func TestLastRequirementRecord(t *testing.T) {
	m := New(Options{Start: time.Unix(100, 0)})
	m.Packet(time.Unix(200, 0), 60)
	m.Record(&result.Record{Type: "flow", Verdict: rules.Unlisted})
	if got, _ := series(t, m, "intunecap_last_requirement_record_timestamp_seconds", nil); got != 100 {
		t.Errorf("after an unlisted record: %v, want the start 100", got)
	}
	m.Packet(time.Unix(300, 0), 60)
	m.Record(&result.Record{Type: "dns", Verdict: rules.Blocked, Rule: "c.microsoft.com", RuleKey: "intune-2015:8"})
	if got, _ := series(t, m, "intunecap_last_requirement_record_timestamp_seconds", nil); got != 300 {
		t.Errorf("after a matched record: %v, want 300", got)
	}
}

// TestMetricsSeparate checks that two runs never share counters (no global registry).
func TestMetricsSeparate(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	a.Packet(time.Unix(1, 0), 100)
	if body := scrape(t, b); !strings.Contains(body, "intunecap_packets_total 0") {
		t.Errorf("second registry saw the first one's packet")
	}
}

// TestNoAllocs holds the per-packet and (steady-state) per-record updates to zero allocations.
func TestNoAllocs(t *testing.T) {
	m := New(Options{Table: loadTable(t)})
	ts := time.Unix(1700000000, 0)
	r := &result.Record{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "sni"}
	m.Record(r)
	if n := testing.AllocsPerRun(100, func() { m.Packet(ts, 1500) }); n != 0 {
		t.Errorf("Packet: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { m.Record(r) }); n != 0 {
		t.Errorf("Record: %v allocations, want 0", n)
	}
}

func BenchmarkPacket(b *testing.B) {
	m := New(Options{})
	ts := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		m.Packet(ts, 1500)
	}
}

func BenchmarkRecord(b *testing.B) {
	m := New(Options{Table: loadTable(b)})
	r := &result.Record{Type: "flow", Verdict: rules.Allowed, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "sni"}
	b.ReportAllocs()
	for b.Loop() {
		m.Record(r)
	}
}

// TestConcurrentScrape updates from one goroutine while another scrapes, for the race detector.
func TestConcurrentScrape(t *testing.T) {
	m := New(Options{Table: loadTable(t)})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			m.Packet(time.Unix(int64(i), 0), 100)
			m.Record(&result.Record{Type: "flow", Verdict: rules.Verdicts()[i%len(rules.Verdicts())],
				Rule: "c.microsoft.com", RuleKey: "intune-2015:8", NameSource: "sni"})
			m.SetDrops(uint64(i), 0)
			m.SetFlowTable(i)
		}
	}()
	for range 20 {
		scrape(t, m)
	}
	<-done
	if got, _ := series(t, m, "intunecap_packets_total", nil); got != 2000 {
		t.Errorf("packets = %v, want 2000", got)
	}
}

// TestSeriesPerTable counts the series a table creates before any record, the figure docs/live.md gives.
func TestSeriesPerTable(t *testing.T) {
	m := New(Options{Table: loadTable(t)})
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		switch f.GetName() {
		case "intunecap_connections_total", "intunecap_dns_exchanges_total", "intunecap_requirement_status":
			n += len(f.GetMetric())
		}
	}
	if want := 29 * (len(rules.Verdicts())*2 + 3); n != want {
		t.Errorf("%d series for intune-2015's 29 rows, want %d", n, want)
	}
}
