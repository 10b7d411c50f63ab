package livetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/deploy/promtest"
	"github.com/intunecap/intunecap/rules"
)

// promMetricsPort is where intunecap serves metrics inside the gateway namespace (its own loopback).
const promMetricsPort = 9183

// promScenarios are the traffic of TestPrometheus: an allowed connection, a dropped SYN (blocked), a refused
// one (reset), a failed lookup (blocked DNS) and an unlisted name.
var promScenarios = []string{"tls allowed", "syn dropped", "syn refused", "nxdomain", "unlisted"}

// TestPrometheus runs the monitoring stack of deploy/ end to end: intunecap live --metrics on the gateway,
// Debian's prometheus and alertmanager beside it in the same network namespace (all on loopback) with the alert
// rules of deploy/prometheus (the 15-minute wait of IntuneRequirementFailing cut to 2 s in a copy), scraping
// and evaluating every second, and deploy/alertmanager's routing. After allowed, blocked and reset traffic the
// verdict series must be there, the blocked, reset and failing alerts must fire and reach Alertmanager, no
// capture alert may fire, and every dashboard query must return data.
func TestPrometheus(t *testing.T) {
	promtest.RequireTool(t, "prometheus", "prometheus")
	promtest.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	l := startLab(t)
	for _, r := range blockRules {
		l.mustExec(t, "net", append([]string{"iptables"}, r...)...)
	}
	live := l.startLive(t, "--format", "text", "--syn-wait", "3s", "--metrics", fmt.Sprintf("127.0.0.1:%d", promMetricsPort))

	wrap := []string{"ip", "netns", "exec", l.ns("net")}
	fetch := func(ctx context.Context, u string) ([]byte, error) {
		return exec.CommandContext(ctx, wrap[0], append(wrap[1:], "curl", "-sS", "--max-time", "5", u)...).Output()
	}
	am := promtest.StartAlertmanager(t, promtest.AlertmanagerConfig{
		ConfigFile: filepath.Join(l.repo, "deploy/alertmanager/alertmanager.yml"), Wrap: wrap, Fetch: fetch})
	srv := promtest.Start(t, promtest.Config{
		Targets:       []string{fmt.Sprintf("127.0.0.1:%d", promMetricsPort)},
		RuleFiles:     []string{shortRules(t, l.repo)},
		Alertmanagers: []string{am.Addr},
		Wrap:          wrap,
		Fetch:         fetch,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The first scrape sees every requirement row's counters at zero, so the failures below are increases.
	waitQuery(t, ctx, srv, `intunecap_connections_total{rule_key="intune-2015:19",verdict="blocked"} == 0`)

	for _, sc := range scenarios {
		if slices.Contains(promScenarios, sc.name) {
			l.exec("dev", 10*time.Second, sc.client...)
		}
	}
	// A row that only ever sees allowed traffic (row 1 ends failing: its NXDOMAIN is reported last).
	l.exec("dev", 10*time.Second, "curl", "-sk", "--max-time", "5", "-o", "/dev/null", "https://blob.core.windows.net/")
	for _, q := range []string{
		`intunecap_connections_total{rule="*.manage.microsoft.com",rule_key="intune-2015:1",verdict="allowed"} >= 1`,
		`intunecap_connections_total{rule="*.windowsupdate.com",rule_key="intune-2015:19",verdict="blocked"} == 1`,
		`intunecap_connections_total{rule="download.windowsupdate.com",rule_key="intune-2015:18",verdict="reset"} >= 1`,
		`intunecap_dns_exchanges_total{rule_key="intune-2015:1",verdict="blocked"} >= 1`,
		`intunecap_connections_total{rule="",rule_key="",verdict="unlisted"} >= 1`,
		`intunecap_requirement_status{rule_key="intune-2015:19",status="failing"} == 1`,
		`intunecap_requirement_status{rule_key="intune-2015:1",status="failing"} == 1`,
		`intunecap_requirement_status{rule="blob.core.windows.net",rule_key="intune-2015:10",status="ok"} == 1`,
		`intunecap_requirement_status{rule_key="intune-2015:5",status="not-seen"} == 1`,
		`intunecap_build_info{version!=""} == 1`,
		`intunecap_packets_total > 0`,
		`time() - intunecap_last_packet_timestamp_seconds < 60`,
	} {
		waitQuery(t, ctx, srv, q)
	}
	waitAlerts(t, ctx, srv, []promtest.WantAlert{
		{Name: "IntuneEndpointBlocked", RuleKey: "intune-2015:19"},
		{Name: "IntuneEndpointBlocked", RuleKey: "intune-2015:1"}, // the NXDOMAIN
		{Name: "IntuneEndpointReset", RuleKey: "intune-2015:18"},
		{Name: "IntuneRequirementFailing", RuleKey: "intune-2015:19"},
	})
	for _, want := range []map[string]string{
		{"alertname": "IntuneEndpointBlocked", "rule_key": "intune-2015:19", "job": "intunecap"},
		{"alertname": "IntuneRequirementFailing", "rule_key": "intune-2015:19", "severity": "critical"},
	} {
		if _, err := am.WaitAlert(ctx, want); err != nil {
			t.Fatalf("%v\n%s", err, am.Log())
		}
	}
	checkQuietAlerts(t, ctx, srv, "IntunecapDroppingPackets", "IntunecapCaptureStalled", "IntunecapDown",
		"IntuneTrafficMissing", "IntuneEndpointIntercepted")
	checkDashboard(t, ctx, srv, filepath.Join(l.repo, "deploy/grafana/intunecap.json"))

	t.Run("intercepted verdict", func(t *testing.T) {
		if !slices.Contains(rules.Verdicts(), rules.Verdict("intercepted")) {
			t.Skip("the verdict intercepted does not exist yet in rules/: nothing can be intercepted, and its alert is unit-tested in deploy/")
		}
		// The counters of the new verdict exist for every row from the start, so its alert can see the first one.
		waitQuery(t, ctx, srv, `intunecap_connections_total{rule_key="intune-2015:1",verdict="intercepted"} >= 0`)
		got, err := srv.Query(ctx, `sum(intunecap_connections_total{verdict="intercepted",rule_key!=""}) > 0`)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			waitAlerts(t, ctx, srv, []promtest.WantAlert{{Name: "IntuneEndpointIntercepted"}})
		}
	})
	if code := live.stop(t); code != 1 {
		t.Errorf("live exit status %d, want 1 (failures seen)\n%s", code, live.stderrText())
	}
}

// shortRules copies the deploy rules with IntuneRequirementFailing's 15-minute wait cut to 2 s.
func shortRules(t *testing.T, repo string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(repo, "deploy/prometheus/intunecap.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(string(text), "for: 15m", "for: 2s", 1)
	if short == string(text) {
		t.Fatal(`the rules no longer contain "for: 15m": update shortRules`)
	}
	path := filepath.Join(t.TempDir(), "intunecap.rules.yml")
	if err := os.WriteFile(path, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(path), 0o755)
	return path
}

// waitQuery waits until an instant query returns a series, or fails the test showing what is there.
func waitQuery(t *testing.T, ctx context.Context, srv *promtest.Server, expr string) {
	t.Helper()
	if _, err := srv.WaitQuery(ctx, expr); err != nil {
		all, _ := srv.Query(context.Background(), `{__name__=~"intunecap_.*",verdict!~"port-not-allowed|other"} > 0`)
		var b strings.Builder
		for _, x := range all {
			fmt.Fprintf(&b, "\n  %v %v", x.Metric, x.Value[1])
		}
		t.Fatalf("%v\nnon-zero intunecap series:%s\n%s", err, b.String(), srv.Log())
	}
}

// waitAlerts waits until every wanted alert fires, and checks the annotations of all that fire.
func waitAlerts(t *testing.T, ctx context.Context, srv *promtest.Server, want []promtest.WantAlert) {
	t.Helper()
	alerts, err := srv.WaitAlerts(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if err := promtest.CheckAnnotations(a); err != nil {
			t.Error(err)
		}
	}
}

// checkQuietAlerts wants none of the named alerts pending or firing.
func checkQuietAlerts(t *testing.T, ctx context.Context, srv *promtest.Server, names ...string) {
	t.Helper()
	alerts, err := srv.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if slices.Contains(names, a.Labels["alertname"]) {
			t.Errorf("alert %s is %s in a healthy lab: %v", a.Labels["alertname"], a.State, a.Labels)
		}
	}
}

// checkDashboard wants data from every query of the dashboard.
func checkDashboard(t *testing.T, ctx context.Context, srv *promtest.Server, path string) {
	t.Helper()
	d, err := promtest.LoadDashboard(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Queries()) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	for _, err := range srv.WaitDashboard(ctx, d, true) {
		t.Error(err)
	}
}
