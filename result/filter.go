package result

import (
	"net/netip"
	"strconv"
	"strings"
)

// DisplayFilter is a Wireshark display filter that shows the record's packets: the conversation between its
// client and server on its ports (for a DNS exchange, the query and its answers). It is empty when the record
// lacks an address or a port.
func DisplayFilter(r *Record) string {
	c, errC := netip.ParseAddr(r.Client)
	s, errS := netip.ParseAddr(r.Server)
	if errC != nil || errS != nil || r.ClientPort == 0 || r.ServerPort == 0 {
		return ""
	}
	ip := "ip.addr"
	if c.Is6() && !c.Is4In6() {
		ip = "ipv6.addr"
	}
	proto := "tcp"
	if r.Proto == "udp" {
		proto = "udp"
	}
	var b strings.Builder
	b.WriteString(ip + "==" + c.String() + " && " + ip + "==" + s.String())
	b.WriteString(" && " + proto + ".port==" + strconv.Itoa(int(r.ClientPort)))
	b.WriteString(" && " + proto + ".port==" + strconv.Itoa(int(r.ServerPort)))
	return b.String()
}

// JoinFilters ORs record filters into one, at most limit of them (the first ones given), so a requirement's
// filter stays short enough to paste. Empty filters are skipped.
func JoinFilters(filters []string, limit int) string {
	var parts []string
	for _, f := range filters {
		if f == "" {
			continue
		}
		if len(parts) == limit {
			break
		}
		parts = append(parts, "("+f+")")
	}
	return strings.Join(parts, " || ")
}
