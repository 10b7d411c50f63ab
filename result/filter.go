package result

import (
	"net/netip"
	"strconv"
	"strings"
)

// AddrFilter is the Wireshark display-filter term for one address: ip.addr for IPv4 (IPv4-mapped IPv6
// included), ipv6.addr otherwise. A zone (fe80::1%eth0) is left out: it names an interface of the host that
// wrote the address, it is not in the packet, and its bytes are anything. It reports false when s is not an
// address.
func AddrFilter(s string) (string, bool) {
	b, ok := appendAddrFilter(nil, s)
	return string(b), ok
}

// appendAddrFilter appends AddrFilter(s) to b; it reports false, b unchanged, when s is not an address.
func appendAddrFilter(b []byte, s string) ([]byte, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return b, false
	}
	a = a.WithZone("")
	if a.Unmap().Is4() {
		return a.Unmap().AppendTo(append(b, "ip.addr=="...)), true
	}
	return a.AppendTo(append(b, "ipv6.addr=="...)), true
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
	var buf [160]byte // two IPv6 terms with zones and two ports: one allocation, the result
	b, ok := appendAddrFilter(buf[:0], r.Client)
	if !ok {
		return ""
	}
	if b, ok = appendAddrFilter(append(b, " && "...), r.Server); !ok {
		return ""
	}
	pf := PortField(r.Proto)
	b = strconv.AppendUint(append(append(b, " && "...), pf...), uint64(r.ClientPort), 10)
	b = strconv.AppendUint(append(append(b, " && "...), pf...), uint64(r.ServerPort), 10)
	return string(b)
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
