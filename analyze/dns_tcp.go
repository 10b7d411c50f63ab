package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/result"
)

// DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message has a two-byte length prefix, and a message may span
// segments or share one. A connection to port 53 is still tracked as a connection (flows.go); its payload is
// split into messages here instead of being read for a name.

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

// dnsOverTCP splits a TCP DNS stream this engine reports into messages, in order. A gap (lost or cut segment)
// ends the reading of that direction: a message cannot be resynchronised without its length prefix.
func (e *Engine) dnsOverTCP(c *conn, p *decode.Packet, fromClient bool, ref frameRef, ts time.Time, wire int) {
	rx := e.streamsOf(c)
	c.app.transport = result.TransportDNS
	c.app.phase = phaseDone
	if rx.dns == nil {
		rx.dns = &tcpDNS{}
	}
	d := &rx.dns.dir[0]
	if !fromClient {
		d = &rx.dns.dir[1]
	}
	if !d.accept(p.Seq, p.Payload, len(p.Payload) < p.PayloadWireLen) {
		return
	}
	src, dst := c.cli(), c.srv()
	if !fromClient {
		src, dst = dst, src
	}
	for {
		msg, ok := d.stream.Next()
		if !ok {
			return
		}
		e.exchangeMessage(msg, src, dst, protoTCP, c.key.vlan(), ref, ts, wire, false, nil) // whole by its length prefix
	}
}

// maxDNSCopies bounds the DNS-over-TCP streams an engine follows for names only.
const maxDNSCopies = 4096

// learnDNSOverTCP reads a copy of a DNS-over-TCP segment another engine reports, for names only. The engine
// follows the stream without tracking the connection: by its key, until a FIN or RST.
func (e *Engine) learnDNSOverTCP(p *decode.Packet, ref frameRef) {
	k, _ := keyOf(p)
	d := e.dns.copies[k]
	if d == nil {
		if len(e.dns.copies) >= maxDNSCopies {
			clear(e.dns.copies)
		}
		d = &tcpDNS{}
		e.dns.copies[k] = d
	}
	dir := &d.dir[0]
	if p.SrcPort == dnsPort {
		dir = &d.dir[1]
	}
	if dir.accept(p.Seq, p.Payload, len(p.Payload) < p.PayloadWireLen) {
		src, dst := endpoint{p.Src, p.SrcPort}, endpoint{p.Dst, p.DstPort}
		for {
			msg, ok := dir.stream.Next()
			if !ok {
				break
			}
			e.learnMessage(msg, src, dst, protoTCP, ref)
		}
	}
	if p.TCPFlags&(flagFIN|flagRST) != 0 {
		delete(e.dns.copies, k)
	}
}
