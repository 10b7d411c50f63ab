package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// TestTextInspection checks the TLS inspection section: one line per issuer on Microsoft names, most
// connections first, counting requirements and unlisted names; a CA trusted with --trust on a line of its
// own; chains that are the servers' own, and names that are not Microsoft's, are left out.
func TestTextInspection(t *testing.T) {
	rec := func(name, key string, v rules.Verdict, chain, issuer string) result.Record {
		return result.Record{Type: "flow", Proto: "tcp", Name: name, RuleKey: key, Verdict: v, State: "established",
			Client: "198.18.0.2", Server: "198.18.1.40", ServerPort: 443, Port: 443, CertChain: chain, CertIssuer: issuer}
	}
	var recs []result.Record
	for i := range 12 {
		recs = append(recs, rec(fmt.Sprintf("d%d.manage.microsoft.com", i), fmt.Sprintf("t:%d", i%3+1),
			rules.Intercepted, "private", "Contoso SSL Inspection CA"))
	}
	recs = append(recs, trustedRec("e.manage.microsoft.com", "t:2", "Contoso SSL Inspection CA"),
		rec("a.manage.microsoft.com", "t:1", rules.Intercepted, "name-mismatch", "Fabrikam Proxy"),
		rec("graph.windows.net", "", rules.Unlisted, "private", "Fabrikam Proxy"),
		rec("b.manage.microsoft.com", "t:1", rules.Allowed, "public", "DigiCert"),
		rec("example.org", "", rules.Other, "private", "Other CA"),
		rec("c.manage.microsoft.com", "t:1", rules.Allowed, "hidden", ""))
	sum := &result.Summary{Capture: result.CaptureFacts{Packets: 10}, Rules: []result.RuleSummary{{Key: "t:1", Status: "failing"}}}
	out := string(run(t, "text", Options{}, recs, sum))
	want := "\nTLS inspection (certificates not from the servers; exempt these names from inspection)\n" +
		"  TLS inspection by Contoso SSL Inspection CA: 12 connections to 3 requirements\n" +
		"  TLS inspection by Fabrikam Proxy: 2 connections to 1 requirement (1 to unlisted names)\n" +
		"  TLS inspection by Contoso SSL Inspection CA, trusted with --trust: 1 connection to 1 requirement\n"
	if !strings.Contains(out, want) {
		t.Errorf("report lacks\n%s\nin:\n%s", want, out)
	}
	for _, not := range []string{"DigiCert", "Other CA"} {
		if strings.Contains(out, "inspection by "+not) {
			t.Errorf("%s listed as inspecting", not)
		}
	}
	none := string(run(t, "text", Options{}, recs[len(recs)-3:], sum))
	if strings.Contains(none, "TLS inspection") {
		t.Errorf("a section without intercepted chains:\n%s", none)
	}
}

// trustedRec is an allowed connection whose chain verified only to a --trust root.
func trustedRec(name, key, issuer string) result.Record {
	return result.Record{Type: "flow", Proto: "tcp", Name: name, RuleKey: key, Verdict: rules.Allowed, State: "established",
		Client: "198.18.0.2", Server: "198.18.1.40", ServerPort: 443, Port: 443, CertChain: "public", CertIssuer: issuer,
		CertRoot: issuer, CertRootStore: "trust-file"}
}

// TestTextInspectionWidth checks a long issuer keeps the section within 100 columns.
func TestTextInspectionWidth(t *testing.T) {
	r := result.Record{Type: "flow", Proto: "tcp", Name: "a.manage.microsoft.com", RuleKey: "t:1",
		Verdict: rules.Intercepted, State: "established", Client: "198.18.0.2", Server: "198.18.1.40",
		ServerPort: 443, Port: 443, CertChain: "private", CertIssuer: strings.Repeat("Very Long Issuer Name ", 10)}
	recs := make([]result.Record, 12345)
	for i := range recs {
		recs[i] = r
	}
	sum := &result.Summary{Capture: result.CaptureFacts{Packets: 10}, Rules: []result.RuleSummary{{Key: "t:1", Status: "failing"}}}
	out := string(run(t, "text", Options{}, recs, sum))
	_, section, _ := strings.Cut(out, "\nTLS inspection (")
	section, _, _ = strings.Cut(section, "\n\n")
	for _, line := range strings.Split(section, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("%d columns: %q", n, line)
		}
	}
	if !strings.Contains(section, "    12345 connections to 1 requirement") {
		t.Errorf("counts not on their own line:\n%s", section)
	}
}
