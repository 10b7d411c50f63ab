package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

// udp handles one datagram: DNS on port 53 becomes an exchange; anything else to a unicast address is a flow
// whose answer, or lack of one, is its outcome.
func (e *Engine) udp(p *decode.Packet, ref frameRef, ts time.Time, wire int) {
	if isDNS(p) {
		e.verifyChecksums(p)
		e.dnsOverUDP(p, ref, ts, wire)
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
		if c.fromClient(fromLo) && c.srvPort() == quicPort && looksLikeQUICInitial(p.Payload) {
			e.startQUIC(c)
		}
	}
	fromClient := c.fromClient(fromLo)
	if c.quic != nil && c.quic.flow != nil && len(p.Payload) > 0 {
		e.quicDatagram(c, p, fromClient, ref)
	}
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
