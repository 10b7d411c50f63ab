package analyze

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// ICMP destination-unreachable errors (ICMPv4 type 3, ICMPv6 type 1) answer a packet in place of its server: a
// firewall that rejects rather than drops, a closed UDP port, a router with no route. The decoder reads the
// packet each one quotes (decode.ICMP); the driver routes the error to the engine that owns the quoted flow
// (shard.go), and here it is matched to the TCP connection, UDP flow or DNS query it quotes. A connection or
// query the server never answered then has the state rejected and, for a listed name, the verdict blocked
// with the error as its reason. An error that quotes nothing the engine tracks is counted, not dropped.

// IP protocol numbers of ICMP and ICMPv6.
const (
	protoICMPv4 = 1
	protoICMPv6 = 58
)

// icmpFragNeeded is ICMPv4 destination unreachable code 4, "fragmentation needed": path MTU discovery, not a
// rejection (ICMPv6's "packet too big" is a type of its own, which the decoder does not take for an error).
const icmpFragNeeded = 4

// isRejection reports whether p is an ICMP error that says a packet was refused or could not be delivered.
func isRejection(p *decode.Packet) bool {
	return p.ICMP.Rejects() && (p.ICMP.IPv6 || p.ICMP.Code != icmpFragNeeded)
}

// icmpReject is the first ICMP rejection that quoted a connection or DNS query.
type icmpReject struct {
	typ, code uint8
	ipv6      bool
	from      netip.Addr // the router or host that sent the error
}

// reason says it for a record, e.g. "rejected by ICMP administratively prohibited from 198.18.0.1".
func (r *icmpReject) reason() string {
	m := decode.ICMP{Kind: decode.ICMPUnreachable, Type: r.typ, Code: r.code, IPv6: r.ipv6}
	return "rejected by ICMP " + m.Reason() + " from " + r.from.String()
}

// record is the record's icmp field; nil when there was no rejection.
func (r *icmpReject) record() *result.ICMPError {
	if r == nil {
		return nil
	}
	return &result.ICMPError{Type: int(r.typ), Code: int(r.code), From: r.from.String()}
}

// icmpCounts are the engine's ICMP counters, for the capture-quality section.
type icmpCounts struct {
	rejections uint64 // destination-unreachable errors read (fragmentation needed left out)
	unmatched  uint64 // of those, the ones that quoted nothing this engine tracked
}

func (n *icmpCounts) add(o icmpCounts) {
	n.rejections += o.rejections
	n.unmatched += o.unmatched
}

// fill writes the counts into the quality section.
func (n icmpCounts) fill(q *result.Quality) {
	q.ICMPRejections, q.UnmatchedICMP = n.rejections, n.unmatched
}

// icmp matches one ICMP rejection (isRejection) to what it quotes. The quote's source is the sender of the
// refused packet: a client's SYN or query, or, when the client refused an answer, the server's reply; either
// way the quote names the connection.
func (e *Engine) icmp(p *decode.Packet, ref frameRef, ts time.Time, wire int) {
	e.facts.icmp.rejections++
	e.verifyChecksums(p)
	rej := icmpReject{typ: p.ICMP.Type, code: p.ICMP.Code, ipv6: p.ICMP.IPv6, from: p.Src}
	q := &p.ICMP
	matched := false
	switch {
	case !q.Complete:
	case q.Proto == protoUDP && (q.DstPort == dnsPort || q.SrcPort == dnsPort):
		matched = e.rejectDNS(p, &rej, ref, ts, wire)
	case q.Proto == protoTCP || q.Proto == protoUDP:
		matched = e.rejectConn(p, &rej, ref, ts.UnixNano(), wire)
	}
	if !matched {
		e.facts.icmp.unmatched++
	}
}

// rejectConn attaches rej to the TCP connection or UDP flow p's error quotes, found under its key (same VLAN
// and tunnel as the error), else under its 5-tuple on another VLAN.
func (e *Engine) rejectConn(p *decode.Packet, rej *icmpReject, ref frameRef, ns int64, wire int) bool {
	q := &p.ICMP
	quoted := decode.Packet{Src: q.Src, Dst: q.Dst, SrcPort: q.SrcPort, DstPort: q.DstPort, IPProto: q.Proto,
		VLAN: p.VLAN, Tunnel: p.Tunnel}
	k, _ := keyOf(&quoted)
	c := e.lookup(k)
	if c == nil {
		c = e.byTuple[k.withoutVLAN()]
	}
	if c == nil {
		return false
	}
	if c.icmp == nil {
		c.icmp = rej.clone()
	}
	if ns >= c.lastNs {
		c.last, c.lastNs = ref, ns
	}
	c.packets++
	c.bytes += int64(wire)
	e.place(c)
	return true
}

func (r *icmpReject) clone() *icmpReject {
	c := *r
	return &c
}

// maxDNSRejectScan bounds the pending queries looked through for the query an error quotes when its quote
// stops before the DNS id (RFC 792 asks for 8 bytes past the IP header only): the newest are looked at, as an
// error comes back within a round trip of its query.
const maxDNSRejectScan = 1024

// rejectDNS attaches rej to the pending DNS query p's error quotes: by its id when the quote holds it, else the
// newest pending query of the same client and server sockets. A quoted answer (the client's port was closed)
// finds its query only if that is still pending.
func (e *Engine) rejectDNS(p *decode.Packet, rej *icmpReject, ref frameRef, ts time.Time, wire int) bool {
	q := &p.ICMP
	k := dnsKey{client: q.Src, server: q.Dst, clientPort: q.SrcPort, serverPort: q.DstPort, proto: protoUDP}
	if q.DstPort != dnsPort {
		k.client, k.server, k.clientPort, k.serverPort = q.Dst, q.Src, q.DstPort, q.SrcPort
	}
	var x *dnsExchange
	if id, ok := quotedDNSID(p); ok {
		k.id = id
		x = e.dns.pending[k]
	} else {
		x = e.newestPending(k)
	}
	if x == nil || x.answered {
		return false
	}
	if x.icmp == nil {
		x.icmp = rej.clone()
	}
	if !ts.Before(x.lastTime) {
		x.last, x.lastTime = ref, ts
	}
	x.packets++
	x.bytes += int64(wire)
	return true
}

// newestPending finds the newest pending query on k's sockets, whatever its id (k.id is ignored).
func (e *Engine) newestPending(k dnsKey) *dnsExchange {
	queue := e.dns.queue
	for i := len(queue) - 1; i >= 0 && i >= len(queue)-maxDNSRejectScan; i-- {
		x := queue[i]
		xk := x.key
		xk.id = 0
		if xk == k && !x.answered {
			return x
		}
	}
	return nil
}

// quotedDNSID reads the DNS id of the datagram an ICMP error (p.Payload, the ICMP message) quotes, when the quote
// is long enough: the quoted IP header, the 8-byte UDP header, then the id. A quoted IPv6 header followed by
// extension headers is not looked into.
func quotedDNSID(p *decode.Packet) (uint16, bool) {
	b := p.Payload
	if len(b) < 8 {
		return 0, false
	}
	b = b[8:]
	var hdr int
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		hdr = int(b[0]&0x0f) * 4
	case len(b) >= 40 && b[0]>>4 == 6 && b[6] == protoUDP:
		hdr = 40
	default:
		return 0, false
	}
	if hdr < 20 || len(b) < hdr+10 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[hdr+8 : hdr+10]), true
}

// wireState is the connection's state, rejected when an ICMP error answered it and nothing else did.
func (c *conn) wireState() result.State {
	s := c.state()
	if s == result.StateUnanswered && c.icmp != nil {
		return result.StateRejected
	}
	return s
}

// rejectedOutcome is what an ICMP rejection did to a connection the server never answered.
func (c *conn) rejectedOutcome() outcome {
	stage := result.StageAfterSyn
	if c.key.proto() == protoUDP {
		stage = result.StageAfterQuery
	}
	return outcome{rules.Blocked, stage, c.icmp.reason()}
}

// explainRejection gives an unlisted record that an ICMP error rejected its stage and reason, as a listed one
// has them (outcome.FailureOf reads them).
func explainRejection(r *result.Record, o outcome) {
	if r.Verdict == rules.Unlisted && r.State == result.StateRejected {
		r.Stage, r.Reason = o.stage, o.reason
	}
}
