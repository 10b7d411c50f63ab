package result

import (
	"net/netip"
	"strconv"
	"strings"
)

// AddrFilter is the Wireshark display-filter term for one address: ip.addr for IPv4 (IPv4-mapped IPv6
// included), ipv6.addr otherwise. It reports false when s is not an address.
func AddrFilter(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	if a.Unmap().Is4() {
		return "ip.addr==" + a.Unmap().String(), true
	}
	return "ipv6.addr==" + a.String(), true
}

// PortField is "tcp.port==" or "udp.port==" for a record's protocol.
func PortField(proto string) string {
	if proto == "udp" {
		return "udp.port=="
	}
	return "tcp.port=="
}

// DisplayFilter is a Wireshark display filter that shows exactly one record's conversation: its client and
// server on its ports (for a DNS exchange, the query and its answers). It is empty when an address does not
// parse (they always do for records from a capture).
func DisplayFilter(r *Record) string {
	c, ok1 := AddrFilter(r.Client)
	s, ok2 := AddrFilter(r.Server)
	if !ok1 || !ok2 {
		return ""
	}
	pf := PortField(r.Proto)
	return c + " && " + s + " && " + pf + strconv.Itoa(int(r.ClientPort)) + " && " + pf + strconv.Itoa(int(r.ServerPort))
}

// JoinFilters ORs filters into one, at most limit of them (the first ones given), each in parentheses when
// there are several, so a requirement's filter stays short enough to paste. Empty filters are skipped.
func JoinFilters(filters []string, limit int) string {
	var parts []string
	for _, f := range filters {
		if f == "" {
			continue
		}
		if len(parts) == limit {
			break
		}
		parts = append(parts, f)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	for i := range parts {
		parts[i] = "(" + parts[i] + ")"
	}
	return strings.Join(parts, " || ")
}
