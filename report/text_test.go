package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// checkTerminalSafe fails if out holds a control byte other than newline, or any escape sequence the writer
// did not put there itself.
func checkTerminalSafe(t testing.TB, out []byte) {
	t.Helper()
	s := string(out)
	for _, code := range []string{colorRed, colorGreen, colorYellow, colorDim, colorBold, colorReset} {
		s = strings.ReplaceAll(s, code, "")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("control byte %#x at %d in:\n%q", c, i, s[max(0, i-40):min(len(s), i+40)])
		}
	}
}

func TestTextTerminalSafe(t *testing.T) {
	for _, opts := range []Options{{}, {Verbose: true}, {Color: true, Verbose: true}} {
		checkTerminalSafe(t, run(t, "text", opts, fixtureRecords(), fixtureSummary()))
	}
}

func TestHeadline(t *testing.T) {
	blocked := func(key string) result.Record {
		return result.Record{Type: "flow", RuleKey: key, Verdict: rules.Blocked}
	}
	seen := &result.Summary{Capture: result.CaptureFacts{Packets: 10},
		Rules: []result.RuleSummary{{Key: "t:1", Status: "ok"}}}
	empty := &result.Summary{Capture: result.CaptureFacts{Packets: 10}}
	proxy407 := result.Record{Type: "flow", Proto: "tcp", Name: "login.microsoftonline-p.com", Verdict: rules.Unlisted,
		ViaProxy: true, ProxyStatus: 407, State: "established"}
	servfail := result.Record{Type: "dns", Name: "fail.microsoftonline-p.com", Verdict: rules.Unlisted,
		State: "answered", Rcode: "SERVFAIL", Client: "198.18.0.2"}
	tests := []struct {
		name string
		opts Options
		recs []result.Record
		sum  *result.Summary
		want string
	}{
		{"nothing", Options{}, nil, empty,
			"INCONCLUSIVE: this capture cannot show whether Intune traffic gets through"},
		{"nothing allowed", Options{AllowEmpty: true}, nil, empty,
			"PASS: no Intune traffic seen, and none was expected (--allow-empty)"},
		{"only other", Options{}, []result.Record{{Verdict: rules.Other}}, empty,
			"INCONCLUSIVE: this capture cannot show whether Intune traffic gets through"},
		{"allowed", Options{}, []result.Record{{RuleKey: "t:1", Verdict: rules.Allowed}}, seen,
			"PASS: no Intune connection or lookup failed (1 connection on listed requirements)"},
		{"one", Options{}, []result.Record{blocked("t:1")}, seen, "FAIL: 1 failure on 1 listed requirement"},
		{"two rules", Options{}, []result.Record{blocked("t:1"), blocked("t:2"), {RuleKey: "t:2", Verdict: rules.Reset}},
			seen, "FAIL: 3 failures on 2 listed requirements"},
		{"blocked not failing", Options{FailOn: []rules.Verdict{rules.Reset}}, []result.Record{blocked("t:1")}, seen,
			"PASS (--fail-on reset): 1 failure seen but not counted (1 blocked)"},
		{"fail-on none", Options{FailOn: []rules.Verdict{}}, []result.Record{blocked("t:1"), blocked("t:2")}, seen,
			"PASS (--fail-on none): 2 failures seen but not counted (2 blocked)"},
		{"unruled only", Options{FailOn: []rules.Verdict{rules.Unlisted}}, []result.Record{{Verdict: rules.Unlisted}}, seen,
			"FAIL: 1 failure not tied to a requirement"},
		{"mixed", Options{FailOn: []rules.Verdict{rules.Blocked, rules.Unlisted}}, []result.Record{blocked("t:1"), {Verdict: rules.Unlisted}},
			seen, "FAIL: 2 failures: 1 on 1 listed requirement, 1 not tied to a requirement"},
		{"unlisted 407 and servfail", Options{}, []result.Record{blocked("t:1"), proxy407, servfail}, seen,
			"FAIL: 3 failures: 1 on 1 listed requirement, 2 to unlisted Microsoft names"},
		{"unlisted servfail forgiven", Options{}, []result.Record{servfail,
			{Type: "dns", Name: servfail.Name, Client: servfail.Client, Verdict: rules.Unlisted, State: "answered", Rcode: "NOERROR"}},
			seen, "PASS: no Intune connection or lookup failed (no record on a listed requirement)"},
		{"unlisted not in fail-on", Options{FailOn: []rules.Verdict{rules.Reset}}, []result.Record{proxy407}, seen,
			"PASS: no Intune connection or lookup failed (no record on a listed requirement)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, "text", tt.opts, tt.recs, tt.sum)
			if got, _, _ := strings.Cut(string(out), "\n"); got != tt.want {
				t.Errorf("headline %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnlistedFailureListed checks that a proxy 407 to an unlisted name shows among the problems with what the
// network did, and the headline's second line counts it.
func TestUnlistedFailureListed(t *testing.T) {
	r := result.Record{Type: "flow", Proto: "tcp", Name: "login.microsoftonline-p.com", Verdict: rules.Unlisted,
		ViaProxy: true, ProxyStatus: 407, State: "established", Server: "198.18.0.1", ServerPort: 3129, Port: 443,
		Client: "198.18.0.2", FirstFrame: 102}
	sum := &result.Summary{Capture: result.CaptureFacts{Packets: 10}, Rules: []result.RuleSummary{{Key: "t:1", Status: "ok"}}}
	out := string(run(t, "text", Options{}, []result.Record{r}, sum))
	for _, want := range []string{
		"FAIL: 1 failure to unlisted Microsoft names\n  1 blocked, in 1 connection\n",
		"  blocked or reset, to unlisted Microsoft names (1)\n",
		"login.microsoftonline-p.com:443  unlisted  after-connect",
		"blocked: the proxy asked for authentication (407)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestTextBounded feeds many failures for one requirement and checks that only a few are kept, while the
// counts stay exact.
func TestTextBounded(t *testing.T) {
	var buf bytes.Buffer
	w := newTextWriter(&buf, Options{FailOn: defaultFailOn()})
	const n = 10000
	for i := range n {
		r := result.Record{Type: "flow", Name: fmt.Sprintf("h%d.manage.microsoft.com", i), RuleKey: "t:1",
			Verdict: []rules.Verdict{rules.Blocked, rules.Reset}[i%2], FirstFrame: uint64(i + 1)}
		if err := w.Record(&r); err != nil {
			t.Fatal(err)
		}
		w.Record(&result.Record{Type: "dns", Verdict: rules.Allowed, Warning: "w"})
	}
	kept := 0
	for _, g := range []*group{w.failing["t:1"], w.problems[kindWarning]} {
		for _, ex := range g.kept {
			kept += len(ex)
		}
	}
	if kept > 3*maxExamples {
		t.Errorf("kept %d records, want at most %d", kept, 3*maxExamples)
	}
	w.Summary(&result.Summary{})
	out := buf.String()
	for _, want := range []string{
		"FAIL: 10000 failures on 1 listed requirement\n  5000 blocked, 5000 reset, in 10000 connections\n",
		fmt.Sprintf("    … and %d more\n", n-maxExamples),
		"h0.manage", "h1.manage", "h2.manage", "h3.manage", "h4.manage",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "h5.manage") {
		t.Error("report shows more than maxExamples records for one requirement")
	}
}

// TestTextCopiesRecords checks that a record kept as evidence does not change when the engine reuses the
// struct and its slices for the next one.
func TestTextCopiesRecords(t *testing.T) {
	var buf bytes.Buffer
	w, _ := New("text", &buf, Options{})
	r := result.Record{Type: "flow", Name: "a.manage.microsoft.com", RuleKey: "t:1", Verdict: rules.Blocked,
		DNSChain: []string{"a.manage.microsoft.com", "192.0.2.1"}}
	w.Record(&r)
	r.Name, r.DNSChain[0], r.Verdict = "changed.example", "changed.example", rules.Allowed
	w.Summary(&result.Summary{})
	out := buf.String()
	if strings.Contains(out, "changed.example") || !strings.Contains(out, "named by dns a.manage.microsoft.com → 192.0.2.1") {
		t.Errorf("evidence changed with the caller's record:\n%s", out)
	}
}

func TestTextUnlistedCapped(t *testing.T) {
	tests := []struct {
		names int
		want  string
	}{
		{maxUnlisted, ""},
		{maxUnlisted + 1, "  … and 1 more name, seen 1 time\n"},
		{maxUnlisted + 5, "  … and 5 more names, seen 5 times\n"},
	}
	for _, tt := range tests {
		var sum result.Summary
		for i := range tt.names {
			sum.Unlisted = append(sum.Unlisted, result.NameCount{Name: fmt.Sprintf("n%02d.microsoft.com", i), Count: 1})
		}
		sum.Unlisted[tt.names-1].Count = 9 // most frequent first, whatever the input order
		out := string(run(t, "text", Options{}, nil, &sum))
		top := fmt.Sprintf("COUNT  NAME\n  9      n%02d.microsoft.com\n  1      n00.microsoft.com\n", tt.names-1)
		if !strings.Contains(out, top) {
			t.Errorf("%d names: not sorted by count, then name:\n%s", tt.names, out)
		}
		last := fmt.Sprintf("n%02d.microsoft.com", tt.names-2)
		if got := strings.Contains(out, last); got != (tt.want == "") {
			t.Errorf("%d names: %s shown = %v", tt.names, last, got)
		}
		if tt.want != "" && !strings.Contains(out, tt.want) {
			t.Errorf("%d names: want %q in:\n%s", tt.names, tt.want, out)
		}
	}
}
