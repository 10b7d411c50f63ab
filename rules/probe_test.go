package rules

import (
	"slices"
	"strings"
	"testing"
)

func TestProbeListsLoad(t *testing.T) {
	tests := []struct {
		name, data string
		want       map[string][]string // pattern -> probe hosts
		err        string
	}{
		{name: "yaml wildcard", data: "rules:\n  - pattern: \"*.manage.microsoft.com\"\n    ports: \"443\"\n" +
			"    probe: [\"Enrollment.manage.microsoft.com\", \"fef.msua01.manage.microsoft.com\"]\n",
			want: map[string][]string{"*.manage.microsoft.com": {"enrollment.manage.microsoft.com", "fef.msua01.manage.microsoft.com"}}},
		{name: "yaml hosts go to the patterns they match",
			data: "rules:\n  - patterns: [\"*.a.example.com\", \"*.b.example.com\", \"c.example.com\"]\n    ports: \"443\"\n" +
				"    probe: [\"x.a.example.com\", \"y.b.example.com\"]\n",
			want: map[string][]string{"*.a.example.com": {"x.a.example.com"}, "*.b.example.com": {"y.b.example.com"},
				"c.example.com": nil}},
		{name: "text wildcard", data: "rules:\n  - pattern: \"*manage.microsoft.com\"\n    ports: \"443\"\n    probe: [\"fefmanage.microsoft.com\"]\n",
			want: map[string][]string{"*manage.microsoft.com": {"fefmanage.microsoft.com"}}},
		{name: "inner wildcard", data: "rules:\n  - pattern: \"autodiscover.*.onmicrosoft.com\"\n    ports: \"443\"\n    probe: [\"autodiscover.contoso.onmicrosoft.com\"]\n",
			want: map[string][]string{"autodiscover.*.onmicrosoft.com": {"autodiscover.contoso.onmicrosoft.com"}}},
		{name: "json", data: `{"rules": [{"pattern": "*.dm.microsoft.com", "ports": "443", "probe": ["a.dm.microsoft.com"]}]}`,
			want: map[string][]string{"*.dm.microsoft.com": {"a.dm.microsoft.com"}}},
		{name: "yaml mismatch", data: "rules:\n  - pattern: \"*.manage.microsoft.com\"\n    ports: \"443\"\n    probe: [\"manage.microsoft.com\"]\n",
			err: `t:4:13: probe: host "manage.microsoft.com" does not match the row's pattern (*.manage.microsoft.com)`},
		{name: "json mismatch", data: `{"rules": [{"pattern": "*.dm.microsoft.com", "ports": "443", "probe": ["dm.example.com"]}]}`,
			err: `does not match the row's pattern`},
		{name: "wildcard probe host", data: "rules:\n  - pattern: \"*.manage.microsoft.com\"\n    ports: \"443\"\n    probe: [\"*.manage.microsoft.com\"]\n",
			err: "probe: bad domain"},
		{name: "cidr row", data: "rules:\n  - cidr: \"198.18.0.0/24\"\n    ports: \"443\"\n    probe: [\"a.example.com\"]\n",
			err: "none: a cidr or note row has no host to probe"},
		{name: "note row", data: "rules:\n  - purpose: \"KNOX\"\n    probe: [\"a.example.com\"]\n",
			err: "probe: a note row has no pattern"},
		{name: "not a list", data: "rules:\n  - pattern: \"*.a.com\"\n    ports: \"443\"\n    probe: \"x.a.com\"\n",
			err: "expected a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := ParseTable("t", []byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tb.Rules {
				if want := tt.want[r.Pattern]; !slices.Equal(r.Probe, want) {
					t.Errorf("%s probe = %q, want %q", r.Pattern, r.Probe, want)
				}
			}
		})
	}
}

// TestPatternMatchesAgreesWithMatcher holds the single-pattern loop used for probe lists to the matcher.
func TestPatternMatchesAgreesWithMatcher(t *testing.T) {
	patterns := []string{"*.manage.microsoft.com", "*manage.microsoft.com", "manage.microsoft.com",
		"autodiscover.*.onmicrosoft.com", "*-mscdn.example.com"}
	names := []string{"manage.microsoft.com", "a.manage.microsoft.com", "amanage.microsoft.com",
		"a.b.manage.microsoft.com", "autodiscover.x.onmicrosoft.com", "autodiscover.x.y.onmicrosoft.com",
		"swd-mscdn.example.com", "-mscdn.example.com", "microsoft.com", "xmanage.microsoft.com.evil.net"}
	for _, p := range patterns {
		pat, err := parsePattern(p)
		if err != nil {
			t.Fatal(err)
		}
		m := NewMatcher(mustTable(t, "t", "rules:\n  - pattern: \""+p+"\"\n    ports: \"443\"\n"))
		for _, n := range names {
			if got, want := pat.matches(n), m.Match(n, TCP, 443).Rule != nil; got != want {
				t.Errorf("%s matches %s = %v, matcher says %v", p, n, got, want)
			}
		}
	}
}
