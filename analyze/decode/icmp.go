package decode

import (
	"encoding/binary"
	"net/netip"
)

// ICMPKind says what an ICMP error reports about the packet it quotes.
type ICMPKind uint8

// The ICMP errors Packet.ICMP describes; other ICMP messages (echo, neighbour discovery, ...) leave it zero.
const (
	ICMPNone         ICMPKind = iota
	ICMPUnreachable           // ICMPv4 type 3, ICMPv6 type 1: the packet was refused or could not be delivered
	ICMPTimeExceeded          // ICMPv4 type 11, ICMPv6 type 3: the hop limit ran out (a loop, or traceroute)
)

// ICMP describes an ICMP or ICMPv6 error and the start of the packet it quotes (RFC 792, RFC 4443). The quote
// is the refused packet as its sender sent it: Src is the sender of the refused packet (usually the host that
// received this error), Dst the host it was meant for; the router or host that sent the error is Packet.Src.
type ICMP struct {
	Kind       ICMPKind
	Type, Code uint8 // as on the wire
	IPv6       bool  // an ICMPv6 message (Packet.IPProto 58), else ICMPv4 (1)
	// Proto is the quoted packet's transport protocol, after any IPv6 extension headers.
	Proto            uint8
	Src, Dst         netip.Addr // the quoted packet's addresses (invalid when the quote is too short for them)
	SrcPort, DstPort uint16     // the quoted TCP or UDP ports, when the quote holds them
	// Complete: the quote holds the addresses, the protocol and, for TCP and UDP, both ports (it is not a
	// non-first fragment), which is what matching it to a connection needs.
	Complete bool
}

// Rejects tells whether the error says the quoted packet was refused: destination unreachable, any code. Time
// exceeded is not a refusal.
func (m ICMP) Rejects() bool { return m.Kind == ICMPUnreachable }

// ICMP type numbers the decoder reads quotes from.
const (
	icmp4Unreachable  = 3
	icmp4TimeExceeded = 11
	icmp6Unreachable  = 1
	icmp6TimeExceeded = 3
	protoICMPv4       = 1
)

// Reason names the error for a report, e.g. "administratively prohibited" or "port unreachable" (RFC 792,
// RFC 1812 and RFC 4443 code names); "" for ICMPNone.
func (m ICMP) Reason() string {
	switch m.Kind {
	case ICMPUnreachable:
		if m.IPv6 {
			return codeName(unreachable6[:], m.Code, "destination unreachable")
		}
		return codeName(unreachable4[:], m.Code, "destination unreachable")
	case ICMPTimeExceeded:
		if m.Code == 1 {
			return "fragment reassembly time exceeded"
		}
		return "time exceeded"
	}
	return ""
}

func codeName(names []string, code uint8, fallback string) string {
	if int(code) < len(names) && names[code] != "" {
		return names[code]
	}
	return fallback
}

var unreachable4 = [...]string{
	0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
	4: "fragmentation needed", 5: "source route failed", 6: "destination network unknown",
	7: "destination host unknown", 8: "source host isolated", 9: "network administratively prohibited",
	10: "host administratively prohibited", 11: "network unreachable for tos", 12: "host unreachable for tos",
	13: "administratively prohibited", 14: "host precedence violation", 15: "precedence cutoff in effect",
}

var unreachable6 = [...]string{
	0: "no route to destination", 1: "administratively prohibited", 2: "beyond scope of source address",
	3: "address unreachable", 4: "port unreachable", 5: "source address failed ingress/egress policy",
	6: "reject route to destination", 7: "error in source routing header",
}

// icmpError fills p.ICMP when seg, the ICMP message of p, is a destination-unreachable or time-exceeded
// error, reading the quoted header in place.
func icmpError(p *Packet, seg []byte) {
	if len(seg) < 2 {
		return
	}
	var kind ICMPKind
	v6 := p.IPProto == protoICMPv6
	switch {
	case v6 && seg[0] == icmp6Unreachable, !v6 && seg[0] == icmp4Unreachable:
		kind = ICMPUnreachable
	case v6 && seg[0] == icmp6TimeExceeded, !v6 && seg[0] == icmp4TimeExceeded:
		kind = ICMPTimeExceeded
	default:
		return
	}
	p.ICMP = ICMP{Kind: kind, Type: seg[0], Code: seg[1], IPv6: v6}
	if len(seg) <= 8 {
		return
	}
	if v6 {
		quote6(&p.ICMP, seg[8:])
	} else {
		quote4(&p.ICMP, seg[8:])
	}
}

// quote4 reads a quoted IPv4 header (options allowed) and the ports after it.
func quote4(m *ICMP, b []byte) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return
	}
	m.Src, m.Dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	m.Proto = b[9]
	if len(b) < ihl {
		return
	}
	firstFragment := binary.BigEndian.Uint16(b[6:8])&0x1fff == 0
	quotePorts(m, b[ihl:], firstFragment)
}

// quote6 reads a quoted IPv6 header, skips its extension headers and reads the ports after them.
func quote6(m *ICMP, b []byte) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return
	}
	m.Src, m.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	proto, rest, first, ok := skipIPv6Ext(b[6], b[40:], true)
	if !ok {
		return
	}
	m.Proto = proto
	quotePorts(m, rest, first)
}

// quotePorts reads the TCP or UDP ports at the start of a quoted transport header.
func quotePorts(m *ICMP, l4 []byte, firstFragment bool) {
	if m.Proto != protoTCP && m.Proto != protoUDP {
		m.Complete = true
		return
	}
	if !firstFragment || len(l4) < 4 {
		return
	}
	m.SrcPort, m.DstPort = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
	m.Complete = true
}

// IPv6 extension header numbers skipIPv6Ext follows.
const (
	ip6HopByHop    = 0
	ip6Routing     = 43
	ip6Fragment    = 44
	ip6Destination = 60
)

// skipIPv6Ext follows the hop-by-hop, routing and destination-options headers at the start of b (next is the
// header type b starts with), at most maxExtHeaders of them. It returns the first other header type and the
// bytes from there. A fragment header is followed only when fragOK: first then tells whether it was a first
// fragment (whose next header is really there). ok is false when b ends inside a header or the chain is too
// long.
func skipIPv6Ext(next uint8, b []byte, fragOK bool) (proto uint8, rest []byte, first, ok bool) {
	first = true
	for range maxExtHeaders {
		var n int
		switch next {
		case ip6HopByHop, ip6Routing, ip6Destination:
			if len(b) < 2 {
				return 0, nil, false, false
			}
			n = (int(b[1]) + 1) * 8
		case ip6Fragment:
			if !fragOK {
				return next, b, first, true
			}
			if len(b) < 8 {
				return 0, nil, false, false
			}
			n = 8
			first = first && binary.BigEndian.Uint16(b[2:4])&0xfff8 == 0
		default:
			return next, b, first, true
		}
		if len(b) < n {
			return 0, nil, false, false
		}
		next, b = b[0], b[n:]
	}
	return 0, nil, false, false
}
