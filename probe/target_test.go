package probe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/rules"
)

func TestSelect(t *testing.T) {
	table, err := rules.ParseTable("t", []byte(`rules:
  - pattern: "*.manage.microsoft.com"
    ports: "80,443"
    probe: ["enrollment.manage.microsoft.com", "portal.manage.microsoft.com"]
  - pattern: "*manage.microsoft.com"
    ports: "443"
    probe: ["enrollment.manage.microsoft.com"]
  - pattern: "EnterpriseEnrollment.manage.microsoft.com"
    ports: "443"
  - pattern: "*.dm.microsoft.com"
    ports: "443"
  - cidr: "198.18.0.0/24"
    ports: "443"
  - pattern: "time.windows.com"
    ports: "udp/123,udp/500"
  - pattern: "push.example.com"
    ports: "5223,8080,1000-2000"
  - purpose: "KNOX"
    notes: "a note"
`))
	if err != nil {
		t.Fatal(err)
	}
	targets, skipped := Select(table)
	var got []string
	for _, tg := range targets {
		got = append(got, fmt.Sprintf("%s %s %s", tg.Key(), tg.Method, strings.Join(tg.RuleKeys(), ",")))
	}
	want := []string{
		"enrollment.manage.microsoft.com tcp/80 http-head t:1",
		"portal.manage.microsoft.com tcp/80 http-head t:1",
		"enrollment.manage.microsoft.com tcp/443 tls-handshake t:1,t:2", // one connection for both rows
		"portal.manage.microsoft.com tcp/443 tls-handshake t:1",
		"enterpriseenrollment.manage.microsoft.com tcp/443 tls-handshake t:3",
		"time.windows.com udp/123 ntp t:6",
		"push.example.com tcp/5223 tls-handshake t:7",
		"push.example.com tcp/8080 tcp-connect t:7",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var gotSkip []string
	for _, s := range skipped {
		gotSkip = append(gotSkip, s.Rule.Key()+" "+s.Ports+" "+strings.SplitN(s.Reason, ":", 2)[0])
	}
	wantSkip := []string{
		"t:4  wildcard pattern without a probe list",
		"t:5  address range",
		"t:6 udp/500 no probe speaks this UDP port (only NTP on udp/123)",
		"t:7 1000-2000 port range wider than 16 ports",
		"t:8  note row",
	}
	if strings.Join(gotSkip, "\n") != strings.Join(wantSkip, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(gotSkip, "\n"), strings.Join(wantSkip, "\n"))
	}
}

// TestSelectProfiles holds the shipped profiles to the promise that every row is probed or explained.
func TestSelectProfiles(t *testing.T) {
	for _, name := range rules.Profiles() {
		table, err := rules.Load([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		targets, skipped := Select(table)
		covered := map[string]bool{}
		for _, tg := range targets {
			for _, k := range tg.RuleKeys() {
				covered[k] = true
			}
			if !rules.NewMatcher(table).Match(tg.Host, tg.Proto, tg.Port).PortAllowed {
				t.Errorf("%s: %s is not allowed by its own table", name, tg.Key())
			}
		}
		for _, s := range skipped {
			covered[s.Rule.Key()] = true
		}
		for _, r := range table.Rules {
			if !covered[r.Key()] {
				t.Errorf("%s: row %s (%s) neither probed nor explained", name, r.Key(), r.Target())
			}
		}
	}
}
