package regress

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
)

// The JUnit XML shape GitHub Actions reporters, GitLab and Jenkins all read: testsuites, one testsuite per
// kind of expectation, one testcase per expectation or requirement, a failure element with the evidence.
// Times are zero, and there is no timestamp: the report must depend on the input alone.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Error     *junitFailure `xml:"error,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the result as JUnit XML.
func WriteJUnit(w io.Writer, r *Result) error {
	doc := junitSuites{Name: "intunecap check", Time: "0"}
	for _, group := range r.bySuite() {
		s := junitSuite{Name: group[0].Suite, Time: "0", Properties: properties(r)}
		for i := range group {
			s.Cases = append(s.Cases, junitCaseOf(&group[i]))
			if !group[i].Pass {
				s.Failures++
			}
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Inconclusive) > 0 {
		doc.Suites = append(doc.Suites, inconclusiveSuite(r))
		doc.Tests++
		doc.Errors++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// properties names what was checked, so a CI page shows which captures and files a suite is about.
func properties(r *Result) []junitProperty {
	props := []junitProperty{
		{Name: "captures", Value: safetext.Text(strings.Join(r.Captures, " "))},
		{Name: "rules", Value: safetext.Text(strings.Join(r.Rules, " "))},
	}
	if r.Expectations != "" {
		props = append(props, junitProperty{Name: "expectations", Value: safetext.Text(r.Expectations)})
	}
	if r.Baseline != "" {
		props = append(props, junitProperty{Name: "baseline", Value: safetext.Text(r.Baseline)})
	}
	return props
}

func junitCaseOf(c *Case) junitCase {
	jc := junitCase{Name: safetext.Text(c.Name), Classname: "intunecap." + c.Suite, File: safetext.Text(c.File),
		Line: c.Line, Time: "0"}
	if c.Pass {
		return jc
	}
	var b strings.Builder
	b.WriteString(safetext.Text(c.Message()) + "\n")
	if src := c.Source(); src != "" {
		b.WriteString("expectation: " + safetext.Text(src) + "\n")
	}
	if c.Note != "" {
		b.WriteString("note: " + safetext.Text(c.Note) + "\n")
	}
	for _, e := range c.Evidence {
		b.WriteString(e.String() + "\n")
	}
	jc.Failure = &junitFailure{Message: safetext.Text(c.Message()), Type: c.Suite, Text: b.String()}
	return jc
}

// inconclusiveSuite is the "capture" suite of an inconclusive check: one test case in error, so that CI shows
// the run as broken rather than green when the captures could not show anything.
func inconclusiveSuite(r *Result) junitSuite {
	var text strings.Builder
	for _, why := range r.Inconclusive {
		text.WriteString(safetext.Text(why) + "\n")
	}
	msg := "the captures cannot show whether Intune traffic gets through: " + safetext.Text(r.Inconclusive[0])
	return junitSuite{Name: "capture", Tests: 1, Errors: 1, Time: "0", Properties: properties(r),
		Cases: []junitCase{{Name: "the captures can show whether Intune traffic gets through",
			Classname: "intunecap.capture", Time: "0",
			Error: &junitFailure{Message: msg, Type: "inconclusive", Text: text.String()}}}}
}
