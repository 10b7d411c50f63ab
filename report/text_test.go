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
	tests := []struct {
		name   string
		failOn []rules.Verdict
		recs   []result.Record
		want   string
	}{
		{"nothing", nil, nil, "PASS: no Intune connection failed (no Intune traffic seen)"},
		{"only other", nil, []result.Record{{Verdict: rules.Other}}, "PASS: no Intune connection failed (no Intune traffic seen)"},
		{"allowed", nil, []result.Record{{RuleKey: "t:1", Verdict: rules.Allowed}}, "PASS: no Intune connection failed"},
		{"one", nil, []result.Record{blocked("t:1")}, "FAIL: 1 connection failed (1 blocked) across 1 requirement"},
		{"two rules", nil, []result.Record{blocked("t:1"), blocked("t:2"), {RuleKey: "t:2", Verdict: rules.Reset}},
			"FAIL: 3 connections failed (2 blocked, 1 reset) across 2 requirements"},
		{"blocked not failing", []rules.Verdict{rules.Reset}, []result.Record{blocked("t:1")}, "PASS: no Intune connection failed"},
		{"unruled only", []rules.Verdict{rules.Unlisted}, []result.Record{{Verdict: rules.Unlisted}},
			"FAIL: 1 connection failed (1 unlisted) not tied to a requirement"},
		{"mixed", []rules.Verdict{rules.Blocked, rules.Unlisted}, []result.Record{blocked("t:1"), {Verdict: rules.Unlisted}},
			"FAIL: 2 connections failed (1 blocked, 1 unlisted) across 1 requirement, 1 not tied to one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, "text", Options{FailOn: tt.failOn}, tt.recs, &result.Summary{})
			if got, _, _ := strings.Cut(string(out), "\n"); got != tt.want {
				t.Errorf("headline %q, want %q", got, tt.want)
			}
		})
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
		"FAIL: 10000 connections failed (5000 blocked, 5000 reset) across 1 requirement",
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
