package regress

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/rules"
)

// sampleResult is a check with two passing and two failing cases, one of them carrying a hostile name.
func sampleResult(t *testing.T) *Result {
	t.Helper()
	tb := table2015(t)
	recs := append(goodRecords(),
		rec("fe2.update.microsoft.com", rules.Reset, "intune-2015:14", 80),
		rec("x|<b>`*evil*`</b>\x07.windows.net", rules.Unlisted, "", 99))
	e, err := Parse("e.yaml", []byte(`requirements:
  - rule: intune-2015:1
    status: ok
  - rule: intune-2015:14
    status: ok
    note: updates must work
names: [{name: go.microsoft.com, status: ok}]
never_unlisted: ["*.windows.net"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Resolve(tb); err != nil {
		t.Fatal(err)
	}
	res := &Result{Captures: []string{"a.pcap"}, Rules: tb.Sources, Expectations: "e.yaml"}
	res.Cases = Evaluate(e, collectAll(t, tb, e.TrackedNames(), recs))
	return res
}

// junitDoc is parsed independently of the writer's own types: the shape CI systems read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitRoundTrip(t *testing.T) {
	res := sampleResult(t)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 4 || doc.Failures != 2 || doc.Errors != 0 || len(doc.Suites) != 3 {
		t.Fatalf("counts: tests %d failures %d suites %d\n%s", doc.Tests, doc.Failures, len(doc.Suites), buf.String())
	}
	sum := 0
	for _, s := range doc.Suites {
		fails := 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				fails++
			}
			if c.Classname != "intunecap."+s.Name {
				t.Errorf("classname %q in suite %q", c.Classname, s.Name)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != fails {
			t.Errorf("suite %s: tests %d failures %d, has %d cases %d failing", s.Name, s.Tests, s.Failures, len(s.Cases), fails)
		}
		sum += s.Tests
	}
	if sum != doc.Tests {
		t.Errorf("suites hold %d tests, testsuites says %d", sum, doc.Tests)
	}
	f := doc.Suites[0].Cases[1].Failure
	if f == nil || f.Message != "expected status ok, got failing (allowed 1, reset 1)" ||
		!strings.Contains(f.Text, "reset: fe2.update.microsoft.com (sni) flow tcp 198.18.0.2 -> 198.18.1.10:443 reset after-client-hello, frames 80-89") ||
		!strings.Contains(f.Text, "expectation: e.yaml:4") || !strings.Contains(f.Text, "note: updates must work") {
		t.Errorf("failure %+v", f)
	}
	if strings.ContainsRune(buf.String(), 0x07) {
		t.Error("control character in XML")
	}
}

func TestJSONReport(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleResult(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Passed   bool     `json:"passed"`
		Total    int      `json:"total"`
		Failed   int      `json:"failed"`
		Captures []string `json:"captures"`
		Cases    []Case   `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Passed || doc.Total != 4 || doc.Failed != 2 || len(doc.Cases) != 4 || len(doc.Captures) != 1 {
		t.Errorf("totals %+v", doc)
	}
	if c := doc.Cases[1]; c.Pass || c.Line != 4 || len(c.Evidence) != 2 || c.Evidence[0].Verdict != "reset" {
		t.Errorf("case %+v", c)
	}
}

func TestMarkdownEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, sampleResult(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "## intunecap check: 2 of 4 checks failed\n") {
		t.Errorf("heading: %s", out[:strings.IndexByte(out, '\n')])
	}
	prose := out
	for strings.Contains(prose, "```text") { // evidence is in code blocks, where nothing is interpreted
		start := strings.Index(prose, "```text")
		end := strings.Index(prose[start+7:], "```")
		prose = prose[:start] + prose[start+7+end+3:]
	}
	for _, bad := range []string{"<b>", "x|<", "\x07"} {
		if strings.Contains(prose, bad) {
			t.Errorf("markdown contains %q unescaped:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `x\|\<b\>\`+"`"+`\*evil\*\`+"`") {
		t.Errorf("hostile name not escaped as expected:\n%s", out)
	}
}

func TestCodeBlockFence(t *testing.T) {
	got := codeBlock([]string{"a ```` b"})
	if !strings.HasPrefix(got, "`````text\n") || !strings.HasSuffix(got, "\n`````\n") {
		t.Errorf("fence: %q", got)
	}
}

func TestWriteTextQuiet(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleResult(t), true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "PASS") || !strings.Contains(out, "FAIL  requirement intune-2015:14: expected status ok") ||
		!strings.HasSuffix(out, "FAILED: 4 checks, 2 passed, 2 failed\n") {
		t.Errorf("quiet text:\n%s", out)
	}
}
