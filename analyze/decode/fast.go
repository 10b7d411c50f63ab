package decode

import (
	"encoding/binary"
	"net/netip"
)

// decodeEthernetFast decodes the frames gateway captures are made of by reading their headers in place:
// Ethernet with at most two VLAN tags, then IPv4 without options and not fragmented, or IPv6 without extension
// headers, then whatever transport follows, unless it may be a tunnel (GRE, UDP to the VXLAN or GENEVE port:
// unwrapping stays in one place, the layer parser's). It reports false, having decided nothing, for every
// other frame, which the layer parser then decodes. Where it answers, the answer is the layer parser's, field for field and
// error for error (FuzzDecode compares the two on every input); it is only cheaper, since it skips the parser's
// per-layer dispatch and the fields nobody reads.
func (d *Decoder) decodeEthernetFast(b []byte, p *Packet) (bool, error) {
	*p = Packet{}
	if len(b) < 14 {
		return false, nil
	}
	etype := binary.BigEndian.Uint16(b[12:14])
	b = b[14:]
	for n := 0; isVLANType(etype); n++ {
		if n == len(p.VLAN) || len(b) < 4 {
			return false, nil
		}
		p.VLAN[n] = binary.BigEndian.Uint16(b[0:2]) & 0x0fff
		etype = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch etype {
	case 0x0800:
		return d.fastIPv4(b, p)
	case 0x86dd:
		return d.fastIPv6(b, p)
	}
	return false, nil
}

// isVLANType reports the EtherTypes etherNext follows as VLAN tags.
func isVLANType(t uint16) bool {
	return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200 || t == 0x9300
}

// fastIPv4 takes a version-4 header of 20 bytes (no options) that is not a fragment and whose total length is
// set (not 0, as with segmentation offload).
func (d *Decoder) fastIPv4(b []byte, p *Packet) (bool, error) {
	if len(b) < 20 || b[0] != 0x45 {
		return false, nil
	}
	length := int(binary.BigEndian.Uint16(b[2:4]))
	if length < 20 || binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 { // more-fragments flag or an offset
		return false, nil
	}
	if len(b) > length {
		b = b[:length] // Ethernet padding
	}
	if mayTunnel(b[9], b[20:]) {
		return false, nil
	}
	src, dst := [4]byte(b[12:16]), [4]byte(b[16:20])
	p.Src, p.Dst = netip.AddrFrom4(src), netip.AddrFrom4(dst)
	p.SrcWords = [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(src[:]))}
	p.DstWords = [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(dst[:]))}
	p.IPProto = b[9]
	p.IPID, p.HasIPID = binary.BigEndian.Uint16(b[4:6]), true
	p.IPv4Header, d.unverifiable = b[:20], false
	return true, d.transport(p, b[20:], length-20)
}

// fastIPv6 takes a version-6 header followed directly by TCP, UDP or ICMPv6, with a payload length set (not a
// jumbogram).
func (d *Decoder) fastIPv6(b []byte, p *Packet) (bool, error) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return false, nil
	}
	length, next := int(binary.BigEndian.Uint16(b[4:6])), b[6]
	if length == 0 || (next != protoTCP && next != protoUDP && next != protoICMPv6) {
		return false, nil
	}
	seg := b[40:]
	if len(seg) > length {
		seg = seg[:length]
	}
	if mayTunnel(next, seg) {
		return false, nil
	}
	p.Src, p.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	p.SrcWords = [2]uint64{binary.BigEndian.Uint64(b[8:16]), binary.BigEndian.Uint64(b[16:24])}
	p.DstWords = [2]uint64{binary.BigEndian.Uint64(b[24:32]), binary.BigEndian.Uint64(b[32:40])}
	p.IPProto = next
	d.unverifiable = false
	return true, d.transport(p, seg, length)
}

// IP protocol numbers the fast path passes on.
const (
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)
