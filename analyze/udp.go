package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
)

// udp handles one datagram: DNS on port 53 becomes an exchange; anything else to a unicast address is a flow
// whose answer, or lack of one, is its outcome.
func (e *Engine) udp(p *decode.Packet, ref frameRef, ts time.Time, wire int) {
	if p.SrcPort == dnsPort || p.DstPort == dnsPort {
		if len(p.Payload) > 0 {
			e.handleDNSMessage(p.Payload, endpoint{p.Src, p.SrcPort}, endpoint{p.Dst, p.DstPort},
				protoUDP, p.VLAN, ref, ts, wire)
		}
		return
	}
	if !p.Dst.IsGlobalUnicast() && !p.Dst.IsPrivate() && !p.Dst.IsLoopback() {
		return // multicast and broadcast chatter is nobody's connection to Intune
	}
	k, fromLo := keyOf(p)
	c := e.lookup(k)
	if c == nil {
		c = e.joinAcrossVLANs(k, fromLo)
	}
	if c == nil {
		c = e.newConn(k, fromLo, p, ref, ts)
	}
	fromClient := c.fromClient(fromLo)
	c.last, c.lastNs = ref, ts.UnixNano()
	c.packets++
	c.bytes += int64(wire)
	if fromClient {
		c.clientSentData = c.clientSentData || len(p.Payload) > 0
	} else {
		c.serverSeen = true
		c.serverSentData = c.serverSentData || len(p.Payload) > 0
	}
	e.place(c)
}

// tcpDNS frames DNS messages out of both directions of a TCP connection to port 53.
type tcpDNS struct {
	dir [2]tcpDNSDir // client, server
}

// tcpDNSDir follows one direction's byte stream in sequence order.
type tcpDNSDir struct {
	next    uint32
	started bool
	broken  bool
	stream  dnsmsg.Stream
}

// accept appends the new part of a segment to the stream. It reports false once the stream has a gap.
func (d *tcpDNSDir) accept(seq uint32, payload []byte, cut bool) bool {
	if d.broken {
		return false
	}
	if !d.started {
		d.next, d.started = seq, true
	}
	off := int32(seq - d.next)
	switch {
	case off > 0:
		d.broken = true
		return false
	case int(-off) >= len(payload):
		return false // a retransmission of bytes already read
	}
	payload = payload[-off:]
	d.stream.Write(payload)
	d.next += uint32(len(payload))
	if cut {
		d.broken = true // the rest of this segment was not captured
	}
	return true
}
