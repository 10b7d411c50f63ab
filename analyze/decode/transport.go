package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
)

// transport decodes the TCP or UDP header of seg, whose length according to the IP header is wire. Other
// protocols pass through with no ports; an ICMP error's quote fills p.ICMP (the packet it quotes is not
// returned as traffic).
func (d *Decoder) transport(p *Packet, seg []byte, wire int) error {
	p.Truncated = len(seg) < wire
	if !p.Truncated && wire >= 0 && !d.unverifiable {
		p.Segment = seg[:wire]
	}
	switch p.IPProto {
	case protoTCP:
		return d.fromTCP(p, seg, wire)
	case protoUDP:
		return d.fromUDP(p, seg, wire)
	case protoICMPv4, protoICMPv6:
		icmpError(p, seg)
	}
	p.Payload, p.PayloadWireLen = seg, max(wire, len(seg))
	return nil
}

// fromTCP keeps what a snaplen-cut TCP header still gives (ports, sequence numbers, flags: the first 14 bytes),
// since flow state needs the flags more than the payload.
func (d *Decoder) fromTCP(p *Packet, seg []byte, wire int) error {
	if len(seg) < 14 {
		return d.short(p)
	}
	p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
	p.DstPort = binary.BigEndian.Uint16(seg[2:4])
	p.Seq = binary.BigEndian.Uint32(seg[4:8])
	p.Ack = binary.BigEndian.Uint32(seg[8:12])
	p.TCPFlags = seg[13]
	hdr := int(seg[12]>>4) * 4
	if hdr < 20 {
		return errTCPOffset
	}
	if hdr > len(seg) {
		if !p.Truncated {
			return errTCPOffset
		}
		p.PayloadWireLen = max(wire-hdr, 0)
		return nil
	}
	// The header is whole (20 <= hdr <= len(seg)): gopacket's TCP layer could only add the options, which
	// nothing here reads.
	p.Payload = seg[hdr:]
	p.PayloadWireLen = max(wire-hdr, len(p.Payload))
	return nil
}

// fromUDP takes the payload length from the UDP header when it has one: in a first IPv6 fragment the IP length
// covers only the fragment.
func (d *Decoder) fromUDP(p *Packet, seg []byte, wire int) error {
	if len(seg) < 8 {
		if len(seg) >= 4 && p.Truncated {
			p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
			p.DstPort = binary.BigEndian.Uint16(seg[2:4])
			p.PayloadWireLen = max(wire-8, 0)
			return nil
		}
		return d.short(p)
	}
	if err := d.udp.DecodeFromBytes(seg, gopacket.NilDecodeFeedback); err != nil {
		return classify(err, p.Truncated)
	}
	p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
	p.Payload = d.udp.Payload
	if d.udp.Length >= 8 {
		p.PayloadWireLen = int(d.udp.Length) - 8
	} else {
		p.PayloadWireLen = wire - 8
	}
	p.PayloadWireLen = max(p.PayloadWireLen, len(p.Payload))
	return nil
}

// short is the answer for a transport header too short to give ports.
func (d *Decoder) short(p *Packet) error {
	if p.Truncated {
		return ErrTruncated
	}
	return errShortTransport
}
