package livetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// record is the part of a jsonl line the tests look at.
type record struct {
	Type       string `json:"type"`
	Proto      string `json:"proto"`
	Client     string `json:"client"`
	ClientPort uint16 `json:"client_port"`
	Server     string `json:"server"`
	ServerPort uint16 `json:"server_port"`
	Name       string `json:"name"`
	QType      string `json:"qtype"`
	State      string `json:"state"`
	Verdict    string `json:"verdict"`
	FirstFrame uint64 `json:"first_frame"`
	Failing    *int   `json:"failing"`
}

// key identifies a record across a live run and the analysis of what it wrote.
func (r record) key() string {
	return fmt.Sprintf("%s %s %s:%d>%s:%d %s frame %d", r.Type, r.Proto, r.Client, r.ClientPort, r.Server,
		r.ServerPort, r.QType, r.FirstFrame)
}

// expectation is a verdict that must arrive while the capture runs.
type expectation struct {
	typ, name, qtype, verdict, state string
}

func (e expectation) matches(r record) bool {
	return r.Type == e.typ && r.Name == e.name && r.Verdict == e.verdict && (e.qtype == "" || r.QType == e.qtype) &&
		(e.state == "" || r.State == e.state)
}

// scenario is traffic the managed device makes, with the verdicts it must produce.
type scenario struct {
	name   string
	client []string // run in the device namespace; its failure is expected for some scenarios
	want   []expectation
}

var scenarios = []scenario{
	{"tls allowed", []string{"curl", "-sk", "--max-time", "5", "-o", "/dev/null", "https://enrollment.manage.microsoft.com/"},
		[]expectation{{typ: "flow", name: "enrollment.manage.microsoft.com", verdict: "allowed"},
			{typ: "dns", name: "enrollment.manage.microsoft.com", qtype: "A", verdict: "allowed"}}},
	{"syn dropped", []string{"curl", "-sk", "--connect-timeout", "2.5", "-o", "/dev/null", "https://ctldl.windowsupdate.com/"},
		[]expectation{{typ: "flow", name: "ctldl.windowsupdate.com", verdict: "blocked", state: "unanswered"}}},
	{"syn refused", []string{"curl", "-sk", "--max-time", "5", "-o", "/dev/null", "https://download.windowsupdate.com/"},
		[]expectation{{typ: "flow", name: "download.windowsupdate.com", verdict: "reset", state: "refused"}}},
	{"reset after hello", []string{"curl", "-sk", "--max-time", "5", "-o", "/dev/null", "https://blocked.manage.microsoft.com/"},
		[]expectation{{typ: "flow", name: "blocked.manage.microsoft.com", verdict: "reset"}}},
	{"nxdomain", []string{"dig", "+tries=1", "+timeout=2", "A", "nonexistent.manage.microsoft.com"},
		[]expectation{{typ: "dns", name: "nonexistent.manage.microsoft.com", qtype: "A", verdict: "blocked"}}},
	{"unlisted", []string{"curl", "-sk", "--max-time", "5", "-o", "/dev/null", "https://graph.windows.net/"},
		[]expectation{{typ: "flow", name: "graph.windows.net", verdict: "unlisted"}}},
	{"proxy filter", []string{"curl", "-sk", "--max-time", "5", "-o", "/dev/null", "-x", "http://198.18.0.1:3128", "https://wustat.microsoft.com/"},
		[]expectation{{typ: "flow", name: "wustat.microsoft.com", verdict: "blocked"}}},
}

// blockRules are the gateway's iptables rules the scenarios meet.
var blockRules = [][]string{
	{"-I", "INPUT", "-d", "198.18.1.22", "-p", "tcp", "--dport", "443", "-j", "DROP"},
	{"-I", "INPUT", "-d", "198.18.1.23", "-p", "tcp", "--syn", "--dport", "443", "-j", "REJECT", "--reject-with", "tcp-reset"},
	{"-I", "INPUT", "-p", "tcp", "--dport", "443", "-m", "string", "--algo", "bm", "--string",
		"blocked.manage.microsoft.com", "-j", "REJECT", "--reject-with", "tcp-reset"},
}

// TestLive runs the scenarios with two captures on the gateway's veth at once: jsonl with --write and
// --metrics, and text. Every expected verdict must arrive before the capture is stopped.
func TestLive(t *testing.T) {
	l := startLab(t)
	for _, r := range blockRules {
		l.mustExec(t, "net", append([]string{"iptables"}, r...)...)
	}
	written := filepath.Join(l.dir, "live.pcapng")
	jp := l.startLive(t, "--format", "jsonl", "--syn-wait", "3s", "--write", written, "--metrics", "127.0.0.1:9180")
	tp := l.startLive(t, "--format", "text", "--syn-wait", "3s")

	for _, sc := range scenarios {
		l.exec("dev", 10*time.Second, sc.client...)
	}
	var want []expectation
	for _, sc := range scenarios {
		want = append(want, sc.want...)
	}
	live := waitRecords(t, jp, want, 30*time.Second)
	checkMetrics(t, l)
	checkTextLive(t, tp)

	if code := jp.stop(t); code != 1 {
		t.Errorf("jsonl live exit status %d after SIGINT, want 1 (failures found)\n%s", code, jp.stderrText())
	}
	rest := drain(t, jp)
	if len(rest) == 0 || rest[len(rest)-1].Type != "summary" || rest[len(rest)-1].Failing == nil ||
		*rest[len(rest)-1].Failing == 0 {
		t.Errorf("jsonl live did not end with a summary counting failures: %+v", rest)
	}
	live = append(live, rest...)
	checkTextSummary(t, tp)
	checkReplay(t, l, written, live)
}

// waitRecords reads jsonl records until every expectation is met or the deadline passes.
func waitRecords(t *testing.T, p *liveProc, want []expectation, limit time.Duration) []record {
	t.Helper()
	var got []record
	met := make([]bool, len(want))
	deadline := time.After(limit)
	for left := len(want); left > 0; {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("live output ended early\n%s", p.stderrText())
			}
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("bad jsonl line %q: %v", line, err)
			}
			got = append(got, r)
			for i, e := range want {
				if !met[i] && e.matches(r) {
					met[i] = true
					left--
				}
			}
		case <-deadline:
			for i, e := range want {
				if !met[i] {
					t.Errorf("no live record %+v within %s", e, limit)
				}
			}
			for _, r := range got {
				t.Logf("got %s %s %s %s %s", r.Type, r.Name, r.QType, r.State, r.Verdict)
			}
			t.FailNow()
		}
	}
	return got
}

// drain reads what the process wrote after it was stopped.
func drain(t *testing.T, p *liveProc) []record {
	t.Helper()
	var out []record
	for line := range p.lines {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad jsonl line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// checkMetrics scrapes --metrics inside the gateway namespace while the capture runs.
func checkMetrics(t *testing.T, l *lab) {
	t.Helper()
	body, err := l.exec("net", 5*time.Second, "curl", "-sf", "http://127.0.0.1:9180/metrics")
	if err != nil {
		t.Fatalf("scrape metrics: %v\n%s", err, body)
	}
	for _, want := range []string{
		`intunecap_connections_total{rule="*.manage.microsoft.com",rule_key="intune-2015:1",verdict="allowed"}`,
		`intunecap_connections_total{rule="*.windowsupdate.com",rule_key="intune-2015:19",verdict="blocked"} 1`,
		`intunecap_connections_total{rule="",rule_key="",verdict="unlisted"} 1`,
		`intunecap_dns_exchanges_total{rule="*.manage.microsoft.com",rule_key="intune-2015:1",verdict="blocked"}`,
		`intunecap_names_total{source="sni"}`,
		`intunecap_kernel_dropped_packets_total 0`,
		`intunecap_packets_total `,
		`intunecap_bytes_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepPrefix(body, "intunecap_"))
	}
}

func grepPrefix(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// checkTextLive waits for the text capture's problem lines, printed while it runs.
func checkTextLive(t *testing.T, p *liveProc) {
	t.Helper()
	want := map[string]bool{"ctldl.windowsupdate.com": false, "download.windowsupdate.com": false,
		"blocked.manage.microsoft.com": false}
	deadline := time.After(10 * time.Second)
	for left := len(want); left > 0; {
		select {
		case line := <-p.lines:
			for name, seen := range want {
				if !seen && strings.Contains(line, name) {
					want[name] = true
					left--
				}
			}
		case <-deadline:
			t.Fatalf("text live output lacks problem lines: %v\n%s", want, p.stderrText())
		}
	}
}

// checkTextSummary stops the text capture and checks the summary and the exit status.
func checkTextSummary(t *testing.T, p *liveProc) {
	t.Helper()
	code := p.stop(t)
	var all strings.Builder
	for line := range p.lines {
		all.WriteString(line + "\n")
	}
	out := all.String()
	for _, want := range []string{"Requirements", "Capture quality", "interface veth0"} {
		if !strings.Contains(out, want) {
			t.Errorf("text summary lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("text live exit status %d, want 1\n%s", code, p.stderrText())
	}
}

// checkReplay analyzes what --write saved and wants the same records with the same verdicts.
func checkReplay(t *testing.T, l *lab, written string, live []record) {
	t.Helper()
	out, err := exec.Command(l.bin, "analyze", "--format", "jsonl", "--fail-on", "none", written).Output()
	if err != nil {
		t.Fatalf("analyze %s: %v", written, err)
	}
	verdicts := func(rs []record) []string {
		var out []string
		for _, r := range rs {
			if r.Type != "summary" {
				out = append(out, r.key()+" "+r.Name+" "+r.Verdict)
			}
		}
		sort.Strings(out)
		return out
	}
	var replay []record
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad analyze line %q: %v", line, err)
		}
		replay = append(replay, r)
	}
	a, b := verdicts(live), verdicts(replay)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("analyze of the --write file differs from live:\nlive:\n%s\nanalyze:\n%s", strings.Join(a, "\n"),
			strings.Join(b, "\n"))
	}
}

// TestLiveNoPermission runs live as nobody: one line saying how to grant the right, and exit status 2.
func TestLiveNoPermission(t *testing.T) {
	l := startLab(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		unavailable(t, "no setpriv to drop privileges")
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		l.bin, "live", "-i", "lo")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("exit status %d (%v), want 2\n%s", code, err, out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Count(text, "\n") != 0 || !strings.Contains(text, "setcap cap_net_raw,cap_net_admin=eip") {
		t.Errorf("want one line with the setcap advice, got:\n%s", text)
	}
	_ = os.Remove
}
