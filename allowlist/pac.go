package allowlist

import (
	"io"
	"net"
	"slices"
)

// writePAC writes a proxy auto-config file that sends the selected names DIRECT and every other name to the
// proxy. Each pattern form has an exact PAC test: dnsDomainIs(host, ".x") is "strictly below x", dnsDomainIs
// (host, "x") is "text ends in x", a regular expression handles a "*" label inside. IPv4 ranges use isInNet on
// the resolved address; PAC has no portable test for IPv6 ranges, so those become comments.
func writePAC(w io.Writer, entries []entry, head []string, proxy string) error {
	l := &lines{}
	for _, h := range head {
		l.add("// " + commentText(h))
	}
	l.add("function FindProxyForURL(url, host) {")
	l.add("  host = host.toLowerCase();")
	l.add("  if (host.charAt(host.length - 1) === \".\") { host = host.substring(0, host.length - 1); }")
	var nets []entry
	var tests []string
	for _, e := range entries {
		switch {
		case e.err != nil:
			l.add("  // " + describe(e.row) + ": cannot be written: " + commentText(e.err.Error()))
		case e.target.kind == kindCIDR:
			nets = append(nets, e)
		case slices.Contains(tests, pacTest(e.target)):
			l.add("  // " + describe(e.row) + ": the same test as above")
		default:
			tests = append(tests, pacTest(e.target))
			l.add("  // " + describe(e.row))
			l.add("  if (" + pacTest(e.target) + ") { return \"DIRECT\"; }")
		}
	}
	writePACNets(l, nets)
	l.add("  return \"PROXY " + proxy + "\";")
	l.add("}")
	return l.write(w)
}

// pacTest is the JavaScript condition for a name pattern. Patterns hold only [a-z0-9._*-] (checkChars), so
// they need no quoting inside string and regex literals.
func pacTest(t target) string {
	switch t.kind {
	case kindExact:
		return "host === \"" + t.base + "\""
	case kindSub:
		return "dnsDomainIs(host, \"." + t.base + "\")"
	case kindText:
		return "dnsDomainIs(host, \"" + t.base + "\")"
	}
	return "/" + t.regex() + "/.test(host)"
}

// writePACNets adds the address-range tests, resolving the name once and only when a range is listed.
func writePACNets(l *lines, nets []entry) {
	var v4 []entry
	for _, e := range nets {
		if e.target.prefix.Addr().Is4() {
			v4 = append(v4, e)
			continue
		}
		l.add("  // " + describe(e.row) + ": PAC cannot test IPv6 ranges portably; allow it on the proxy")
	}
	if len(v4) == 0 {
		return
	}
	l.add("  var ip = dnsResolve(host);")
	for _, e := range v4 {
		mask := net.IP(net.CIDRMask(e.target.prefix.Bits(), 32)).String()
		l.add("  // " + describe(e.row))
		l.add("  if (ip && isInNet(ip, \"" + e.target.prefix.Addr().String() + "\", \"" + mask + "\")) { return \"DIRECT\"; }")
	}
}
