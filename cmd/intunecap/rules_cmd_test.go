package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runRulesT(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runRules(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRulesCommandCodes(t *testing.T) {
	tests := []struct {
		args      []string
		code      int
		stdoutHas string
		stderrHas string
	}{
		{nil, 2, "", "usage: intunecap rules <command>"},
		{[]string{"-h"}, 0, "", "usage: intunecap rules <command>"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"list"}, 0, "intune-2015:29  -   www.microsoft.com", ""},
		{[]string{"list", "-h"}, 0, "", "usage: intunecap rules list"},
		{[]string{"list", "--bogus"}, 2, "", "unknown flag: --bogus"},
		{[]string{"list", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"list", "-f", "xml"}, 2, "", `unknown format "xml"`},
		{[]string{"list", "-r", "nope"}, 2, "", `rules "nope": not a profile`},
		{[]string{"list", "-r", "intune-current"}, 0, "time.windows.com", ""},
		{[]string{"check"}, 2, "", "no file given"},
		{[]string{"check", "../../rules/testdata/sample.yaml", "intune-2015"}, 0, "intune-2015: ok, 30 rows (29 matchable, 1 notes)", ""},
		{[]string{"check", "../../rules/testdata/sample.yaml", "../../rules/testdata/bad/port-zero.yaml"}, 1,
			"sample.yaml: ok", `port-zero.yaml:4:12: bad port "0"`},
		{[]string{"match", "a.manage.microsoft.com"}, 0, "verdict:  allowed", ""},
		{[]string{"match", "go.microsoft.com", "443"}, 1, "verdict:  port-not-allowed", ""},
		{[]string{"match", "x.microsoft.com"}, 1, "verdict:  unlisted", ""},
		{[]string{"match", "manage.microsoft.com.evil.example"}, 1, "rule:     none", ""},
		{[]string{"match", "--udp", "-r", "intune-current", "time.windows.com", "123"}, 0, "port:     udp/123", ""},
		{[]string{"match", "-r", "intune-current", "13.107.219.5"}, 0, "intune-current:4", ""},
		{[]string{"match", "-r", "intune-current", "192.0.2.1"}, 1, "verdict:  other", ""},
		{[]string{"check", "../../rules/testdata/m365-worldwide.json"}, 0, "m365-worldwide.json: ok, 245 rows (244 matchable, 1 notes)", ""},
		{[]string{"match", "-r", "../../rules/testdata/m365-worldwide.json", "AutoDiscover.Contoso.onmicrosoft.com"}, 0,
			"autodiscover.*.onmicrosoft.com", ""},
		{[]string{"match", "-r", "../../rules/testdata/m365-worldwide.json", "contoso-files.sharepoint.com"}, 0,
			"*-files.sharepoint.com", ""},
		{[]string{"match", "-r", "../../rules/testdata/m365-worldwide.json", "autodiscover.contoso.ONMICROSOFT.com.", "25"}, 1,
			"verdict:  port-not-allowed", ""},
		{[]string{"match"}, 2, "", "expected NAME [PORT], got 0 arguments"},
		{[]string{"match", "a.example", "0"}, 2, "", `bad port "0"`},
		{[]string{"match", "a.example", "65536"}, 2, "", `bad port "65536"`},
		{[]string{"match", "a", "1", "2"}, 2, "", "got 3 arguments"},
		{[]string{"diff", "intune-2015", "intune-2015"}, 0, "", ""},
		{[]string{"diff", "intune-2015"}, 2, "", "expected two tables, got 1"},
		{[]string{"diff", "intune-2015", "intune-current"}, 1, "+ *.dm.microsoft.com 443", ""},
		{[]string{"diff", "intune-2015", "nope.yaml"}, 2, "", "nope.yaml"},
	}
	for _, tt := range tests {
		code, out, errs := runRulesT(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.stdoutHas) || !strings.Contains(errs, tt.stderrHas) {
			t.Errorf("rules %q: code %d\nstdout: %s\nstderr: %s\nwant code %d, stdout with %q, stderr with %q",
				tt.args, code, out, errs, tt.code, tt.stdoutHas, tt.stderrHas)
		}
	}
}

func TestRulesMatchJSON(t *testing.T) {
	code, out, _ := runRulesT("match", "--format", "json", "MANAGE.Microsoft.com.", "80")
	if code != 0 {
		t.Fatalf("code %d", code)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"name":    `"manage.microsoft.com"`,
		"port":    `80`,
		"verdict": `"allowed"`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if len(got) != 5 {
		t.Errorf("keys %v, want name, port, verdict, rule, matches", got)
	}
	var rule map[string]string
	if err := json.Unmarshal(got["rule"], &rule); err != nil {
		t.Fatal(err)
	}
	wantRule := map[string]string{"pattern": "manage.microsoft.com", "ports": "80,443",
		"purpose": "Microsoft Intune and related services", "table": "intune-2015", "id": ""}
	if len(rule) != len(wantRule) {
		t.Errorf("rule %v, want %v", rule, wantRule)
	}
	for k, v := range wantRule {
		if rule[k] != v {
			t.Errorf("rule.%s = %q, want %q", k, rule[k], v)
		}
	}
	var matches []map[string]string
	if err := json.Unmarshal(got["matches"], &matches); err != nil || len(matches) != 2 ||
		matches[0]["pattern"] != "manage.microsoft.com" || matches[1]["pattern"] != "*manage.microsoft.com" {
		t.Errorf("matches %s (%v)", got["matches"], err)
	}
}

func TestRulesMatchJSONNoRule(t *testing.T) {
	code, out, _ := runRulesT("match", "-f", "json", "bücher.example")
	want := "{\n  \"name\": \"xn--bcher-kva.example\",\n  \"port\": 443,\n  \"verdict\": \"other\",\n" +
		"  \"rule\": null,\n  \"matches\": []\n}\n"
	if code != 1 || out != want {
		t.Errorf("code %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestRulesListJSON(t *testing.T) {
	code, out, _ := runRulesT("list", "-f", "json", "-r", "intune-2015", "-r", "../../rules/testdata/sample.yaml")
	if code != 0 {
		t.Fatalf("code %d", code)
	}
	var got tableJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 36 || len(got.Sources) != 2 || got.Rules[0].Key != "intune-2015:1" ||
		got.Rules[32].CIDR != "192.0.2.0/24" || got.Rules[32].Ports != "tcp/80,443 udp/3478-3481" {
		t.Errorf("list json: %d rows, sources %v, first %+v, 33rd %+v", len(got.Rules), got.Sources,
			got.Rules[0], got.Rules[32])
	}
}

func TestRulesDiffLines(t *testing.T) {
	code, out, _ := runRulesT("diff", "../../rules/testdata/sample.json", "../../rules/testdata/m365-sample.json")
	want := []string{
		"- portal.contoso.example 80,443",
		"~ time.windows.com udp/123 -> udp/123",
	}
	if code != 1 || !strings.HasPrefix(out, want[0]+"\n") || strings.Contains(out, want[1]) ||
		!strings.Contains(out, "+ *.manage.microsoft.com 80,443\n") || !strings.Contains(out, "- 198.51.100.0/24 443\n") {
		t.Errorf("diff: code %d\n%s", code, out)
	}
}
