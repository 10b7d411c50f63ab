// Package deploy checks the monitoring files in this directory with the real tools: promtool for the alert
// rules and their unit tests, a running Prometheus for every dashboard query, systemd-analyze for the unit.
// A missing tool fails the test under CI=true and skips it elsewhere.
package deploy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/intunecap/intunecap/deploy/promtest"
	"github.com/intunecap/intunecap/metrics"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

const (
	rulesFile     = "prometheus/intunecap.rules.yml"
	rulesTestFile = "prometheus/intunecap.rules.test.yml"
	configFile    = "prometheus/prometheus.yml"
	dashboardFile = "grafana/intunecap.json"
	unitFile      = "systemd/intunecap-live.service"

	alertmanagerFile = "alertmanager/alertmanager.yml"
)

// runTool runs a command and fails the test with its output if it fails.
func runTool(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtool(t *testing.T) {
	promtool := promtest.RequireTool(t, "promtool", "prometheus")
	tests := []struct {
		name string
		args []string
	}{
		{"check rules", []string{"check", "rules", filepath.Base(rulesFile)}},
		{"test rules", []string{"test", "rules", filepath.Base(rulesTestFile)}},
		{"check config", []string{"check", "config", filepath.Base(configFile)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runTool(t, "prometheus", promtool, tc.args...)
		})
	}
}

// TestAlertmanagerConfig checks the example routing with amtool: the file is valid and each kind of alert
// reaches the receiver the comments promise.
func TestAlertmanagerConfig(t *testing.T) {
	amtool := promtest.RequireTool(t, "amtool", "prometheus-alertmanager")
	runTool(t, "alertmanager", amtool, "check-config", filepath.Base(alertmanagerFile))
	tests := []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=IntuneEndpointIntercepted", "severity=critical", "site=paris"}, "network-oncall"},
		{[]string{"alertname=IntuneRequirementFailing", "severity=critical"}, "network-oncall"},
		{[]string{"alertname=IntuneEndpointBlocked", "severity=warning", "rule_key=intune-2015:1"}, "network-team"},
		{[]string{"alertname=IntunecapDroppingPackets", "severity=warning"}, "network-team"},
		{[]string{"alertname=IntuneTrafficMissing", "severity=info"}, "network-team"},
	}
	for _, tc := range tests {
		args := append([]string{"config", "routes", "test", "--config.file=" + filepath.Base(alertmanagerFile)}, tc.labels...)
		out := runTool(t, "alertmanager", amtool, args...)
		if got := lastLine(withoutWarnings(out)); got != tc.want {
			t.Errorf("%v routed to %q, want %q", tc.labels, got, tc.want)
		}
	}
}

// alertRule is one alerting rule of the rules file.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlerts(t *testing.T) []alertRule {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("parse %s: %v", rulesFile, err)
	}
	var out []alertRule
	for _, g := range file.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestEveryAlertTested checks that every alert has its annotations and that the promtool unit tests evaluate
// it at least once firing and once not firing.
func TestEveryAlertTested(t *testing.T) {
	data, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("parse %s: %v", rulesTestFile, err)
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range file.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) > 0 {
				firing[at.Alertname] = true
			} else {
				silent[at.Alertname] = true
			}
		}
	}
	alerts := loadAlerts(t)
	if len(alerts) == 0 {
		t.Fatalf("%s has no alerts", rulesFile)
	}
	names := map[string]bool{}
	for _, a := range alerts {
		names[a.Alert] = true
		if !firing[a.Alert] || !silent[a.Alert] {
			t.Errorf("alert %s: unit tests firing %v, not firing %v; want both", a.Alert, firing[a.Alert], silent[a.Alert])
		}
		for _, key := range []string{"summary", "description"} {
			if !strings.Contains(a.Annotations[key], "{{ $labels.instance }}") {
				t.Errorf("alert %s: annotation %s %q does not name the instance", a.Alert, key, a.Annotations[key])
			}
		}
		if a.Labels["severity"] == "" {
			t.Errorf("alert %s has no severity label", a.Alert)
		}
	}
	for name := range firing {
		if !names[name] {
			t.Errorf("unit tests evaluate %s, which the rules do not define", name)
		}
	}
	// Every verdict that stops a connection has its alert; a verdict rules gains later needs one too.
	for _, v := range rules.Verdicts() {
		switch v {
		case rules.Allowed, rules.PortNotAllowed, rules.Unlisted, rules.Other:
			continue
		}
		found := slices.ContainsFunc(alerts, func(a alertRule) bool {
			return strings.Contains(a.Expr, `verdict="`+string(v)+`"`)
		})
		if !found {
			t.Errorf("no alert on verdict %q", v)
		}
	}
}

// exposedMetrics are the metric names a live run with the intune-2015 table serves.
func exposedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	table, err := rules.Load([]string{"intune-2015"})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{Table: table, Version: "test"})
	m.SetFlowTable(0)
	m.SetWriteOK(true)                                                                // the write metrics, served with --write
	m.Record(&result.Record{Type: "flow", Verdict: rules.Allowed, NameSource: "sni"}) // names_total's first series
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

// TestMetricNames checks that the rules and the dashboard use only metrics intunecap serves, and that
// docs/live.md's table documents every one of them.
func TestMetricNames(t *testing.T) {
	exposed := exposedMetrics(t)
	var texts []struct{ where, text string }
	for _, a := range loadAlerts(t) {
		texts = append(texts, struct{ where, text string }{"alert " + a.Alert, a.Expr})
	}
	d, err := promtest.LoadDashboard(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range d.Queries() {
		texts = append(texts, struct{ where, text string }{"panel " + q.Panel, q.Expr})
	}
	used := map[string]bool{}
	for _, x := range texts {
		names := promtest.MetricNames(x.text)
		if len(names) == 0 && !strings.Contains(x.text, "up{") {
			t.Errorf("%s: %q names no intunecap metric", x.where, x.text)
		}
		for _, n := range names {
			used[n] = true
			if !exposed[n] {
				t.Errorf("%s uses %s, which intunecap does not serve", x.where, n)
			}
		}
	}
	doc, err := os.ReadFile("../docs/live.md")
	if err != nil {
		t.Fatal(err)
	}
	for n := range exposed {
		if strings.HasPrefix(n, "intunecap_") && !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/live.md does not document %s", n)
		}
	}
}

// TestDashboardShape checks what Grafana needs of the dashboard: panels with queries, unique ids, the grid, the
// data source and gateway variables.
func TestDashboardShape(t *testing.T) {
	d, err := promtest.LoadDashboard(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard lacks uid, title or panels: uid %q title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Contains(vars, "datasource") || !slices.Contains(vars, "instance") {
		t.Errorf("dashboard variables %v, want datasource and instance", vars)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: grid position %+v outside Grafana's 24 columns", p.Title, p.GridPos)
		}
		if !strings.Contains(string(p.Datasource), "${datasource}") {
			t.Errorf("panel %q: datasource %s is not the dashboard's ${datasource} variable", p.Title, p.Datasource)
		}
		for _, q := range p.Targets {
			if !strings.Contains(q.Expr, "$instance") {
				t.Errorf("panel %q query %s does not filter on $instance", p.Title, q.RefID)
			}
		}
	}
}

// TestStack runs the stack on loopback: a live run's metrics served here, a real Prometheus with the alert rules
// scraping them, and Alertmanager with deploy/alertmanager's routing. After blocked, reset and allowed
// records the blocked and reset alerts must fire with rendered annotations and reach Alertmanager's receiver,
// every dashboard query must be valid PromQL and return data, and every rule must evaluate without error.
func TestStack(t *testing.T) {
	d, err := promtest.LoadDashboard(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	amConfig, err := filepath.Abs(alertmanagerFile)
	if err != nil {
		t.Fatal(err)
	}
	am := promtest.StartAlertmanager(t, promtest.AlertmanagerConfig{ConfigFile: amConfig})
	rulesPath, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	m, target := serveMetrics(t)
	srv := promtest.Start(t, promtest.Config{Targets: []string{target}, RuleFiles: []string{rulesPath},
		Alertmanagers: []string{am.Addr}})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	// Every row's counters are scraped at zero first; the records below are then increases, as on a gateway.
	if _, err := srv.WaitQuery(ctx, `intunecap_connections_total{rule_key="intune-2015:19",verdict="blocked"} == 0`); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	ts := time.Now()
	for _, r := range []result.Record{
		{Type: "flow", Verdict: rules.Allowed, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "sni"},
		{Type: "dns", Verdict: rules.Allowed, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "dns"},
		{Type: "dns", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "dns"},
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", NameSource: "sni"},
		{Type: "flow", Verdict: rules.Blocked, Rule: "*.windowsupdate.com", RuleKey: "intune-2015:19", NameSource: "dns"},
		{Type: "flow", Verdict: rules.Reset, Rule: "download.windowsupdate.com", RuleKey: "intune-2015:18", NameSource: "sni"},
		{Type: "flow", Verdict: rules.Unlisted, NameSource: "sni"},
	} {
		m.Packet(ts, 100)
		m.Record(&r)
	}
	// A connection and a DNS lookup blocked for the same row: one alert, not a rule error.
	alerts, err := srv.WaitAlerts(ctx, []promtest.WantAlert{
		{Name: "IntuneEndpointBlocked", RuleKey: "intune-2015:1"},
		{Name: "IntuneEndpointBlocked", RuleKey: "intune-2015:19"},
		{Name: "IntuneEndpointReset", RuleKey: "intune-2015:18"},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	for _, a := range alerts {
		if err := promtest.CheckAnnotations(a); err != nil {
			t.Error(err)
		}
	}
	got, err := am.WaitAlert(ctx, map[string]string{"alertname": "IntuneEndpointBlocked", "rule_key": "intune-2015:19"})
	if err != nil {
		t.Fatalf("%v\n%s", err, am.Log())
	}
	if !slices.Equal(got.Receivers, []string{"network-team"}) {
		t.Errorf("Alertmanager routes %v to %v, want network-team", got.Labels, got.Receivers)
	}
	for _, err := range srv.WaitDashboard(ctx, d, true) {
		t.Error(err)
	}
	checkRulesHealthy(t, ctx, srv, len(loadAlerts(t)))
}

// serveMetrics serves a live run's metrics (intune-2015 table) on loopback, as intunecap live --metrics does.
func serveMetrics(t *testing.T) (*metrics.Metrics, string) {
	t.Helper()
	table, err := rules.Load([]string{"intune-2015"})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{Table: table, Version: "test", Start: time.Now()})
	m.SetFlowTable(3)
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return m, strings.TrimPrefix(hs.URL, "http://")
}

// checkRulesHealthy waits until Prometheus has evaluated every rule and requires that none failed.
func checkRulesHealthy(t *testing.T, ctx context.Context, srv *promtest.Server, want int) {
	t.Helper()
	for {
		health, err := srv.Rules(ctx)
		if err != nil {
			t.Fatalf("rules: %v", err)
		}
		evaluated := 0
		for _, h := range health {
			if h.Health != "unknown" {
				evaluated++
			}
		}
		if len(health) == want && evaluated == want {
			for name, h := range health {
				if h.Health != "ok" {
					t.Errorf("rule %s does not evaluate: %s %s", name, h.Health, h.LastError)
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus evaluated %d of %d rules (want %d):\n%s", evaluated, len(health), want, srv.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// withoutWarnings drops amtool's "Warning: ..." lines (it writes them to stderr, mixed into the output).
func withoutWarnings(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "Warning:") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
