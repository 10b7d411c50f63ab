package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// baselineDir holds the baseline pair recorded by testdata/baseline/record.sh: the same traffic, the second time
// with the gateway rejecting TCP to fe2.update.microsoft.com.
const baselineDir = "../../testdata/baseline"

// runTool runs the command line and returns the exit status and both outputs.
func runTool(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCheckBundledCaptures is the project's own regression suite: every bundled capture has an expectations
// file, and check passes on each.
func TestCheckBundledCaptures(t *testing.T) {
	for _, file := range recordedCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			expect := strings.TrimSuffix(file, ".gz") + ".expect.yaml"
			if _, err := os.Stat(expect); err != nil {
				t.Fatalf("no expectations file: %v", err)
			}
			// --allow-empty: some captures have no Intune traffic on purpose, and their expectations say so.
			code, out, errOut := runTool("check", "--quiet", "--allow-empty", "--expect", expect, file)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// brokenDemo writes the demo's expectations with one edit, so the check must fail.
func brokenDemo(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pcapsDir, "demo.pcapng.expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.Contains(text, old) {
		t.Fatalf("demo expectations have no %q", old)
	}
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(text, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckCanFail proves the suite above can fail: each deliberately broken expectation fails with its line and
// the records behind it.
func TestCheckCanFail(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	for _, tc := range []struct{ name, old, new, want, evidence string }{
		{"verdict ceiling", "  blocked: 4\n", "  blocked: 0\n", "FAIL  at most 0 blocked: expected at most 0, got 4",
			"      blocked: ctldl.windowsupdate.com (dns) flow tcp 198.18.0.2 -> 198.18.1.22:443 unanswered"},
		{"requirement status", "  - rule: intune-2015:1  # *.manage.microsoft.com\n    status: failing\n",
			"  - rule: intune-2015:1  # *.manage.microsoft.com\n    status: ok\n",
			"FAIL  requirement intune-2015:1: expected status ok, verdicts exactly allowed, blocked, reset, got failing",
			"      reset: blocked.manage.microsoft.com (sni) flow tcp 198.18.0.2 -> 198.18.1.12:443 reset after-client-hello"},
		{"name status", "  - name: blocked.manage.microsoft.com\n    status: failing\n",
			"  - name: blocked.manage.microsoft.com\n    status: ok\n",
			"FAIL  name blocked.manage.microsoft.com: expected status ok, verdicts exactly reset, got failing (reset 1)", "      reset: blocked.manage.microsoft.com"},
		{"never unlisted", "never_unlisted:\n", "never_unlisted:\n  - graph.windows.net\n",
			"FAIL  never unlisted graph.windows.net: expected no unlisted name, got 1 unlisted: graph.windows.net",
			"      unlisted: graph.windows.net (sni) flow tcp 198.18.0.2 -> 198.18.1.30:443 established"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTool("check", "--expect", brokenDemo(t, tc.old, tc.new), demo)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, tc.evidence) {
				t.Errorf("output lacks %q or its evidence %q:\n%s", tc.want, tc.evidence, out)
			}
			if !strings.Contains(out, "FAILED: ") {
				t.Errorf("no totals line:\n%s", out)
			}
		})
	}
}

// TestCheckBadExpectations checks that a bad file is an error at file:line:column, exit 2, before any capture is
// read, and that an unknown rule is an error, not a silent pass.
func TestCheckBadExpectations(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown rule key", "requirements:\n  - rule: intune-2015:99\n    status: ok\n",
			`F:2:5: no requirement row has rule "intune-2015:99" in rules intune-2015 (keys are TABLE:ROW, here intune-2015:1 to intune-2015:30; intunecap rules list shows them)`},
		{"unknown pattern", "requirements:\n  - rule: intune-2015:1\n    status: ok\n  - pattern: \"*.intune.example\"\n    status: ok\n",
			`F:4:5: no requirement row has pattern "*.intune.example" in rules intune-2015 (patterns must be written as in the table; intunecap rules list shows them)`},
		{"bad status", "names:\n  - name: go.microsoft.com\n    status: fine\n",
			`F:3:13: expected one of ok, failing, not-seen, other, any, found "fine"`},
		{"typo in a field", "requirements:\n  - rule: intune-2015:1\n    satus: ok\n",
			`F:3:5: expected one of the fields rule, id, pattern, status, verdicts, note, found "satus"`},
		{"other rules", "rules: [intune-current]\nmax: {blocked: 0}\n", "F:1: the expectations are written for rules intune-current, not intune-2015"},
		{"syntax", "max: {blocked: 0\n", "F:1: yaml: did not find expected ',' or '}'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"check", "--expect", path, filepath.Join(pcapsDir, "demo.pcapng")}
			if tc.name == "other rules" {
				args = append(args, "--rules", "intune-2015")
			}
			code, out, errOut := runTool(args...)
			want := "intunecap check: " + strings.ReplaceAll(tc.want, "F:", path+":") + "\n"
			if code != 2 || errOut != want || out != "" {
				t.Errorf("exit %d\n got  %q\n want %q\nstdout %q", code, errOut, want, out)
			}
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	expect := demo + ".expect.yaml"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"check", "-h"}, 0, "usage: intunecap check"},
		{"baseline help", []string{"baseline", "--help"}, 0, "usage: intunecap baseline"},
		{"nothing to check against", []string{"check", demo}, 2, "nothing to check against"},
		{"no capture", []string{"check", "--expect", expect}, 2, "no capture file given"},
		{"bad flag", []string{"check", "--expected", expect, demo}, 2, "unknown flag: --expected"},
		{"report without file", []string{"check", "--expect", expect, "--report", "junit", demo}, 2,
			`--report "junit": expected FORMAT=FILE, like junit=report.xml`},
		{"report format", []string{"check", "--expect", expect, "--report", "xml=a.xml", demo}, 2,
			`--report "xml=a.xml": unknown format "xml" (want junit, json, markdown, text, html)`},
		{"report directory", []string{"check", "--expect", expect, "--report", "json=/nonexistent/dir/a.json", demo}, 2,
			"no directory /nonexistent/dir to write into"},
		{"missing expectations", []string{"check", "--expect", "nonexistent.yaml", demo}, 2, "read expectations: open nonexistent.yaml"},
		{"missing capture", []string{"check", "--expect", expect, "nonexistent.pcap"}, 2, "nonexistent.pcap"},
		{"glob matches nothing", []string{"check", "--expect", expect, "nothing-*.pcap"}, 2, "nothing-*.pcap: no file matches"},
		{"baseline no capture", []string{"baseline"}, 2, "no capture file given"},
		{"missing baseline", []string{"check", "--baseline", "nonexistent.json", demo}, 2, "read baseline: open nonexistent.json"},
		{"expectations as baseline", []string{"check", "--baseline", expect, demo}, 2, "not a baseline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTool(tc.args...)
			if tc.code == 0 { // help asked for is on standard output
				errOut, out = out, errOut
			}
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s%s", code, tc.code, tc.want, errOut, out)
			}
		})
	}
}

// junitFile is the JUnit shape as CI systems read it, parsed independently of the writer.
type junitFile struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// jsonFile is the part of the JSON report the tests read.
type jsonFile struct {
	Passed  bool `json:"passed"`
	Total   int  `json:"total"`
	Failed  int  `json:"failed"`
	Changes []struct {
		Kind    string `json:"kind"`
		Subject string `json:"subject"`
		Before  string `json:"before"`
		After   string `json:"after"`
		Worse   bool   `json:"worse"`
	} `json:"changes"`
}

func readJSONReport(t *testing.T, path string) jsonFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j jsonFile
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestCheckReports writes all report formats at once and checks they agree on the counts.
func TestCheckReports(t *testing.T) {
	dir := t.TempDir()
	expect := brokenDemo(t, "  reset: 1\n", "  reset: 0\n")
	junit, js, md := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	code, out, errOut := runTool("check", "-q", "--expect", expect, "--report", "junit="+junit, "--report", "json="+js,
		"--report", "markdown="+md, filepath.Join(pcapsDir, "demo.pcapng"))
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitFile
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	j := readJSONReport(t, js)
	if doc.Tests != j.Total || doc.Failures != 1 || j.Failed != 1 || j.Passed {
		t.Errorf("junit %d tests %d failures; json %d total %d failed", doc.Tests, doc.Failures, j.Total, j.Failed)
	}
	var failure string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failure = s.Name + "/" + c.Name + ": " + c.Failure.Message + "\n" + c.Failure.Text
			}
		}
	}
	if !strings.HasPrefix(failure, "verdicts/at most 0 reset: expected at most 0, got 1\n") ||
		!strings.Contains(failure, "reset: blocked.manage.microsoft.com (sni) flow tcp") {
		t.Errorf("failure:\n%s", failure)
	}
	mdData, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(mdData, []byte("## intunecap check: 1 of ")) {
		t.Errorf("markdown:\n%s", mdData)
	}
}

// baselineOf records a baseline of the captures into a temporary file.
func baselineOf(t *testing.T, captures ...string) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baseline.json")
	code, out, errOut := runTool(append([]string{"baseline", "-o", path}, captures...)...)
	if code != 0 {
		t.Fatalf("baseline: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestBaselineGolden compares the baseline of the good capture with the committed one (-update rewrites it),
// and checks that the bytes depend on the input alone: not on the run, not on the order of the files.
func TestBaselineGolden(t *testing.T) {
	good, worse := filepath.Join(baselineDir, "good.pcap"), filepath.Join(baselineDir, "worse.pcap")
	_, a := baselineOf(t, good)
	golden := filepath.Join(baselineDir, "good.baseline.json")
	if *update {
		if err := os.WriteFile(golden, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/intunecap -run TestBaselineGolden -update)", err)
	}
	if !bytes.Equal(a, want) {
		t.Errorf("baseline differs from %s:\n%s", golden, lineDiff(string(want), string(a)))
	}
	code, out, _ := runTool("baseline", good)
	if code != 0 || out != string(a) {
		t.Errorf("baseline to standard output differs from -o")
	}
	_, ab := baselineOf(t, good, worse)
	_, ba := baselineOf(t, worse, good)
	if !bytes.Equal(ab, ba) {
		t.Errorf("file order changes the baseline:\n%s", lineDiff(string(ab), string(ba)))
	}
}

// TestBaselineIdentical checks a capture against its own baseline: nothing worse, nothing better.
func TestBaselineIdentical(t *testing.T) {
	good := filepath.Join(baselineDir, "good.pcap")
	base, _ := baselineOf(t, good)
	js := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := runTool("check", "--baseline", base, "--report", "json="+js, good)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if j := readJSONReport(t, js); !j.Passed || len(j.Changes) != 0 {
		t.Errorf("changes against itself: %+v", j.Changes)
	}
}

// TestBaselineWorse checks the capture recorded with one more firewall rule against the good baseline: exactly
// what that rule broke is worse, nothing is better, and the check fails.
func TestBaselineWorse(t *testing.T) {
	base, _ := baselineOf(t, filepath.Join(baselineDir, "good.pcap"))
	js := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := runTool("check", "--baseline", base, "--report", "json="+js, filepath.Join(baselineDir, "worse.pcap"))
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var got []string
	j := readJSONReport(t, js)
	for _, c := range j.Changes {
		got = append(got, c.Kind+" "+c.Subject+": "+c.Before+" -> "+c.After)
		if !c.Worse {
			t.Errorf("better: %+v", c)
		}
	}
	want := []string{
		"requirement intune-2015:14: ok -> failing",
		"failing-name fe2.update.microsoft.com: none -> reset 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got  %q\n want %q", got, want)
	}
	if j.Failed != 2 {
		t.Errorf("%d failed cases, want 2", j.Failed)
	}
	for _, line := range []string{
		"WORSE  requirement intune-2015:14 *.update.microsoft.com (Microsoft Update Services): ok -> failing",
		"WORSE  failing name fe2.update.microsoft.com: none -> reset 1",
		"      reset: fe2.update.microsoft.com (dns) flow tcp 198.18.0.2 -> 198.18.1.14:443 refused after-syn",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	// The good capture against a baseline of the worse one is only better: the check passes.
	worseBase, _ := baselineOf(t, filepath.Join(baselineDir, "worse.pcap"))
	code, out, _ = runTool("check", "-q", "--baseline", worseBase, filepath.Join(baselineDir, "good.pcap"))
	if code != 0 || !strings.Contains(out, "BETTER requirement intune-2015:14") {
		t.Errorf("good against worse: exit %d\n%s", code, out)
	}
}

// TestCheckBaselineRules refuses to compare keys of one table with a baseline recorded with another.
func TestCheckBaselineRules(t *testing.T) {
	good := filepath.Join(baselineDir, "good.pcap")
	base, _ := baselineOf(t, good)
	code, _, errOut := runTool("check", "--baseline", base, "--rules", "intune-current", good)
	want := "intunecap check: the baseline was recorded with rules intune-2015, not intune-current (record it again, or pass the same --rules)\n"
	if code != 2 || errOut != want {
		t.Errorf("exit %d: %q", code, errOut)
	}
}

// TestCheckExpectAndBaseline runs both kinds of check at once: the cases of both count.
func TestCheckExpectAndBaseline(t *testing.T) {
	good := filepath.Join(baselineDir, "good.pcap")
	base, _ := baselineOf(t, good)
	expect := filepath.Join(t.TempDir(), "e.yaml")
	if err := os.WriteFile(expect, []byte("names: [{name: graph.windows.net, verdicts: [unlisted]}]\nmax: {blocked: 0, reset: 0}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTool("check", "--expect", expect, "--baseline", base, good)
	if code != 0 || !strings.Contains(out, "PASS  name graph.windows.net: other (unlisted 1)") ||
		!strings.Contains(out, "PASS  no new unlisted names: none") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
