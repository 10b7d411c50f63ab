package gen

import "net/netip"

// label is a name the generator may use, with what the 2015 Intune table (rules/profiles/intune-2015.yaml) says
// of it, written out by hand so that the expected verdicts do not come from the code under test.
type label struct {
	name  string
	ports []uint16 // TCP ports its row allows; nil when no row lists the name
	ms    bool     // below one of the default Microsoft suffixes: "unlisted" when no row lists it
	cname []string // the CNAME chain its DNS answers carry, if any
	index int      // position in the table, which fixes its server addresses
}

// Name kinds, for drawing names in proportion.
const (
	kindListed = iota
	kindUnlisted
	kindOther
	kindFailing // names that never resolve: NXDOMAIN or no answer
)

var (
	web     = []uint16{80, 443}
	tlsOnly = []uint16{443}
	http80  = []uint16{80}
)

// nameTable returns the names by kind. It is built on each call so that no package state can be changed.
func nameTable() [4][]label {
	t := [4][]label{
		kindListed: {
			{name: "i.manage.microsoft.com", ports: web, cname: []string{"i.manage.microsoft.com.trafficmanager.net"}},
			{name: "fef.msua06.manage.microsoft.com", ports: web},
			{name: "portal.manage.microsoft.com", ports: web},
			{name: "enrollment.manage.microsoft.com", ports: web, cname: []string{"enrollment.manage.microsoft.com.nsatc.net", "enrollment-wus.cloudapp.net"}},
			{name: "manage.microsoft.com", ports: web},
			{name: "login.microsoftonline.com", ports: web, cname: []string{"login.mso.msidentity.com", "ak.privatelink.msidentity.com"}},
			{name: "login.microsoftonline-p.com", ports: web},
			{name: "secure.aadcdn.microsoftonline-p.net", ports: web},
			{name: "admin.portal.office.com", ports: web},
			{name: "wdcp.spynet2.microsoft.com", ports: tlsOnly},
			{name: "c.microsoft.com", ports: web},
			{name: "c1.microsoft.com", ports: web},
			{name: "blob.core.windows.net", ports: web},
			{name: "ajax.aspnetcdn.com", ports: web, cname: []string{"mscomajax.vo.msecnd.net"}},
			{name: "ajax.googleapis.com", ports: web},
			{name: "wustat.microsoft.com", ports: web},
			{name: "fe2.update.microsoft.com", ports: web},
			{name: "download.microsoft.com", ports: web, cname: []string{"download.microsoft.com.edgekey.net", "e3673.dscg.akamaiedge.net"}},
			{name: "update.microsoft.com", ports: web},
			{name: "au.download.windowsupdate.com", ports: web},
			{name: "download.windowsupdate.com", ports: web},
			{name: "ctldl.windowsupdate.com", ports: web},
			{name: "windowsupdate.microsoft.com", ports: web},
			{name: "manage.microsoft.com.nsatc.net", ports: http80},
			{name: "www.microsoft.com", ports: http80, cname: []string{"www.microsoft.com-c-3.edgekey.net"}},
			{name: "go.microsoft.com", ports: http80},
			{name: "blogs.technet.com", ports: http80},
			{name: "meet.livemeeting.com", ports: web},
		},
		kindUnlisted: {
			{name: "enterpriseregistration.windows.net", ms: true},
			{name: "graph.microsoft.com", ms: true, cname: []string{"graph.msft.net"}},
			{name: "login.live.com", ms: true},
			{name: "settings-win.data.microsoft.com", ms: true},
			{name: "mystorage.blob.core.windows.net", ms: true}, // the row is exactly blob.core.windows.net
			{name: "officeclient.microsoft.com", ms: true},
			{name: "client.wns.windows.com", ms: true},
			{name: "social.technet.microsoft.com", ms: true}, // the row is *.social..., strictly below
			{name: "config.edge.skype.com.trafficmanager.net", ms: true},
		},
		kindOther: {
			{name: "www.google.com"},
			{name: "example.com"},
			{name: "api.github.com"},
			{name: "cdn.jsdelivr.net"},
			{name: "en.wikipedia.org", cname: []string{"dyna.wikimedia.org"}},
			{name: "evilmicrosoft.com"}, // not below microsoft.com on a label boundary
			{name: "push.apple.com"},
			{name: "updates.vendor.example"},
		},
		kindFailing: {
			{name: "fef.msuc03.manage.microsoft.com", ports: web},
			{name: "oldservice.microsoft.com", ms: true},
			{name: "enterpriseenrollment.corp.example"},
			{name: "wpad.corp.example"},
		},
	}
	n := 0
	for k := range t {
		for i := range t[k] {
			t[k][i].index = n
			n++
		}
	}
	return t
}

// judge is the verdict a record for name on port gets when the network did outcome (allowed, blocked or
// reset): no row is unlisted or other, a row that does not allow the port is port-not-allowed, and only a
// listed name on an allowed port carries the network's outcome. A nil name (nothing named the connection) is
// other, as the 2015 table has no address rows. checkPort is false for DNS lookups, which have no port.
func judge(l *label, port uint16, checkPort bool, outcome string) string {
	switch {
	case l == nil:
		return "other"
	case l.ports == nil && l.ms:
		return "unlisted"
	case l.ports == nil:
		return "other"
	case checkPort && !hasPort(l.ports, port):
		return "port-not-allowed"
	}
	return outcome
}

func hasPort(ports []uint16, p uint16) bool {
	for _, x := range ports {
		if x == p {
			return true
		}
	}
	return false
}

// Addresses: everything lives in the benchmarking ranges 198.18.0.0/15 and 2001:2::/48.
// 198.18.0.0/24 holds the infrastructure, clients take 198.18.1.0 up, servers 198.19.0.0/16.
var (
	resolver4 = netip.AddrFrom4([4]byte{198, 18, 0, 53})
	proxy4    = netip.AddrFrom4([4]byte{198, 18, 0, 8})
	resolver6 = netip.MustParseAddr("2001:2::53")
	proxy6    = netip.MustParseAddr("2001:2::8")
)

// proxyPort is where the explicit proxy listens.
const proxyPort = 8080

// serverAddr is the address DNS gives for a name: one per name, so a DNS answer names exactly one server.
func serverAddr(l *label, v6 bool) netip.Addr {
	i := l.index + 1
	if v6 {
		return addr6(2, uint16(i))
	}
	return netip.AddrFrom4([4]byte{198, 19, byte(i / 250), byte(i%250 + 1)})
}

// unknownServer is an address no DNS answer in the capture gives: a connection to it has no name.
func unknownServer(i int, v6 bool) netip.Addr {
	if v6 {
		return addr6(3, uint16(i+1))
	}
	return netip.AddrFrom4([4]byte{198, 19, 200, byte(i%250 + 1)})
}

// clientAddr is client number i.
func clientAddr(i int, v6 bool) netip.Addr {
	if v6 {
		return addr6(1, uint16(i+1))
	}
	return netip.AddrFrom4([4]byte{198, 18, byte(1 + i/250), byte(i%250 + 1)})
}

// addr6 is 2001:2::group:i.
func addr6(group, i uint16) netip.Addr {
	var b [16]byte
	b[0], b[1], b[3] = 0x20, 0x01, 0x02
	b[12], b[13] = byte(group>>8), byte(group)
	b[14], b[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}
