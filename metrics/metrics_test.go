package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

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

func TestMetricsCounts(t *testing.T) {
	m := New()
	records := []result.Record{
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", NameSource: "sni"},
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", NameSource: "dns"},
		{Type: "flow", Verdict: rules.Unlisted, NameSource: "sni"},
		{Type: "dns", Verdict: rules.Allowed, Rule: "login.microsoftonline.com"},
	}
	for i := range records {
		m.Record(&records[i])
	}
	m.Packet(60)
	m.Packet(1500)
	m.SetDrops(7, 2)
	body := scrape(t, m)
	tests := []struct {
		line string
		want bool
	}{
		{`intunecap_connections_total{rule="*.manage.microsoft.com",verdict="blocked"} 2`, true},
		{`intunecap_connections_total{rule="",verdict="unlisted"} 1`, true},
		{`intunecap_dns_exchanges_total{rule="login.microsoftonline.com",verdict="allowed"} 1`, true},
		{`intunecap_names_total{source="sni"} 2`, true},
		{`intunecap_names_total{source="dns"} 1`, true},
		{`intunecap_packets_total 2`, true},
		{`intunecap_bytes_total 1560`, true},
		{`intunecap_kernel_dropped_packets_total 7`, true},
		{`intunecap_interface_dropped_packets_total 2`, true},
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

// TestMetricsSeparate checks that two runs never share counters (no global registry).
func TestMetricsSeparate(t *testing.T) {
	a, b := New(), New()
	a.Packet(100)
	if body := scrape(t, b); !strings.Contains(body, "intunecap_packets_total 0") {
		t.Errorf("second registry saw the first one's packet")
	}
}

func BenchmarkPacket(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Packet(1500)
	}
}
