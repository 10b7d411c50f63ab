package regress

import (
	"reflect"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/rules"
)

const fullExample = `# every feature once
version: 1
rules: [intune-2015]
requirements:
  - rule: intune-2015:1
    status: ok
    note: enrollment must work
  - pattern: "*.UPDATE.microsoft.com"
    status: [ok, not-seen]
  - rule: intune-2015:27
    verdicts: [reset, allowed]
names:
  - name: Enrollment.Manage.Microsoft.com.
    status: ok
  - name: graph.windows.net
    verdicts: [unlisted]
max: {blocked: 0, reset: 2}
never_unlisted:
  - "*.manage.microsoft.com"
  - login.microsoftonline.com
`

func TestParseFull(t *testing.T) {
	e, err := Parse("x.yaml", []byte(fullExample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Expectations{
		File: "x.yaml", Rules: []string{"intune-2015"}, RulesAt: Pos{3, 1},
		Requirements: []Requirement{
			{At: Pos{5, 5}, By: "rule", Ref: "intune-2015:1", Status: []Status{StatusOK}, Note: "enrollment must work"},
			{At: Pos{8, 5}, By: "pattern", Ref: "*.update.microsoft.com", Status: []Status{StatusOK, StatusNotSeen}},
			{At: Pos{10, 5}, By: "rule", Ref: "intune-2015:27", Verdicts: []rules.Verdict{rules.Allowed, rules.Reset}},
		},
		Names: []NameExpect{
			{At: Pos{13, 5}, Name: "enrollment.manage.microsoft.com", Status: []Status{StatusOK}},
			{At: Pos{15, 5}, Name: "graph.windows.net", Verdicts: []rules.Verdict{rules.Unlisted}},
		},
		Max: []VerdictMax{{At: Pos{17, 7}, Verdict: rules.Blocked, Max: 0}, {At: Pos{17, 19}, Verdict: rules.Reset, Max: 2}},
		NeverUnlisted: []UnlistedName{
			{At: Pos{19, 5}, Pattern: "*.manage.microsoft.com"}, {At: Pos{20, 5}, Pattern: "login.microsoftonline.com"},
		},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
}

// TestParseErrors pins the exact message of every kind of mistake, with its line and column.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "e.yaml: empty file (expected a mapping with requirements, names, max or never_unlisted)"},
		{"comment only", "# nothing\n", "e.yaml: empty file (expected a mapping with requirements, names, max or never_unlisted)"},
		{"not a mapping", "- a\n", `e.yaml:1:1: expected a mapping with requirements, names, max or never_unlisted, found a list`},
		{"nothing expected", "version: 1\n", "e.yaml:1:1: expects nothing (give requirements, names, max or never_unlisted)"},
		{"syntax", "names:\n  - name: [\n", "e.yaml:2: yaml: did not find expected node content"},
		{"two documents", "max: {blocked: 0}\n---\nmax: {reset: 0}\n", "e.yaml:2:1: a second YAML document (expected one per file)"},
		{"unknown top field", "max: {blocked: 0}\nrequirement: []\n",
			`e.yaml:2:1: expected one of the fields version, rules, requirements, names, max, never_unlisted, found "requirement"`},
		{"repeated field", "max: {blocked: 0}\nmax: {reset: 0}\n", `e.yaml:2:1: field "max" given twice`},
		{"bad version", "version: 2\nmax: {blocked: 0}\n", `e.yaml:1:10: expected version 1, found "2"`},
		{"unknown status", "requirements:\n  - rule: intune-2015:1\n    status: good\n",
			`e.yaml:3:13: expected one of ok, failing, not-seen, any, found "good"`},
		{"other is for names", "requirements:\n  - rule: intune-2015:1\n    status: other\n",
			`e.yaml:3:13: expected one of ok, failing, not-seen, any, found "other"`},
		{"status twice in list", "names:\n  - name: a.com\n    status: [ok, ok]\n", `e.yaml:3:18: "ok" given twice`},
		{"unknown verdict", "names:\n  - name: a.com\n    verdicts: [allowed, dropped]\n",
			`e.yaml:3:25: expected one of allowed, blocked, reset, intercepted, port-not-allowed, unlisted, other, found "dropped"`},
		{"no reference", "requirements:\n  - status: ok\n", "e.yaml:2:5: requirement without rule, id or pattern"},
		{"two references", "requirements:\n  - rule: intune-2015:1\n    id: \"163\"\n    status: ok\n",
			"e.yaml:3:5: rule and id both given (a requirement names rows one way)"},
		{"no status", "requirements:\n  - rule: intune-2015:1\n",
			"e.yaml:2:5: requirement without status or verdicts (write status: any to only document it)"},
		{"unknown requirement field", "requirements:\n  - rule: intune-2015:1\n    stauts: ok\n",
			`e.yaml:3:5: expected one of the fields rule, id, pattern, status, verdicts, note, found "stauts"`},
		{"requirement not a mapping", "requirements:\n  - intune-2015:1\n",
			`e.yaml:2:5: expected a requirement (a mapping with rule, id or pattern, and status), found "intune-2015:1"`},
		{"duplicate requirement", "requirements:\n  - rule: k:1\n    status: ok\n  - rule: k:1\n    status: any\n",
			"e.yaml:4:5: requirement rule k:1 already expected at line 2"},
		{"bad pattern", "requirements:\n  - pattern: \"*.a b.com\"\n    status: ok\n",
			`e.yaml:2:14: bad name or pattern "*.a b.com" (expected a host name, "*.example.com" or "*example.com")`},
		{"wildcard name", "names:\n  - name: \"*.a.com\"\n    status: ok\n",
			`e.yaml:2:11: name "*.a.com" has a wildcard (names are exact; use a requirement pattern or never_unlisted)`},
		{"duplicate name", "names:\n  - name: a.com\n    status: ok\n  - name: A.com\n    status: ok\n",
			"e.yaml:4:5: name a.com already expected at line 2"},
		{"name without value", "names:\n  - name:\n    status: ok\n", `e.yaml:2:5: field "name" has no value`},
		{"max not a mapping", "max: 0\n", `e.yaml:1:6: expected a mapping of verdict to count, like {blocked: 0, reset: 0}, found "0"`},
		{"max unknown verdict", "max: {dropped: 0}\n",
			`e.yaml:1:7: expected one of the fields allowed, blocked, reset, intercepted, port-not-allowed, unlisted, other, found "dropped"`},
		{"max negative", "max: {blocked: -1}\n", `e.yaml:1:16: expected a count (0 or more), found "-1"`},
		{"max not a number", "max: {blocked: none}\n", `e.yaml:1:16: expected a count (0 or more), found "none"`},
		{"never_unlisted not a list", "never_unlisted: a.com\n", `e.yaml:1:17: expected a list of names or patterns, found "a.com"`},
		{"never_unlisted nested", "never_unlisted: [[a.com]]\n", `e.yaml:1:18: expected a name or pattern, found a list`},
		{"rules empty", "rules: []\nmax: {blocked: 0}\n", `e.yaml:1:8: expected a non-empty list, found a list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("e.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestResolve checks that every way of naming a row finds it, and that an unknown one is an error at its line.
func TestResolve(t *testing.T) {
	yaml := `requirements:
  - rule: intune-2015:14
    status: ok
  - pattern: "*.MANAGE.microsoft.com"
    status: ok
  - rule: intune-2015:99
    status: ok
  - pattern: "*.nowhere.example"
    status: ok
`
	e, err := Parse("r.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	err = e.Resolve(table2015(t))
	want := "r.yaml:6:5: no requirement row has rule \"intune-2015:99\" in rules intune-2015 (keys are TABLE:ROW, here intune-2015:1 to intune-2015:30; intunecap rules list shows them)\n" +
		"r.yaml:8:5: no requirement row has pattern \"*.nowhere.example\" in rules intune-2015 (patterns must be written as in the table; intunecap rules list shows them)"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if got := e.Requirements[0].Keys; !reflect.DeepEqual(got, []string{"intune-2015:14"}) {
		t.Errorf("rule: keys %v", got)
	}
	if got := e.Requirements[1].Keys; !reflect.DeepEqual(got, []string{"intune-2015:1"}) {
		t.Errorf("pattern: keys %v", got)
	}
}

func TestResolveByID(t *testing.T) {
	tb, err := rules.ParseTable("t", []byte(`rules:
  - {id: "7", purpose: a, pattern: a.example.com, ports: "443"}
  - {id: "7", purpose: b, pattern: b.example.com, ports: "443"}
  - {id: "8", purpose: c, pattern: c.example.com, ports: "443"}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse("i.yaml", []byte("requirements:\n  - id: \"7\"\n    status: ok\n  - id: \"9\"\n    status: ok\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = e.Resolve(tb)
	if want := `i.yaml:4:5: no requirement row has id "9" in rules t`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if got := e.Requirements[0].Keys; !reflect.DeepEqual(got, []string{"t:1", "t:2"}) {
		t.Errorf("id 7: keys %v", got)
	}
}

func TestUnlistedMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.windows.net", "graph.windows.net", true},
		{"*.windows.net", "windows.net", false},
		{"*windows.net", "windows.net", true},
		{"*windows.net", "xwindows.net", true},
		{"graph.windows.net", "GRAPH.windows.net.", true},
		{"graph.windows.net", "x.graph.windows.net", false},
	} {
		if got := (UnlistedName{Pattern: tc.pattern}).Matches(tc.name); got != tc.want {
			t.Errorf("%s matches %s = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", []byte("# "+strings.Repeat("x", maxFileSize)))
	if err == nil || !strings.Contains(err.Error(), "big.yaml: larger than") {
		t.Errorf("got %v", err)
	}
}
