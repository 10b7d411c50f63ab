package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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

// TestRulesMatchTargets checks the forms of TARGET "rules match" accepts (URLs, NAME:PORT, addresses with and
// without brackets and ports) and the one-line refusals of the others.
func TestRulesMatchTargets(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout when code < 2, in stderr otherwise
	}{
		{[]string{"https://login.microsoftonline.com/"}, 0, "name:     login.microsoftonline.com\nport:     tcp/443\nverdict:  allowed"},
		{[]string{"login.microsoftonline.com:443"}, 0, "name:     login.microsoftonline.com\nport:     tcp/443\nverdict:  allowed"},
		{[]string{"HTTPS://user@Login.MicrosoftOnline.com/common/oauth2?x=1#y"}, 0, "port:     tcp/443\nverdict:  allowed"},
		{[]string{"http://login.microsoftonline.com/"}, 0, "port:     tcp/80\nverdict:  allowed"},
		{[]string{"https://login.microsoftonline.com:8443/"}, 1, "port:     tcp/8443\nverdict:  port-not-allowed"},
		{[]string{"login.microsoftonline.com.:25"}, 1, "port:     tcp/25\nverdict:  port-not-allowed"},
		{[]string{"13.107.219.5:443"}, 0, "name:     13.107.219.5\nport:     tcp/443\nverdict:  allowed"},
		{[]string{"https://13.107.219.5/"}, 0, "name:     13.107.219.5\nport:     tcp/443\nverdict:  allowed"},
		{[]string{"[2001:db8::1]:8080"}, 1, "name:     2001:db8::1\nport:     tcp/8080\nverdict:  other"},
		{[]string{"[2001:db8::1]"}, 1, "name:     2001:db8::1\nport:     tcp/443"},
		{[]string{"2001:db8::1"}, 1, "name:     2001:db8::1\nport:     tcp/443"},
		{[]string{"https://[2001:db8::1]/"}, 1, "name:     2001:db8::1\nport:     tcp/443"},
		{[]string{"http://[2001:db8::1]:81/x"}, 1, "port:     tcp/81"},
		{[]string{"gopher://a.example/"}, 2, `bad URL "gopher://a.example/": no default port for scheme "gopher" (give one: gopher://a.example:PORT)`},
		{[]string{"https:///path"}, 2, `bad URL "https:///path": no host`},
		{[]string{"https://a.example:99999/"}, 2, `bad port "99999"`},
		{[]string{"a.example:0"}, 2, `bad port "0"`},
		{[]string{"a.example:https"}, 2, `bad port "https"`},
		{[]string{"a.example:443", "443"}, 2, `port given twice: in "a.example:443" and as "443"`},
		{[]string{"https://a.example/", "80"}, 2, `port given twice`},
		{[]string{"[1.2.3.4]:443"}, 2, `bad address "[1.2.3.4]:443": brackets hold an IPv6 address`},
		{[]string{"[a.example]"}, 2, `bad address "[a.example]": brackets hold an IPv6 address`},
		{[]string{"[::ffff:13.107.219.5]:443"}, 2, `bad address "[::ffff:13.107.219.5]:443": brackets hold an IPv6 address`},
		{[]string{"a.example:"}, 2, `bad port ""`},
		{[]string{"https://[a.example]/"}, 2, `bad URL "https://[a.example]/"`},
		{[]string{"a.example/path"}, 2, `bad name "a.example/path": a path needs a URL with its scheme (https://a.example/path)`},
		{[]string{"a:b:c"}, 2, `bad name "a:b:c"`},
		{[]string{"fe80::1%eth0"}, 2, `bad address "fe80::1%eth0": a zone (%eth0) means nothing to a rule table`},
		{[]string{"https://a.example%zz/"}, 2, `bad URL "https://a.example%zz/"`},
	}
	for _, tt := range tests {
		args := append([]string{"match", "-r", "intune-current"}, tt.args...)
		code, out, errs := runRulesT(args...)
		got := out
		if tt.code == 2 {
			got = errs
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("rules match %q: code %d\nstdout: %s\nstderr: %s\nwant code %d and %q", tt.args, code, out, errs, tt.code, tt.want)
		}
		if tt.code == 2 && strings.Count(errs, "\n") != 1 {
			t.Errorf("rules match %q: error of more than one line:\n%s", tt.args, errs)
		}
	}
}

// TestRulesOutputEscaped checks that text from a rule file reaches the terminal escaped in every command:
// a purpose or a bad value carrying an escape sequence or a bidi override.
func TestRulesOutputEscaped(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "evil.yaml")
	evil := "rules:\n  - {purpose: \"red\\e[31m\\u202eevil\\tcol\", pattern: a.example, ports: \"443\"}\n" +
		"  - {purpose: \"note\\e]0;title\\a\", notes: \"n\\e[2J\"}\n"
	if err := os.WriteFile(good, []byte(evil), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - {purpose: p, cidr: \"1.2.3.4\\e[31m/8\", ports: \"443\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"list", "-r", good},
		{"match", "-r", good, "a.example"},
		{"diff", good, "intune-2015"},
		{"check", good, bad},
		{"list", "-r", bad},
	}
	for _, args := range runs {
		_, out, errs := runRulesT(args...)
		for _, s := range []string{out, errs} {
			if strings.ContainsAny(s, "\x1b\a\u202e") {
				t.Errorf("rules %q printed a raw control:\n%q", args, s)
			}
		}
		if !strings.Contains(out+errs, `\x1b`) {
			t.Errorf("rules %q: no escaped ESC in\n%s%s", args, out, errs)
		}
	}
	_, out, _ := runRulesT("list", "-r", good)
	if !strings.Contains(out, `red\x1b[31m\u202eevil\x09col`) || !strings.Contains(out, `(note: n\x1b[2J)`) {
		t.Errorf("list:\n%s", out)
	}
}
