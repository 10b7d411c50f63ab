package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

// isDNS reports whether a UDP or TCP packet is DNS: to or from port 53.
func isDNS(p *decode.Packet) bool { return p.SrcPort == dnsPort || p.DstPort == dnsPort }

// dnsOverUDP handles one DNS datagram this engine reports: each datagram is one message.
func (e *Engine) dnsOverUDP(p *decode.Packet, ref frameRef, ts time.Time, wire int) {
	if len(p.Payload) > 0 {
		e.exchangeMessage(p.Payload, endpoint{p.Src, p.SrcPort}, endpoint{p.Dst, p.DstPort}, protoUDP, p.VLAN,
			ref, ts, wire, len(p.Payload) < p.PayloadWireLen, e.preparedDNS)
	}
}

// learnDNS reads a copy of a DNS packet that another engine reports, over UDP or TCP, for names only.
func (e *Engine) learnDNS(p *decode.Packet, ref frameRef) {
	if len(p.Payload) == 0 {
		return
	}
	if p.IPProto == protoUDP {
		e.learnMessage(p.Payload, endpoint{p.Src, p.SrcPort}, endpoint{p.Dst, p.DstPort}, protoUDP, ref)
		return
	}
	e.learnDNSOverTCP(p, ref)
}
