package regress

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

func baselineOf(t *testing.T, recs []*result.Record, files ...string) (*Baseline, *Collector) {
	t.Helper()
	tb := table2015(t)
	c := collectAll(t, tb, nil, recs)
	return NewBaseline(c, tb.Sources, files), c
}

func encode(t *testing.T, b *Baseline) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBaselineStable checks that record order and file order do not change a byte, and that the file reads back.
func TestBaselineStable(t *testing.T) {
	recs := append(goodRecords(), rec("ctldl.windowsupdate.com", rules.Blocked, "intune-2015:19", 70))
	rev := append([]*result.Record(nil), recs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	a, _ := baselineOf(t, recs, "dir/b.pcap", "a.pcap")
	b, _ := baselineOf(t, rev, "a.pcap", "other/b.pcap")
	ja, jb := encode(t, a), encode(t, b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("baselines differ:\n%s\n%s", ja, jb)
	}
	back, err := DecodeBaseline(ja)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, a)
	}
	if !reflect.DeepEqual(a.Captures, []string{"a.pcap", "b.pcap"}) ||
		!reflect.DeepEqual(a.FailingNames, []BaselineName{{Name: "ctldl.windowsupdate.com", Verdicts: map[string]int{"blocked": 1}}}) {
		t.Errorf("baseline %+v", a)
	}
}

func TestDecodeBaselineErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"not json", "hello", "not a baseline: invalid character 'h' looking for beginning of value"},
		{"other format", `{"format":"x","version":1}`, `not a baseline: format "x" (expected "intunecap-baseline", written by intunecap baseline)`},
		{"newer", `{"format":"intunecap-baseline","version":2}`, "baseline version 2 not supported (expected 1)"},
		{"unknown field", `{"format":"intunecap-baseline","version":1,"extra":1}`, `not a baseline: json: unknown field "extra"`},
		{"trailing", `{"format":"intunecap-baseline","version":1} {}`, "not a baseline: data after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBaseline([]byte(tc.json))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// TestCompare checks worse and better changes one at a time against a good baseline.
func TestCompare(t *testing.T) {
	base, _ := baselineOf(t, goodRecords(), "good.pcap")
	same, c := baselineOf(t, goodRecords(), "again.pcap")
	cases, changes := Compare(base, same, c)
	if len(changes) != 0 || failed(cases) != 0 || len(cases) != len(base.Requirements)+2 {
		t.Fatalf("identical captures: %d changes, %d failed of %d", len(changes), failed(cases), len(cases))
	}

	worse := []*result.Record{
		rec("enrollment.manage.microsoft.com", rules.Allowed, "intune-2015:1", 1),
		rec("fe2.update.microsoft.com", rules.Reset, "intune-2015:14", 20), // ok -> failing, new reset name
		// go.microsoft.com vanished: intune-2015:27 ok -> not-seen
		rec("graph.windows.net", rules.Unlisted, "", 60),
		rec("enterpriseregistration.windows.net", rules.Unlisted, "", 70),     // new unlisted name
		rec("login.microsoftonline.com", rules.Allowed, "intune-2015:24", 80), // better: not-seen -> ok
	}
	now, c := baselineOf(t, worse, "worse.pcap")
	cases, changes = Compare(base, now, c)
	var got []string
	for _, ch := range changes {
		got = append(got, ch.Kind+" "+ch.Subject+" "+ch.Before+" -> "+ch.After+" worse="+boolWord(ch.Worse))
	}
	want := []string{
		"requirement intune-2015:14 ok -> failing worse=true",
		"requirement intune-2015:24 not-seen -> ok worse=false",
		"requirement intune-2015:27 ok -> not-seen worse=true",
		"failing-name fe2.update.microsoft.com none -> reset 1 worse=true",
		"unlisted-name enterpriseregistration.windows.net none -> unlisted 1 worse=true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if failed(cases) != 4 {
		t.Errorf("%d cases failed, want 4", failed(cases))
	}

	// Back again: everything that got worse is better now, and nothing fails.
	cases, changes = Compare(now, base, collectAll(t, table2015(t), nil, goodRecords()))
	for _, ch := range changes {
		if ch.Worse && ch.Kind != "requirement" {
			t.Errorf("unexpected worse change %+v", ch)
		}
	}
	if n := failed(cases); n != 1 { // intune-2015:24 was ok in "now" and is not-seen in the good capture
		t.Errorf("%d cases failed, want 1", n)
	}
}

func failed(cases []Case) int {
	n := 0
	for _, c := range cases {
		if !c.Pass {
			n++
		}
	}
	return n
}

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestCompareStatusOrder checks that any requirement whose status gets worse fails, not-seen to failing
// included, and is listed among the worse changes; a move to a better status does not fail.
func TestCompareStatusOrder(t *testing.T) {
	row19 := func(v rules.Verdict) *result.Record { return rec("ctldl.windowsupdate.com", v, "intune-2015:19", 70) }
	tests := []struct {
		name        string
		before, now []*result.Record
		worse       bool
	}{
		{"not-seen to failing", nil, []*result.Record{row19(rules.Blocked)}, true},
		{"ok to failing", []*result.Record{row19(rules.Allowed)}, []*result.Record{row19(rules.Blocked)}, true},
		{"ok to not-seen", []*result.Record{row19(rules.Allowed)}, nil, true},
		{"failing to not-seen", []*result.Record{row19(rules.Blocked)}, nil, false},
		{"not-seen to ok", nil, []*result.Record{row19(rules.Allowed)}, false},
		{"failing to ok", []*result.Record{row19(rules.Reset)}, []*result.Record{row19(rules.Allowed)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := baselineOf(t, append(goodRecords(), tt.before...))
			now, col := baselineOf(t, append(goodRecords(), tt.now...))
			cases, changes := Compare(base, now, col)
			var pass bool
			for _, c := range cases {
				if strings.HasPrefix(c.Name, "requirement intune-2015:19 ") {
					pass = c.Pass
				}
			}
			if pass == tt.worse {
				t.Errorf("case passed = %v, want %v", pass, !tt.worse)
			}
			listed := false
			for _, ch := range changes {
				if ch.Kind == "requirement" && ch.Subject == "intune-2015:19" && ch.Worse {
					listed = true
				}
			}
			if listed != tt.worse {
				t.Errorf("listed as WORSE = %v, want %v (changes %+v)", listed, tt.worse, changes)
			}
			var text bytes.Buffer
			WriteText(&text, &Result{Cases: cases, Changes: changes}, false)
			if tt.worse && !strings.Contains(text.String(), "WORSE  requirement intune-2015:19") {
				t.Errorf("text report lacks the WORSE line:\n%s", text.String())
			}
		})
	}
}

// TestInconclusiveReports checks that a check whose cases pass but whose captures cannot tell is inconclusive
// in every format, and an error (not a pass) in JUnit.
func TestInconclusiveReports(t *testing.T) {
	r := &Result{Cases: []Case{{Suite: SuiteBaseline, Name: "x", Expected: "ok", Actual: "ok", Pass: true}},
		Inconclusive: []string{"no Intune traffic seen"}}
	if r.Outcome() != OutcomeInconclusive {
		t.Fatalf("outcome %q", r.Outcome())
	}
	want := map[string]string{
		"junit":    `errors="1"`,
		"json":     `"outcome": "inconclusive"`,
		"markdown": "## intunecap check: inconclusive",
		"text":     "INCONCLUSIVE: 1 checks, 1 passed, 0 failed\n  - no Intune traffic seen\n",
	}
	for format, w := range want {
		var buf bytes.Buffer
		if err := Write(format, &buf, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), w) {
			t.Errorf("%s report lacks %q:\n%s", format, w, buf.String())
		}
	}
	r.Cases[0].Pass = false
	if r.Outcome() != OutcomeFail {
		t.Errorf("a failed case gives %q, want fail", r.Outcome())
	}
}

// TestCompareIntercepted checks that a name newly intercepted (TLS inspection) is a regression, like one newly
// blocked: its requirement turns failing and the name is listed.
func TestCompareIntercepted(t *testing.T) {
	base, _ := baselineOf(t, goodRecords(), "good.pcap")
	recs := append(goodRecords(), rec("inspected.manage.microsoft.com", rules.Intercepted, "intune-2015:1", 90))
	now, c := baselineOf(t, recs, "inspected.pcap")
	cases, changes := Compare(base, now, c)
	var got []string
	for _, ch := range changes {
		got = append(got, ch.Kind+" "+ch.Subject+" "+ch.Before+" -> "+ch.After+" worse="+boolWord(ch.Worse))
	}
	want := []string{
		"requirement intune-2015:1 ok -> failing worse=true",
		"failing-name inspected.manage.microsoft.com none -> intercepted 1 worse=true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if failed(cases) != 2 {
		t.Errorf("%d cases failed, want 2", failed(cases))
	}
}
