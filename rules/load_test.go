package rules

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProfilesLoad(t *testing.T) {
	if got := Profiles(); !slices.Equal(got, []string{"intune-2015", "intune-current"}) {
		t.Fatalf("Profiles() = %v", got)
	}
	tests := []struct {
		profile string
		name    string
		proto   Proto
		port    uint16
		verdict Verdict
		id      string
	}{
		{"intune-2015", "portal.manage.microsoft.com", TCP, 443, Allowed, ""},
		{"intune-current", "portal.manage.microsoft.com", TCP, 443, Allowed, "163"},
		{"intune-current", "x.dm.microsoft.com", TCP, 443, Allowed, ""},
		{"intune-current", "kv801.prod.do.dsp.mp.microsoft.com", TCP, 443, Allowed, "164"}, // longer literal than 172's
		{"intune-current", "x.do.dsp.mp.microsoft.com", TCP, 443, Allowed, "172"},
		{"intune-current", "login.microsoftonline.com", TCP, 443, Allowed, "56"},
		{"intune-current", "time.windows.com", UDP, 123, Allowed, "165"},
		{"intune-current", "time.windows.com", TCP, 123, PortNotAllowed, "165"},
		{"intune-current", "swda01-mscdn.manage.microsoft.com", TCP, 443, Allowed, "170"},
		{"intune-current", "www.microsoft.com", TCP, 443, Unlisted, ""},
	}
	for _, tt := range tests {
		m := NewMatcher(mustLoad(t, tt.profile))
		match, v := m.Judge(tt.name, tt.proto, tt.port)
		if v != tt.verdict || (match.Rule != nil && match.Rule.ID != tt.id) {
			t.Errorf("%s: Judge(%s, %v/%d) = %s %s, want %s id %q", tt.profile, tt.name, tt.proto, tt.port,
				keyOf(match.Rule), v, tt.verdict, tt.id)
		}
	}
}

func TestProfile2015Ports(t *testing.T) {
	tb := mustLoad(t, "intune-2015")
	port80 := map[int]bool{22: true, 25: true, 26: true, 27: true, 28: true, 29: true}
	for _, r := range tb.Rules[:29] {
		want := "80,443"
		switch {
		case r.Row == 7:
			want = "443"
		case port80[r.Row]:
			want = "80"
		}
		if r.PortsString() != want || r.Table != "intune-2015" || !r.Required {
			t.Errorf("%s %s: ports %q table %q required %v, want %q", r.Key(), r.Pattern, r.PortsString(),
				r.Table, r.Required, want)
		}
	}
}

func TestProfileCurrentAFD(t *testing.T) {
	m := NewMatcher(mustLoad(t, "intune-current"))
	for _, a := range []string{"13.107.219.10", "13.107.229.1", "2620:1ec:4b::1"} {
		got := m.MatchAddr(mustAddr(t, a), TCP, 443)
		if got.Rule == nil || got.Rule.ID != "163" || !got.PortAllowed {
			t.Errorf("MatchAddr(%s) = %s, want a row of id 163", a, keyOf(got.Rule))
		}
	}
}

func TestSampleFiles(t *testing.T) {
	tests := []struct {
		file      string
		rows      int
		portsRow  int
		ports     string
		suffixes  int
		matchName string
		matchPort uint16
		matchKey  string
	}{
		{"testdata/sample.yaml", 6, 3, "tcp/80,443 udp/3478-3481", 3, "a.xn--bcher-kva.example", 443, "testdata/sample.yaml:5"},
		{"testdata/sample.json", 4, 1, "80,443", len(defaultSuffixes), "portal.contoso.example", 80, "testdata/sample.json:1"},
		{"testdata/m365-sample.json", 6, 6, "tcp/443 udp/3478-3481", len(defaultSuffixes), "a.manage.microsoft.com", 80, "testdata/m365-sample.json:1"},
	}
	for _, tt := range tests {
		tb, err := LoadFile(tt.file)
		if err != nil {
			t.Fatalf("LoadFile(%s): %v", tt.file, err)
		}
		if len(tb.Rules) != tt.rows || len(tb.MicrosoftSuffixes) != tt.suffixes {
			t.Errorf("%s: %d rows %d suffixes, want %d, %d", tt.file, len(tb.Rules), len(tb.MicrosoftSuffixes), tt.rows, tt.suffixes)
			continue
		}
		if got := tb.Rules[tt.portsRow-1].PortsString(); got != tt.ports {
			t.Errorf("%s row %d ports %q, want %q", tt.file, tt.portsRow, got, tt.ports)
		}
		m := NewMatcher(tb)
		if got := m.Match(tt.matchName, TCP, tt.matchPort); keyOf(got.Rule) != tt.matchKey || !got.PortAllowed {
			t.Errorf("%s: Match(%s) = %s %v, want %s", tt.file, tt.matchName, keyOf(got.Rule), got.PortAllowed, tt.matchKey)
		}
	}
}

func TestSampleFieldsYAML(t *testing.T) {
	tb, err := LoadFile("testdata/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := tb.Rules
	if r[0].ID != "C1" || r[0].Purpose != "Company portal branding CDN" || !r[0].Required {
		t.Errorf("row 1: %+v", r[0])
	}
	if r[1].Required || r[1].PortsString() != "udp/123" {
		t.Errorf("row 2: %+v", r[1])
	}
	if !r[2].NoInspection || r[2].Prefix.String() != "192.0.2.0/24" || r[3].Prefix.String() != "2001:db8::/32" {
		t.Errorf("rows 3, 4: %+v %+v", r[2], r[3])
	}
	if !r[5].IsNote() || r[5].Notes == "" {
		t.Errorf("row 6: %+v", r[5])
	}
	want := []string{"microsoft.com", "windows.com", "contoso-intune.example"}
	if !slices.Equal(tb.MicrosoftSuffixes, want) {
		t.Errorf("suffixes %v, want %v", tb.MicrosoftSuffixes, want)
	}
}

func TestSampleFieldsM365(t *testing.T) {
	tb, err := LoadFile("testdata/m365-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	r := tb.Rules
	if r[0].ID != "163" || r[0].Purpose != "Microsoft Intune" || r[0].Notes != "Intune client and host service" {
		t.Errorf("row 1: %+v", r[0])
	}
	if r[2].Prefix.String() != "13.107.219.0/24" || r[2].PortsString() != "80,443" {
		t.Errorf("row 3: %+v", r[2])
	}
	if r[4].PortsString() != "udp/123" || r[5].Required {
		t.Errorf("rows 5, 6: %+v %+v", r[4], r[5])
	}
}

// TestBadFiles pins the exact error of every file in testdata/bad.
func TestBadFiles(t *testing.T) {
	want := map[string]string{
		"bad-char.yaml":       `3:14: bad pattern "exa mple.com": character ' ' not allowed (expected letters, digits, '-', '_' and '.')`,
		"bad-cidr.yaml":       `3:11: bad cidr "10.0.0.0/33" (expected an address/length such as 13.107.219.0/24)`,
		"bad-range.yaml":      `4:12: bad port range "443-80": 443 is above 80`,
		"bad-suffix.yaml":     `1:22: microsoft suffix: bad domain "*.microsoft.com": no wildcard here (a suffix already covers every name below it)`,
		"bool.yaml":           `5:15: expected true or false, found "maybe"`,
		"empty-ports.yaml":    `2:5: missing ports (expected ports such as "80,443" or "udp/123")`,
		"empty.yaml":          `empty file (expected a rules table)`,
		"host-bits.yaml":      `3:25: bad cidr "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`,
		"m365-bad-port.json":  `3:3: tcpPorts: bad port "70000" (expected a number from 1 to 65535)`,
		"m365-truncated.json": `3:1: json: unexpected end of file`,
		"m365-star.json":      `4:3: bad pattern "teams*.microsoft.com": '*' inside a label (a wildcard is a whole label, as in "a.*.example.com", or starts the pattern: "*.example.com", "*example.com")`,
		"m365-type.json":      `2:35: urls: expected a list of strings, found a JSON string`,
		"m365-unknown.json":   `2:3: unknown field "colour" (expected one of id, serviceArea, serviceAreaDisplayName, urls, ips, tcpPorts, udpPorts, expressRoute, category, required, notes)`,
		"missing-ports.yaml":  `2:5: missing ports (expected ports such as "80,443" or "udp/123")`,
		"no-rules.yaml":       `no rules (expected at least one row)`,
		"not-mapping.yaml":    `1:1: expected a mapping with a "rules" list, found a list`,
		"port-big.yaml":       `4:12: bad port "65536" (expected a number from 1 to 65535)`,
		"port-zero.yaml":      `4:12: bad port "0" (expected a number from 1 to 65535)`,
		"star-last.yaml":      `6:14: bad pattern "autodiscover.contoso.*": nothing after the last '*' (a pattern must end in a domain)`,
		"star-middle.json":    `4:5: bad pattern "*.a*.example.com": '*' inside a label (a wildcard is a whole label, as in "a.*.example.com", or starts the pattern: "*.example.com", "*example.com")`,
		"star-middle.yaml":    `3:14: bad pattern "a.b*.example.com": '*' inside a label (a wildcard is a whole label, as in "a.*.example.com", or starts the pattern: "*.example.com", "*example.com")`,
		"syntax.json":         `3:37: json: invalid character '"' after object key:value pair`,
		"syntax.yaml":         `1: yaml: did not find expected '-' indicator`,
		"twice.yaml":          `4:5: field "pattern" given twice`,
		"type.json":           `5:17: ports: expected a string, found a JSON number`,
		"unknown-field.json":  `3:5: unknown field "port" (expected one of id, purpose, pattern, patterns, cidr, cidrs, ports, required, no_inspection, notes, probe)`,
		"unknown-field.yaml":  `4:5: expected one of the fields id, purpose, pattern, patterns, cidr, cidrs, ports, required, no_inspection, notes, probe, found "prot"`,
		"unknown-proto.yaml":  `4:12: unknown transport "sctp" (expected tcp or udp)`,
		"unknown-top.json":    `2:3: unknown field "rulez" (expected one of name, source, microsoft_suffixes, add_microsoft_suffixes, proxy, rules)`,
	}
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata/bad has %d files, the test knows %d (%v)", len(files), len(want), err)
	}
	for _, f := range files {
		tb, err := LoadFile(f)
		exp, ok := want[filepath.Base(f)]
		sep := ":"
		if strings.HasPrefix(exp, "empty") || strings.HasPrefix(exp, "no rules") {
			sep = ": "
		}
		if !ok || err == nil || err.Error() != f+sep+exp || tb != nil {
			t.Errorf("LoadFile(%s) = %v\nwant %s%s%s", f, err, f, sep, exp)
		}
		var fe *FileError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("LoadFile(%s): %T is not a *FileError", f, err)
		}
	}
}

func TestLoadMerge(t *testing.T) {
	tb := mustLoad(t, "intune-2015", "testdata/sample.yaml", "intune-2015")
	if !slices.Equal(tb.Sources, []string{"intune-2015", "testdata/sample.yaml"}) || len(tb.Rules) != 36 {
		t.Fatalf("merged: sources %v, %d rows", tb.Sources, len(tb.Rules))
	}
	if tb.Rules[30].Key() != "testdata/sample.yaml:1" || !slices.Contains(tb.MicrosoftSuffixes, "contoso-intune.example") {
		t.Errorf("row 31 is %s; suffixes %v", tb.Rules[30].Key(), tb.MicrosoftSuffixes)
	}
	m := NewMatcher(tb)
	if got := m.Match("time.windows.com", UDP, 123); keyOf(got.Rule) != "testdata/sample.yaml:2" {
		t.Errorf("merged match: %s", keyOf(got.Rule))
	}
	if def := mustLoad(t); !slices.Equal(def.Sources, []string{"intune-2015"}) {
		t.Errorf("default sources %v", def.Sources)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		specs []string
		want  string
	}{
		{[]string{"intune-2016"}, `rules "intune-2016": not a profile (intune-2015, intune-current) nor a file: read rules: open intune-2016: no such file or directory`},
		{[]string{"intune-2015", "testdata/nope.yaml"}, `read rules: open testdata/nope.yaml: no such file or directory`},
		{[]string{"intune-2015", "testdata/bad/port-zero.yaml"}, `testdata/bad/port-zero.yaml:4:12: bad port "0" (expected a number from 1 to 65535)`},
	}
	for _, tt := range tests {
		tb, err := Load(tt.specs)
		if err == nil || err.Error() != tt.want || tb != nil {
			t.Errorf("Load(%v) = %v, %v\nwant error %s", tt.specs, tb, err, tt.want)
		}
	}
}

func TestParseTableYAMLForms(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"alias", "base: &b {purpose: p, ports: \"443\"}\nrules: []\n", `1:1: expected one of the fields name, source, microsoft_suffixes, add_microsoft_suffixes, proxy, rules, found "base"`},
		{"two docs", "rules:\n  - {purpose: p, notes: n}\n---\nrules: []\n", `3:1: a second YAML document (expected one table per file)`},
		{"null row", "rules:\n  - ~\n", `2:5: expected a row (a mapping with purpose, pattern, ports ...), found null`},
		{"note with ports", "rules:\n  - {purpose: p, ports: \"80\"}\n", `2:5: ports without a pattern or cidr (a note row carries text only)`},
		{"empty row", "rules:\n  - {id: x}\n", `2:5: empty row (expected a pattern, a cidr, or a note's purpose/notes)`},
		{"bare star", "rules:\n  - {purpose: p, pattern: \"*\", ports: \"80\"}\n", `2:27: bad pattern "*": nothing after '*' (a pattern must name a domain)`},
		{"empty label", "rules:\n  - {purpose: p, pattern: \"a..b\", ports: \"80\"}\n", `2:27: bad pattern "a..b": empty label`},
		{"star unicode", "rules:\n  - {purpose: p, pattern: \"*ü.example\", ports: \"80\"}\n", `2:27: bad pattern "*ü.example": '*' directly before non-ASCII characters (write "*." before a whole label)`},
		{"star in label", "rules:\n  - {purpose: p, pattern: \"a.b*.c\", ports: \"80\"}\n", `2:27: bad pattern "a.b*.c": '*' inside a label (a wildcard is a whole label, as in "a.*.example.com", or starts the pattern: "*.example.com", "*example.com")`},
		{"double star", "rules:\n  - {purpose: p, pattern: \"**.c\", ports: \"80\"}\n", `2:27: bad pattern "**.c": '*' inside a label (a wildcard is a whole label, as in "a.*.example.com", or starts the pattern: "*.example.com", "*example.com")`},
		{"text then star label", "rules:\n  - {purpose: p, pattern: \"*x.*\", ports: \"80\"}\n", `2:27: bad pattern "*x.*": nothing after the last '*' (a pattern must end in a domain)`},
		{"stars only", "rules:\n  - {purpose: p, pattern: \"*.*\", ports: \"80\"}\n", `2:27: bad pattern "*.*": nothing after the last '*' (a pattern must end in a domain)`},
		{"bad idn", "rules:\n  - {purpose: p, pattern: \"a.*.xn--zz.ü\", ports: \"80\"}\n", `2:27: bad pattern "a.*.xn--zz.ü": not a valid international name: idna: invalid label "zz"`},
		{"list ports", "rules:\n  - {purpose: p, pattern: a.example, ports: [80]}\n", `2:45: expected a single value, found a list`},
	}
	for _, tt := range tests {
		_, err := ParseTable("t", []byte(tt.text))
		if err == nil || err.Error() != "t:"+tt.want {
			t.Errorf("%s: %v\nwant t:%s", tt.name, err, tt.want)
		}
	}
}

func TestLoadFileBOM(t *testing.T) {
	data, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ParseTable("bom", append([]byte("\xef\xbb\xbf"), data...))
	if err != nil || len(tb.Rules) != 4 {
		t.Fatalf("BOM JSON: %v", err)
	}
}

// TestM365Worldwide loads a sample shaped like Microsoft's worldwide feed (40 endpoint sets, inner
// wildcards, "*-files" text patterns, TCP and UDP port lists and ranges, IPv4 and IPv6 ranges) and checks
// the rows the wildcards produce.
func TestM365Worldwide(t *testing.T) {
	tb, err := LoadFile("testdata/m365-worldwide.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rules) != 245 {
		t.Errorf("%d rows, want 245 (118 URLs, 126 ranges, 1 note)", len(tb.Rules))
	}
	m := NewMatcher(tb)
	tests := []struct {
		name    string
		proto   Proto
		port    uint16
		id      string
		pattern string
		verdict Verdict
	}{
		{"autodiscover.contoso.onmicrosoft.com", TCP, 443, "8", "autodiscover.*.onmicrosoft.com", Allowed},
		{"AutoDiscover.Contoso.Mail.OnMicrosoft.com.", TCP, 80, "8", "autodiscover.*.mail.onmicrosoft.com", Allowed},
		{"autodiscover.onmicrosoft.com", TCP, 443, "", "", Unlisted},
		{"contoso-files.sharepoint.com", TCP, 443, "31", "*-files.sharepoint.com", Allowed},
		{"contoso-my.sharepoint.com", TCP, 443, "31", "*-my.sharepoint.com", Allowed},
		{"contoso.sharepoint.com", TCP, 80, "31", "*.sharepoint.com", Allowed},
		{"x.mail.protection.outlook.com", TCP, 25, "10", "*.mail.protection.outlook.com", Allowed},
		{"x.mail.protection.outlook.com", TCP, 443, "10", "*.mail.protection.outlook.com", PortNotAllowed},
		{"cdn.onenote.net", TCP, 443, "85", "*cdn.onenote.net", Allowed},
		{"site-cdn.onenote.net", TCP, 443, "85", "*cdn.onenote.net", Allowed},
		{"teams.microsoft.com", UDP, 3479, "12", "teams.microsoft.com", Allowed},
		{"a.manage.microsoft.com", TCP, 443, "163", "*.manage.microsoft.com", Allowed},
		{"time.windows.com", UDP, 123, "165", "time.windows.com", Allowed},
		{"outlook.office365.com", TCP, 993, "5", "outlook.office365.com", Allowed}, // same literal: the port decides
		{"outlook.office365.com", TCP, 443, "1", "outlook.office365.com", Allowed},
	}
	for _, tt := range tests {
		match, v := m.Judge(tt.name, tt.proto, tt.port)
		id, pat := "", ""
		if match.Rule != nil {
			id, pat = match.Rule.ID, match.Rule.Pattern
		}
		if id != tt.id || pat != tt.pattern || v != tt.verdict {
			t.Errorf("Judge(%q, %v, %d) = id %s %q %s, want id %s %q %s", tt.name, tt.proto, tt.port, id, pat, v,
				tt.id, tt.pattern, tt.verdict)
		}
	}
	addrs := []struct {
		addr  string
		proto Proto
		port  uint16
		id    string
		ok    bool
	}{
		{"52.112.1.1", UDP, 3478, "11", true},  // /14 in sets 11, 12 and 13: the earliest allowing it
		{"52.112.1.1", UDP, 40000, "13", true}, // only set 13 has 1024-65535
		{"52.112.1.1", TCP, 55000, "13", true},
		{"2603:1063::1", TCP, 443, "12", true},
		{"40.107.1.1", TCP, 25, "10", true},
		{"198.51.100.1", TCP, 443, "", false},
	}
	for _, tt := range addrs {
		got := m.MatchAddr(mustAddr(t, tt.addr), tt.proto, tt.port)
		id := ""
		if got.Rule != nil {
			id = got.Rule.ID
		}
		if id != tt.id || got.PortAllowed != tt.ok {
			t.Errorf("MatchAddr(%s, %v, %d) = id %s %v, want %s %v", tt.addr, tt.proto, tt.port, id, got.PortAllowed,
				tt.id, tt.ok)
		}
	}
}
