package report

import (
	"fmt"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Names from packets that a terminal must never see raw: an ANSI colour and a bell, invalid UTF-8 and a
// right-to-left override that would make "exe.gpj" read as "jpg.exe".
const (
	hostileSNI  = "evil\x1b[31m.manage.microsoft.com\a"
	hostileName = "\xff\xfeadmin\u202egpj.exe.microsoft.com"
)

// flow is a TCP record with the fields every fixture shares.
func flow(frame uint64, client, server string, port uint16, name, source string) result.Record {
	return result.Record{
		Type: "flow", Proto: "tcp",
		Client: client, ClientPort: uint16(50000 + frame), Server: server, ServerPort: port, Port: port,
		Name: name, NameSource: result.NameSource(source), NameFrame: frame + 3, Transport: "tls",
		FirstFrame: frame, LastFrame: frame + 10,
		Start:    fmt.Sprintf("2024-05-02T09:00:%02d.123456789Z", frame%60),
		Duration: 0.25, Packets: 10, Bytes: 4242,
	}
}

// withRule ties a record to a row of the requirements table.
func withRule(r result.Record, key, pattern, purpose string) result.Record {
	r.RuleKey, r.Rule, r.Purpose = key, pattern, purpose
	return r
}

const (
	manage  = "*.manage.microsoft.com"
	login   = "login.microsoftonline.com"
	enroll  = "enterpriseregistration.windows.net"
	deliver = "*.delivery.mp.microsoft.com"
)

// fixtureRecords covers every verdict, a proxied connection, DNS with CNAMEs and a warning, an unlisted name,
// names with escape sequences, IPv6 with VLAN tags, and more failures for one requirement than are shown.
func fixtureRecords() []result.Record {
	var out []result.Record
	r := withRule(flow(10, "10.0.0.5", "52.1.1.1", 443, "fef.msua06.manage.microsoft.com", "sni"),
		"intune-2015:1", manage, "Intune service")
	r.History, r.State, r.Verdict = "ShADadFf", "established", rules.Allowed
	out = append(out, r)

	r = withRule(flow(20, "10.0.0.5", "52.2.2.2", 443, enroll, "dns"), "intune-2015:5", enroll, "Device registration")
	r.DNSChain = []string{enroll, "enterpriseregistration.trafficmanager.net", "52.2.2.2"}
	r.NameFrame, r.Transport, r.History, r.State = 18, "none", "S", "unanswered"
	r.Verdict, r.Stage, r.Reason = rules.Blocked, "after-syn", "no reply to 3 SYNs"
	out = append(out, r)

	r = withRule(flow(30, "10.0.0.5", "40.126.1.1", 443, login, "sni"), "intune-2015:3", login, "Authentication")
	r.History, r.State = "ShADr", "reset"
	r.Verdict, r.Stage, r.Reason = rules.Reset, "after-client-hello", "the server reset the connection after the ClientHello"
	out = append(out, r)

	r = withRule(flow(40, "10.0.0.6", "52.1.1.2", 80, "portal.manage.microsoft.com", "http-host"),
		"intune-2015:1", manage, "Intune service")
	r.Transport, r.History, r.State = "http", "ShADadFf", "established"
	r.Verdict, r.Reason = rules.PortNotAllowed, "port 80 is not among the rule's ports (443)"
	out = append(out, r)

	r = flow(50, "10.0.0.6", "20.190.1.1", 443, "graph.microsoft.com", "sni")
	r.History, r.State, r.Verdict = "ShADadFf", "established", rules.Unlisted
	out = append(out, r)

	r = flow(60, "10.0.0.6", "93.184.216.34", 443, "example.org", "sni")
	r.History, r.State, r.Verdict = "ShADadFf", "established", rules.Other
	r.ECH = true
	out = append(out, r)

	r = withRule(flow(70, "10.0.0.7", "10.0.0.1", 3128, "i.manage.microsoft.com", "connect"),
		"intune-2015:1", manage, "Intune service")
	r.Port, r.ViaProxy, r.ProxyStatus, r.Transport = 443, true, 403, "connect"
	r.History, r.State = "ShADadFf", "established"
	r.Verdict, r.Stage, r.Reason = rules.Blocked, "after-connect", "the proxy answered CONNECT with 403 Forbidden"
	out = append(out, r)

	out = append(out, fixtureDNS()...)
	out = append(out, fixtureHostile()...)

	r = withRule(flow(120, "2001:db8::5", "2603:1006::1", 443, "tlu.dl.delivery.mp.microsoft.com", "sni"),
		"intune-2015:2", deliver, "Windows Update")
	r.File, r.VLAN = "b.pcapng", []int{100, 200}
	r.History, r.State, r.Verdict = "ShADadFf", "established", rules.Allowed
	out = append(out, r)

	for i := range 6 {
		r = withRule(flow(uint64(200+i), "10.0.1."+fmt.Sprint(i+1), "52.2.2.2", 443, enroll, "sni"),
			"intune-2015:5", enroll, "Device registration")
		r.History, r.State = "S", "unanswered"
		r.Verdict, r.Stage, r.Reason = rules.Blocked, "after-syn", "no reply to 3 SYNs"
		out = append(out, r)
	}
	return out
}

// fixtureDNS is a lookup with a CNAME chain, a refused AAAA that is only a warning, and an NXDOMAIN.
func fixtureDNS() []result.Record {
	dns := func(frame uint64, name, qtype, rcode string) result.Record {
		r := withRule(result.Record{
			Type: "dns", Proto: "udp", Client: "10.0.0.5", ClientPort: 53000 + uint16(frame),
			Server: "10.0.0.53", ServerPort: 53, Port: 53, Name: name, NameSource: "query", NameFrame: frame,
			Transport: "dns", State: "answered", Verdict: rules.Allowed, FirstFrame: frame, LastFrame: frame + 1,
			Start: "2024-05-02T09:00:01.5Z", Duration: 0.012, Packets: 2, Bytes: 300, QType: qtype, Rcode: rcode,
		}, "intune-2015:1", manage, "Intune service")
		return r
	}
	a := dns(80, "enrollment.manage.microsoft.com", "A", "NOERROR")
	a.CNAMEs = []string{"enrollment.manage.microsoft.com.akadns.net", "emea.enrollment.trafficmanager.net"}
	a.Answers = []string{"40.1.2.3", "40.1.2.4"}
	aaaa := dns(82, "enrollment.manage.microsoft.com", "AAAA", "REFUSED")
	aaaa.Warning = "AAAA refused, but the A query for the same name was answered (frame 80)"
	nx := dns(90, "r.manage.microsoft.com", "A", "NXDOMAIN")
	nx.Verdict, nx.Stage, nx.Reason = rules.Blocked, "after-query", "the resolver answered NXDOMAIN"
	return []result.Record{a, aaaa, nx}
}

// fixtureHostile carries names crafted to attack a terminal.
func fixtureHostile() []result.Record {
	r := withRule(flow(100, "10.0.0.8", "52.1.1.3", 443, hostileSNI, "sni"), "intune-2015:1", manage, "Intune service")
	r.History, r.State = "ShADr", "reset"
	r.Verdict, r.Stage = rules.Reset, "after-client-hello"
	r.Reason = "the server reset the connection after a ClientHello for " + hostileSNI
	u := flow(110, "10.0.0.8", "52.1.1.4", 443, hostileName, "sni")
	u.History, u.State, u.Verdict = "ShADadFf", "established", rules.Unlisted
	return []result.Record{r, u}
}

// fixtureSummary is the summary an engine would write after fixtureRecords.
func fixtureSummary() *result.Summary {
	row := func(n int, pattern, ports, purpose, status string, verdicts map[string]int, names ...string) result.RuleSummary {
		return result.RuleSummary{Key: fmt.Sprintf("intune-2015:%d", n), Table: "intune-2015", Row: n,
			Purpose: purpose, Pattern: pattern, Ports: ports, Status: status, Verdicts: verdicts, Names: names}
	}
	return &result.Summary{
		Type: "summary",
		Rules: []result.RuleSummary{
			row(1, manage, "443", "Intune service", "failing",
				map[string]int{"allowed": 3, "blocked": 2, "reset": 1, "port-not-allowed": 1},
				"enrollment.manage.microsoft.com", "fef.msua06.manage.microsoft.com", "i.manage.microsoft.com"),
			row(2, deliver, "80,443", "Windows Update", "ok", map[string]int{"allowed": 1}),
			row(3, login, "443", "Authentication", "failing", map[string]int{"reset": 1}, login),
			row(4, "*.msftauth.net", "443", "Authentication assets", "not-seen", nil),
			row(5, enroll, "443", "Device registration", "failing", map[string]int{"blocked": 7}, enroll),
		},
		Verdicts: map[string]int{"allowed": 4, "blocked": 9, "reset": 2, "port-not-allowed": 1, "unlisted": 2, "other": 1},
		Unlisted: []result.NameCount{{Name: "graph.microsoft.com", Count: 1}, {Name: hostileName, Count: 1}},
		Failing:  11,
		Capture: result.CaptureFacts{
			Files: []string{"a.pcap", "b.pcapng"}, Packets: 1234, Bytes: 567890,
			First: "2024-05-02T09:00:00.000000001Z", Last: "2024-05-02T09:05:00.5Z", Duration: 300.499999999,
			LinkTypes: []string{"ethernet", "linux-sll2"}, Connections: 16, DNSExchanges: 3,
			Quality: result.Quality{Truncated: 3, OneSided: 1, MidStream: 2, Duplicates: 5, InterfaceDrops: 7},
			Warnings: []string{"b.pcapng: truncated last packet at byte offset 99812 (frame 1234)",
				"a.pcap: odd link type \x1b]0;pwned\a"},
		},
	}
}

// passRecords is a clean capture: everything allowed.
func passRecords() []result.Record {
	r := withRule(flow(1, "10.0.0.5", "52.1.1.1", 443, "fef.msua06.manage.microsoft.com", "sni"),
		"intune-2015:1", manage, "Intune service")
	r.History, r.State, r.Verdict = "ShADadFf", "established", rules.Allowed
	return []result.Record{r}
}

func passSummary() *result.Summary {
	return &result.Summary{
		Type: "summary",
		Rules: []result.RuleSummary{{Key: "intune-2015:1", Table: "intune-2015", Row: 1, Purpose: "Intune service",
			Pattern: manage, Ports: "443", Status: "ok", Verdicts: map[string]int{"allowed": 1}}},
		Verdicts: map[string]int{"allowed": 1},
		Capture:  result.CaptureFacts{Files: []string{"pass.pcap"}, Packets: 12, Bytes: 3456, LinkTypes: []string{"ethernet"}, Connections: 1},
	}
}
