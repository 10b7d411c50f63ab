package report

import (
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// cause is what went wrong with a failing record, in the terms of the change a network team has to make.
type cause uint8

const (
	causeOther       cause = iota // a failure the categories below do not describe
	causeSYNDropped               // no answer to the SYN: a firewall drops the address or port
	causeSYNRefused               // the SYN was answered with a reset: a firewall rejects
	causeSYNRejected              // the SYN was answered with an ICMP destination unreachable: a firewall rejects
	causeSNIFilter                // reset after the ClientHello: a filter reads the SNI
	causeProxyAuth                // proxy answered 407: it wants credentials the device does not have
	causeProxyDenied              // proxy answered 403
	causeProxyError               // proxy answered another error (5xx, ...)
	causeIntercepted              // a TLS-inspecting device answered with its own certificate
	causeDNS                      // the lookup failed (NXDOMAIN, SERVFAIL, REFUSED, no reply)
	causeResetLater               // reset after the request or after data flowed
	causeSOCKSDenied              // a SOCKS proxy refused the request (a failure reply, or no method it accepts)
	numCauses
)

// causeText says, per cause, what happened and what to change.
var causeText = [numCauses]struct{ what, change string }{
	causeOther:       {"failed", "look at the first frames in Wireshark"},
	causeSYNDropped:  {"blocked by a SYN drop (no answer to the SYN)", "allow the destination and port on the firewall"},
	causeSYNRefused:  {"refused (the SYN was answered by a reset)", "allow the destination and port on the firewall"},
	causeSYNRejected: {"rejected (the SYN was answered by an ICMP error)", "allow the destination and port on the firewall"},
	causeSNIFilter:   {"reset after the ClientHello: SNI filtering", "allow the name in the firewall's TLS/SNI or URL filter"},
	causeProxyAuth:   {"the proxy asked for authentication (407)", "let these names through the proxy without authentication"},
	causeProxyDenied: {"the proxy refused the request (403)", "allow these names on the proxy"},
	causeProxyError:  {"the proxy answered with an error", "check the proxy's log for these names"},
	causeIntercepted: {"TLS was intercepted (an inspection certificate was presented)", "exempt these names from TLS inspection"},
	causeDNS:         {"the DNS lookup failed", "fix name resolution for these names (resolver, forwarder, DNS filter)"},
	causeResetLater:  {"reset after the request or data", "check a proxy or IPS that inspects the content"},
	causeSOCKSDenied: {"the SOCKS proxy refused the request", "allow these names in the SOCKS proxy's ruleset, or send the devices through an HTTP proxy"},
}

// causeOf classifies a failing record.
func causeOf(r *result.Record) cause {
	switch {
	case r.Verdict == rules.Intercepted:
		return causeIntercepted
	case r.Type == "dns" || r.Stage == "after-query":
		return causeDNS
	case r.ProxyStatus == 407:
		return causeProxyAuth
	case r.ProxyStatus == 403:
		return causeProxyDenied
	case r.ProxyStatus >= 400:
		return causeProxyError
	case r.Verdict == rules.Blocked && r.Stage == result.StageAfterSOCKS:
		return causeSOCKSDenied
	case r.Stage == "after-client-hello":
		return causeSNIFilter
	case r.Stage == "after-syn" && r.State == "refused":
		return causeSYNRefused
	case r.Stage == "after-syn" && r.State == result.StateRejected:
		return causeSYNRejected
	case r.Stage == "after-syn":
		return causeSYNDropped
	case r.Stage == "after-request", r.Stage == "after-data", r.Stage == "after-connect", r.Stage == result.StageAfterSOCKS:
		return causeResetLater
	}
	return causeOther
}

// ipField is result.AddrFilter: the filter term for one address.
func ipField(s string) (string, bool) { return result.AddrFilter(s) }

// portField is result.PortField: tcp.port or udp.port for a record's protocol.
func portField(proto string) string { return result.PortField(proto) }

// recordFilter is a Wireshark display filter for exactly one record's conversation; "" when its addresses do
// not parse (they always do for records from a capture).
func recordFilter(r *result.Record) string { return result.DisplayFilter(r) }

// serverFilter is the filter for a server and port, the form to paste when asking "what happened to this
// destination?".
func serverFilter(proto, server string, port uint16) string {
	s, ok := ipField(server)
	if !ok {
		return ""
	}
	return s + " && " + portField(proto) + strconv.Itoa(int(port))
}

// framesFilter is "frame.number in {97, 100}" for the given frames; "" for none.
func framesFilter(frames []uint64) string {
	if len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("frame.number in {")
	for i, f := range frames {
		if i > 0 {
			b.WriteString(", ") // Wireshark 4 wants commas; a space alone is a syntax error
		}
		b.WriteString(strconv.FormatUint(f, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// anyOf joins filters with "||", each in parentheses when there are several.
func anyOf(filters []string) string {
	if len(filters) == 1 {
		return filters[0]
	}
	parts := make([]string, len(filters))
	for i, f := range filters {
		parts[i] = "(" + f + ")"
	}
	return strings.Join(parts, " || ")
}
