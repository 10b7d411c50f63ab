package rules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestTable2015Rows checks every row of the 2015 table with names that must and must not match it.
func TestTable2015Rows(t *testing.T) {
	m := NewMatcher(mustLoad(t))
	tests := []struct {
		row     int
		pattern string
		match   []string
		noMatch []string
	}{
		{1, "*.manage.microsoft.com", []string{"a.manage.microsoft.com", "A.B.Manage.Microsoft.COM."},
			[]string{"manage.microsoft.com", "mymanage.microsoft.com", "manage.microsoft.com.evil.example"}},
		{2, "*manage.microsoft.com", []string{"manage.microsoft.com", "mymanage.microsoft.com", "a.manage.microsoft.com"},
			[]string{"manage.microsoft.co", "notmanage.microsoft.com.example.org", "manage.microsoft.com.evil.example"}},
		{3, "manage.microsoft.com", []string{"manage.microsoft.com", "MANAGE.microsoft.com."},
			[]string{"a.manage.microsoft.com", "manage.microsoft.com..", "manage.microsoft.com.nsatc.net"}},
		{4, "*.microsoftonline-p.com", []string{"login.microsoftonline-p.com"},
			[]string{"microsoftonline-p.com", "xmicrosoftonline-p.com"}},
		{5, "*.microsoftonline-p.net", []string{"a.b.microsoftonline-p.net"}, []string{"microsoftonline-p.net"}},
		{6, "*.portal.office.com", []string{"a.portal.office.com"}, []string{"portal.office.com", "xportal.office.com"}},
		{7, "*.spynet2.microsoft.com", []string{"x.spynet2.microsoft.com"}, []string{"spynet2.microsoft.com"}},
		{8, "c.microsoft.com", []string{"c.microsoft.com", "C.Microsoft.Com"}, []string{"a.c.microsoft.com", "cc.microsoft.com"}},
		{9, "c1.microsoft.com", []string{"c1.microsoft.com."}, []string{"c1.microsoft.com.evil", "xc1.microsoft.com"}},
		{10, "blob.core.windows.net", []string{"blob.core.windows.net"}, []string{"acct.blob.core.windows.net"}},
		{11, "ajax.aspnetcdn.com", []string{"ajax.aspnetcdn.com"}, []string{"ajax.aspnetcdn.com.cn", "aspnetcdn.com"}},
		{12, "*.googleapis.com", []string{"ajax.googleapis.com"}, []string{"googleapis.com", "evilgoogleapis.com"}},
		{13, "wustat.microsoft.com", []string{"wustat.microsoft.com"}, []string{"a.wustat.microsoft.com"}},
		{14, "*.update.microsoft.com", []string{"fe2.update.microsoft.com"}, []string{"update.microsoft.com"}},
		{15, "download.microsoft.com", []string{"download.microsoft.com"}, []string{"x.download.microsoft.com"}},
		{16, "update.microsoft.com", []string{"update.microsoft.com"}, []string{"fe2.update.microsoft.com"}},
		{17, "*.download.windowsupdate.com", []string{"au.download.windowsupdate.com"}, []string{"download.windowsupdate.com"}},
		{18, "download.windowsupdate.com", []string{"download.windowsupdate.com"}, []string{"au.download.windowsupdate.com"}},
		{19, "*.windowsupdate.com", []string{"download.windowsupdate.com", "au.download.windowsupdate.com"},
			[]string{"windowsupdate.com", "mywindowsupdate.com"}},
		{20, "windowsupdate.microsoft.com", []string{"windowsupdate.microsoft.com"}, []string{"windowsupdate.microsoft.co"}},
		{21, "ntservicepack.microsoft.com", []string{"ntservicepack.microsoft.com"}, []string{"ntservicepack.microsoft.com.example"}},
		{22, "manage.microsoft.com.nsatc.net", []string{"manage.microsoft.com.nsatc.net"}, []string{"a.manage.microsoft.com.nsatc.net"}},
		{23, "*.livemeeting.com", []string{"www.livemeeting.com"}, []string{"livemeeting.com"}},
		{24, "*.microsoftonline.com", []string{"login.microsoftonline.com"}, []string{"evilmicrosoftonline.com", "microsoftonline.com"}},
		{25, "*.social.technet.microsoft.com", []string{"a.social.technet.microsoft.com"}, []string{"social.technet.microsoft.com"}},
		{26, "blogs.technet.com", []string{"blogs.technet.com"}, []string{"x.blogs.technet.com"}},
		{27, "go.microsoft.com", []string{"go.microsoft.com"}, []string{"ago.microsoft.com"}},
		{28, "onlinehelp.microsoft.com", []string{"onlinehelp.microsoft.com"}, []string{"help.microsoft.com"}},
		{29, "www.microsoft.com", []string{"www.microsoft.com"}, []string{"microsoft.com", "www.microsoft.com.cn"}},
	}
	rows := m.Table().Rules
	for _, tt := range tests {
		r := rows[tt.row-1]
		if r.Pattern != tt.pattern || r.Row != tt.row {
			t.Fatalf("row %d: got %s %q, want %q", tt.row, r.Key(), r.Pattern, tt.pattern)
		}
		for _, name := range tt.match {
			if !slices.Contains(m.MatchAll(name, nil), r) {
				t.Errorf("row %d %q: %q should match", tt.row, tt.pattern, name)
			}
		}
		for _, name := range tt.noMatch {
			if slices.Contains(m.MatchAll(name, nil), r) {
				t.Errorf("row %d %q: %q should not match", tt.row, tt.pattern, name)
			}
		}
	}
}

func TestJudge2015(t *testing.T) {
	m := NewMatcher(mustLoad(t))
	long := strings.Repeat("a.", 116) + "manage.microsoft.com" // 252 bytes
	tests := []struct {
		name    string
		proto   Proto
		port    uint16
		key     string
		verdict Verdict
	}{
		{"a.manage.microsoft.com", TCP, 443, "intune-2015:1", Allowed},
		{"manage.microsoft.com", TCP, 443, "intune-2015:3", Allowed}, // exact over wildcard
		{"MANAGE.MICROSOFT.COM.", TCP, 80, "intune-2015:3", Allowed},
		{"mymanage.microsoft.com", TCP, 80, "intune-2015:2", Allowed},
		{"a.manage.microsoft.com", UDP, 443, "intune-2015:1", PortNotAllowed},
		{"a.manage.microsoft.com", TCP, 8443, "intune-2015:1", PortNotAllowed},
		{"x.spynet2.microsoft.com", TCP, 80, "intune-2015:7", PortNotAllowed},
		{"au.download.windowsupdate.com", TCP, 443, "intune-2015:17", Allowed}, // longer literal
		{"download.windowsupdate.com", TCP, 443, "intune-2015:18", Allowed},
		{"go.microsoft.com", TCP, 443, "intune-2015:27", PortNotAllowed},
		{"manage.microsoft.com.nsatc.net", TCP, 80, "intune-2015:22", Allowed},
		{"x.microsoft.com", TCP, 443, "", Unlisted},
		{"time.windows.com", UDP, 123, "", Unlisted},
		{"example.org", TCP, 443, "", Other},
		// The three evil names of issue 3.
		{"manage.microsoft.com.evil.example", TCP, 443, "", Other},
		{"notmanage.microsoft.com.example.org", TCP, 443, "", Other},
		{"evilmicrosoftonline.com", TCP, 443, "", Other},
		{"microsoft.com.", TCP, 443, "", Unlisted},
		{"", TCP, 443, "", Other},
		{".", TCP, 443, "", Other},
		{"manage.microsoft.com..", TCP, 443, "", Other},
		{"\xff\xfe.manage.microsoft.com", TCP, 443, "intune-2015:1", Allowed},
		{long, TCP, 443, "intune-2015:1", Allowed},
		{"a" + long, TCP, 443, "intune-2015:1", Allowed}, // 253 bytes
		{"aa" + long, TCP, 443, "", Other},               // 254 bytes
		{"aa" + long + ".", TCP, 443, "", Other},         // 254 bytes and a dot
		{"a" + long + ".", TCP, 443, "intune-2015:1", Allowed},
	}
	for _, tt := range tests {
		match, v := m.Judge(tt.name, tt.proto, tt.port)
		if keyOf(match.Rule) != tt.key || v != tt.verdict {
			t.Errorf("Judge(%.40q, %v, %d) = %s %s, want %s %s", tt.name, tt.proto, tt.port,
				keyOf(match.Rule), v, tt.key, tt.verdict)
		}
	}
}

const precedenceTable = `
rules:
  - {purpose: text,   pattern: "*example.com",   ports: "80"}
  - {purpose: sub80,  pattern: "*.example.com",  ports: "80"}
  - {purpose: sub443, pattern: "*.example.com",  ports: "443"}
  - {purpose: exact,  pattern: "a.example.com",  ports: "80"}
  - {purpose: deeper, pattern: "*.b.example.com", ports: "8080"}
  - {purpose: text2,  pattern: "*b.example.com",  ports: "443"}
  - {purpose: time,   pattern: "time.example.net", ports: "udp/123 tcp/1-10"}
  - {purpose: dup,    pattern: "a.example.com",  ports: "443"}
`

func TestPrecedence(t *testing.T) {
	m := NewMatcher(mustTable(t, "p", precedenceTable))
	tests := []struct {
		name   string
		proto  Proto
		port   uint16
		key    string
		portOK bool
	}{
		{"a.example.com", TCP, 80, "p:4", true},      // exact over wildcard, earliest
		{"a.example.com", TCP, 443, "p:8", true},     // among equal exacts, the one allowing the port
		{"a.example.com", TCP, 22, "p:4", false},     // none allows: earliest
		{"x.example.com", TCP, 443, "p:3", true},     // equal literals: the one allowing the port
		{"x.example.com", TCP, 80, "p:2", true},      // equal literals, both allow: earliest
		{"x.example.com", TCP, 22, "p:2", false},     //
		{"example.com", TCP, 80, "p:1", true},        // only "*example.com" matches the bare domain
		{"myexample.com", TCP, 443, "p:1", false},    //
		{"c.b.example.com", TCP, 443, "p:5", false},  // longer literal over port
		{"b.example.com", TCP, 443, "p:6", true},     // "b.example.com" (13) beats ".example.com" (12)
		{"xb.example.com", TCP, 443, "p:6", true},    // "b.example.com" (13) beats ".example.com" (12)
		{"time.example.net", UDP, 123, "p:7", true},  //
		{"time.example.net", TCP, 123, "p:7", false}, //
		{"time.example.net", TCP, 5, "p:7", true},    //
		{"time.example.net", UDP, 5, "p:7", false},   //
		{"time.example.net.x", UDP, 123, "", false},  //
	}
	for _, tt := range tests {
		got := m.Match(tt.name, tt.proto, tt.port)
		if keyOf(got.Rule) != tt.key || got.PortAllowed != tt.portOK {
			t.Errorf("Match(%q, %v, %d) = %s %v, want %s %v", tt.name, tt.proto, tt.port,
				keyOf(got.Rule), got.PortAllowed, tt.key, tt.portOK)
		}
	}
}

func TestMatchAllOrder(t *testing.T) {
	m := NewMatcher(mustTable(t, "p", precedenceTable))
	got := keys(m.MatchAll("A.Example.Com.", nil))
	want := []string{"p:4", "p:8", "p:2", "p:3", "p:1"}
	if !slices.Equal(got, want) {
		t.Errorf("MatchAll = %v, want %v", got, want)
	}
	pre := []*Rule{{Table: "x", Row: 9}}
	if got := keys(m.MatchAll("nothing.invalid", pre)); !slices.Equal(got, []string{"x:9"}) {
		t.Errorf("MatchAll with no match changed dst: %v", got)
	}
}

func TestIDN(t *testing.T) {
	tb := mustTable(t, "idn", `
rules:
  - {purpose: sub, pattern: "*.Bücher.example", ports: "443"}
  - {purpose: exact, pattern: "münchen.example.", ports: "443"}
  - {purpose: cjk, pattern: "例え.テスト", ports: "443"}
  - {purpose: text, pattern: "*x.ü.example", ports: "443"}
`)
	m := NewMatcher(tb)
	tests := []struct{ name, key string }{
		{"a.xn--bcher-kva.example", "idn:1"},
		{"A.XN--BCHER-KVA.EXAMPLE.", "idn:1"},
		{"xn--bcher-kva.example", ""},
		{"xn--mnchen-3ya.example", "idn:2"},
		{"xn--r8jz45g.xn--zckzah", "idn:3"},
		{"a.bücher.example", ""}, // packets carry A-labels; raw UTF-8 is not converted
		{"ax.xn--tda.example", "idn:4"},
		{"x.xn--tda.example", "idn:4"},
	}
	for _, tt := range tests {
		if got := keyOf(m.Match(tt.name, TCP, 443).Rule); got != tt.key {
			t.Errorf("Match(%q) = %q, want %q", tt.name, got, tt.key)
		}
	}
}

func TestMatchAddr(t *testing.T) {
	m := NewMatcher(mustTable(t, "c", `
rules:
  - {purpose: wide,   cidr: 10.0.0.0/8,    ports: "443"}
  - {purpose: narrow, cidr: 10.1.0.0/16,   ports: "80"}
  - {purpose: v6,     cidr: "2001:db8::/32", ports: "udp/53"}
  - {purpose: narrow443, cidr: 10.1.0.0/16, ports: "443"}
  - {purpose: host,   cidr: 10.1.2.3/32,   ports: "22"}
  - {purpose: name,   pattern: "10.9.9.9",  ports: "443"}
`))
	tests := []struct {
		addr   string
		proto  Proto
		port   uint16
		key    string
		portOK bool
	}{
		{"10.1.2.4", TCP, 443, "c:4", true},
		{"10.1.2.4", TCP, 80, "c:2", true},
		{"10.1.2.4", TCP, 25, "c:2", false},
		{"10.1.2.3", TCP, 443, "c:5", false}, // longest prefix over port
		{"10.2.0.1", TCP, 443, "c:1", true},
		{"::ffff:10.2.0.1", TCP, 443, "c:1", true},
		{"11.0.0.1", TCP, 443, "", false},
		{"10.9.9.9", TCP, 443, "c:1", true}, // name rows are not consulted
		{"2001:db8::1", UDP, 53, "c:3", true},
		{"2001:db8::1%eth0", UDP, 53, "c:3", true},
		{"2001:db9::1", UDP, 53, "", false},
	}
	for _, tt := range tests {
		got := m.MatchAddr(netip.MustParseAddr(tt.addr), tt.proto, tt.port)
		if keyOf(got.Rule) != tt.key || got.PortAllowed != tt.portOK {
			t.Errorf("MatchAddr(%s, %v, %d) = %s %v, want %s %v", tt.addr, tt.proto, tt.port,
				keyOf(got.Rule), got.PortAllowed, tt.key, tt.portOK)
		}
	}
	if got := m.MatchAddr(netip.Addr{}, TCP, 443); got.Rule != nil {
		t.Errorf("MatchAddr(zero) = %s", got.Rule.Key())
	}
	if got := m.Match("10.1.2.4", TCP, 443); got.Rule != nil {
		t.Errorf("Match on a CIDR row: %s", got.Rule.Key())
	}
}

func TestIsMicrosoft(t *testing.T) {
	m := NewMatcher(mustLoad(t))
	tests := []struct {
		name string
		want bool
	}{
		{"microsoft.com", true}, {"a.b.Microsoft.Com.", true}, {"aka.ms", true}, {"x.nsatc.net", true},
		{"evilmicrosoft.com", false}, {"microsoft.com.evil.example", false}, {"ms", false}, {"", false},
		{"evilmicrosoftonline.com", false}, {".microsoft.com", true},
	}
	for _, tt := range tests {
		if got := m.IsMicrosoft(tt.name); got != tt.want {
			t.Errorf("IsMicrosoft(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	own := NewMatcher(mustTable(t, "s", "microsoft_suffixes: [contoso.example]\nrules:\n  - {purpose: n, notes: x}\n"))
	if own.IsMicrosoft("microsoft.com") || !own.IsMicrosoft("a.contoso.example") {
		t.Error("microsoft_suffixes did not replace the default list")
	}
}

func TestNoteRowsNeverMatch(t *testing.T) {
	tb := mustLoad(t)
	knox := tb.Rules[len(tb.Rules)-1]
	if len(tb.Rules) != 30 || !knox.IsNote() || knox.Row != 30 || !strings.Contains(knox.Notes, "KNOX") {
		t.Fatalf("2015 table: %d rows, last %+v", len(tb.Rules), knox)
	}
	matchable := 0
	for _, r := range tb.Rules {
		if !r.IsNote() {
			matchable++
		}
	}
	if matchable != 29 {
		t.Errorf("2015 table has %d matchable rows, want 29", matchable)
	}
	if got := NewMatcher(tb).Match("", TCP, 443); got.Rule != nil {
		t.Errorf("empty name matched %s", got.Rule.Key())
	}
}

func TestHandBuiltTable(t *testing.T) {
	tb := &Table{Rules: []*Rule{
		{Table: "h", Row: 1, Pattern: "a.b*.example", Ports: []PortRange{{TCP, 443, 443}}},
		{Table: "h", Row: 2, Pattern: "ok.example", Ports: []PortRange{{TCP, 443, 443}}},
	}}
	m := NewMatcher(tb)
	if got := keyOf(m.Match("a.bx.example", TCP, 443).Rule); got != "" {
		t.Errorf("invalid hand-built pattern matched: %s", got)
	}
	if got := keyOf(m.Match("ok.example", TCP, 443).Rule); got != "h:2" {
		t.Errorf("Match = %q, want h:2", got)
	}
	if m.IsMicrosoft("microsoft.com") {
		t.Error("a table without suffixes judged microsoft.com Microsoft")
	}
}

// TestPatternForms checks every pattern form with names that must and must not match it, through the
// matcher and through the reference definition.
func TestPatternForms(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"example.com", []string{"example.com", "EXAMPLE.com."}, []string{"a.example.com", "myexample.com"}},
		{"*.example.com", []string{"a.example.com", "a.b.example.com"}, []string{"example.com", "myexample.com"}},
		{"*example.com", []string{"example.com", "a.example.com", "myexample.com"}, []string{"example.com.evil.test"}},
		{"*-files.sharepoint.com", []string{"contoso-files.sharepoint.com", "a.contoso-files.sharepoint.com", "-files.sharepoint.com"},
			[]string{"files.sharepoint.com", "contoso.sharepoint.com", "contoso-files.sharepoint.com.evil"}},
		{"autodiscover.*.onmicrosoft.com", []string{"autodiscover.contoso.onmicrosoft.com", "AutoDiscover.Contoso.OnMicrosoft.com."},
			[]string{"autodiscover.onmicrosoft.com", "autodiscover.a.b.onmicrosoft.com", "x.autodiscover.contoso.onmicrosoft.com",
				"autodiscover..onmicrosoft.com", "myautodiscover.contoso.onmicrosoft.com", "autodiscover.contoso.onmicrosoft.com.evil"}},
		{"autodiscover.*.mail.onmicrosoft.com", []string{"autodiscover.contoso.mail.onmicrosoft.com"},
			[]string{"autodiscover.contoso.onmicrosoft.com", "autodiscover.mail.onmicrosoft.com"}},
		{"a.*.*.b.com", []string{"a.x.y.b.com"}, []string{"a.x.b.com", "a.x.y.z.b.com"}},
		{"x.*.y.*.b", []string{"x.1.y.2.b"}, []string{"x.1.y.b", "x.y.2.b", "x.1.z.2.b", "q.x.1.y.2.b"}},
		{"*.*.b.com", []string{"x.y.b.com", "w.x.y.b.com"}, []string{"y.b.com", "b.com"}},
		{"*.a.*.b.com", []string{"q.a.x.b.com", "p.q.a.x.b.com"}, []string{"a.x.b.com", "q.a.b.com", "qa.x.b.com"}},
		{"*x.*.b.com", []string{"x.q.b.com", "ax.q.b.com", "a.x.q.b.com"}, []string{"q.b.com", "xa.q.b.com"}},
	}
	for _, tt := range tests {
		tb := &Table{Rules: []*Rule{{Table: "f", Row: 1, Pattern: tt.pattern, Ports: []PortRange{{TCP, 443, 443}}}}}
		m := NewMatcher(tb)
		ref := []refRow{newRefRow(t, tb.Rules[0])}
		for _, name := range tt.match {
			if m.Match(name, TCP, 443).Rule == nil || len(m.MatchAll(name, nil)) != 1 {
				t.Errorf("%q should match %q", tt.pattern, name)
			}
			if got, _ := refMatch(ref, name, TCP, 443); got.Rule == nil {
				t.Errorf("reference: %q should match %q", tt.pattern, name)
			}
		}
		for _, name := range tt.noMatch {
			if m.Match(name, TCP, 443).Rule != nil || len(m.MatchAll(name, nil)) != 0 {
				t.Errorf("%q should not match %q", tt.pattern, name)
			}
			if got, _ := refMatch(ref, name, TCP, 443); got.Rule != nil {
				t.Errorf("reference: %q should not match %q", tt.pattern, name)
			}
		}
	}
}

func TestCompilePattern(t *testing.T) {
	tests := []struct {
		in   string
		want pattern
	}{
		{"Example.COM.", pattern{kind: kindExact, key: "example.com", ascii: "example.com", lit: 11}},
		{"*.b.com", pattern{kind: kindSub, key: ".b.com", ascii: "*.b.com", lit: 6}},
		{"*b.com", pattern{kind: kindText, key: "b.com", ascii: "*b.com", lit: 5}},
		{"a.*.b.com", pattern{kind: kindInner, key: ".b.com", head: "a.*", ascii: "a.*.b.com", lit: 8}},
		{"*.a.*.b.com", pattern{kind: kindInner, key: ".b.com", head: "*.a.*", ascii: "*.a.*.b.com", lit: 9}},
		{"x.*.y.*.b", pattern{kind: kindInner, key: ".b", head: "x.*.y.*", ascii: "x.*.y.*.b", lit: 7}},
		{"*-x.*.b", pattern{kind: kindInner, key: ".b", head: "*-x.*", ascii: "*-x.*.b", lit: 5}},
	}
	for _, tt := range tests {
		got, err := parsePattern(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parsePattern(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

const innerTable = `
rules:
  - {purpose: sub,      pattern: "*.onmicrosoft.com",              ports: "443"}
  - {purpose: auto,     pattern: "autodiscover.*.onmicrosoft.com", ports: "80,443"}
  - {purpose: exact,    pattern: "autodiscover.contoso.onmicrosoft.com", ports: "8443"}
  - {purpose: subdeep,  pattern: "*.contoso.onmicrosoft.com",      ports: "443"}
  - {purpose: tie,      pattern: "autodiscover.*.onmicrosoft.org", ports: "80"}
  - {purpose: tie2,     pattern: "*.autodiscover.onmicrosoft.org", ports: "443"}
  - {purpose: short,    pattern: "a.*.b.com",                      ports: "80"}
  - {purpose: shortsub, pattern: "*.b.com",                        ports: "443"}
`

// TestInnerPrecedence: an inner wildcard is a wildcard (an exact row beats it) that ranks by its literal
// characters like the others, so "a.*.b.com" (8) beats "*.b.com" (6).
func TestInnerPrecedence(t *testing.T) {
	m := NewMatcher(mustTable(t, "i", innerTable))
	tests := []struct {
		name   string
		port   uint16
		key    string
		portOK bool
	}{
		{"a.x.b.com", 80, "i:7", true},                                  // 8 literal characters over 6
		{"a.x.b.com", 443, "i:7", false},                                // specificity before the port
		{"a.x.y.b.com", 443, "i:8", true},                               // the inner row needs exactly one label
		{"autodiscover.fabrikam.onmicrosoft.com", 80, "i:2", true},      // 29 over 16
		{"autodiscover.contoso.onmicrosoft.com", 443, "i:3", false},     // exact over everything
		{"mail.contoso.onmicrosoft.com", 443, "i:4", true},              // 24 over 16; the inner row needs "autodiscover."
		{"x.autodiscover.onmicrosoft.org", 443, "i:6", true},            // no inner match here
		{"autodiscover.autodiscover.onmicrosoft.org", 443, "i:6", true}, // 29 and 29: the one allowing the port
		{"autodiscover.autodiscover.onmicrosoft.org", 80, "i:5", true},  // 29 and 29: the one allowing the port
		{"autodiscover.autodiscover.onmicrosoft.org", 22, "i:5", false}, // neither allows it: the earliest
	}
	for _, tt := range tests {
		got := m.Match(tt.name, TCP, tt.port)
		if keyOf(got.Rule) != tt.key || got.PortAllowed != tt.portOK {
			t.Errorf("Match(%q, %d) = %s %v, want %s %v", tt.name, tt.port, keyOf(got.Rule), got.PortAllowed,
				tt.key, tt.portOK)
		}
	}
	got := keys(m.MatchAll("Autodiscover.Contoso.onmicrosoft.com.", nil))
	if want := []string{"i:3", "i:2", "i:4", "i:1"}; !slices.Equal(got, want) {
		t.Errorf("MatchAll = %v, want %v", got, want)
	}
}
