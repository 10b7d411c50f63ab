package analyze

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
)

// flowID is what sharding needs of a packet: its addresses, ports and protocol, without a VLAN or tunnel.
type flowID struct {
	src, dst     [2]uint64
	sport, dport uint16
	proto        uint8
	quoted       bool // the flow an ICMP error quotes: the error goes to its owner alone, even for DNS
}

// hash is the same for both directions of a flow and every VLAN it crosses: each endpoint's address and port
// are mixed on their own and the two results added, so the order of the endpoints does not matter, and VLANs
// are left out. The driver shares flows out between engines by it.
func (id *flowID) hash() uint64 {
	return mixWord(endpointHash(id.src, id.sport)+endpointHash(id.dst, id.dport), uint64(id.proto))
}

func endpointHash(addr [2]uint64, port uint16) uint64 {
	return mixWord(mixWord(addr[0], addr[1]), uint64(port))
}

// mixWord folds w into the hash h (multiply and xor-shift).
func mixWord(h, w uint64) uint64 {
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// dns reports whether the flow is DNS, which every engine reads for names (an ICMP error about DNS is not).
func (id *flowID) dns() bool { return !id.quoted && (id.sport == dnsPort || id.dport == dnsPort) }

// flowOfPacket is the flowID of a decoded packet: for an ICMP error, the flow of the packet it quotes (the hash
// is the same in both directions), so that the error reaches the engine that owns the connection.
func flowOfPacket(p *decode.Packet) flowID {
	if q := &p.ICMP; q.Kind != decode.ICMPNone && q.Src.IsValid() && q.Dst.IsValid() {
		return flowID{src: addrWords(q.Src), dst: addrWords(q.Dst), sport: q.SrcPort, dport: q.DstPort,
			proto: q.Proto, quoted: true}
	}
	src, dst := packetWords(p)
	return flowID{src: src, dst: dst, sport: p.SrcPort, dport: p.DstPort, proto: p.IPProto}
}

// quickFlow reads the flowID straight from an Ethernet frame's headers, so the reading goroutine can hand the
// frame to its engine undecoded and decoding runs in parallel. It reports false for anything it does not read
// whole (other link types, IP fragments, IPv6 extension headers, tunnels, cut headers): those frames are
// decoded by the reading goroutine, as with one engine. UDP to the VXLAN and GENEVE ports is left to the decoder
// too: it is sharded by the flow inside the tunnel.
func quickFlow(f *capture.Frame) (flowID, bool) {
	b := f.Data
	if f.LinkType != layers.LinkTypeEthernet || len(b) < 14 {
		return flowID{}, false
	}
	off, etype := 14, binary.BigEndian.Uint16(b[12:14])
	for etype == 0x8100 || etype == 0x88a8 || etype == 0x9100 {
		if len(b) < off+4 {
			return flowID{}, false
		}
		etype = binary.BigEndian.Uint16(b[off+2 : off+4])
		off += 4
	}
	switch etype {
	case 0x0800:
		return quickIPv4(b[off:])
	case 0x86dd:
		return quickIPv6(b[off:])
	}
	return flowID{}, false
}

func quickIPv4(ip []byte) (flowID, bool) {
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return flowID{}, false
	}
	ihl := int(ip[0]&0x0f) * 4
	fragment := ip[6]&0x20 != 0 || (uint16(ip[6]&0x1f)<<8|uint16(ip[7])) != 0
	if ihl < 20 || fragment || len(ip) < ihl+4 || (ip[9] != protoTCP && ip[9] != protoUDP) {
		return flowID{}, false
	}
	l4 := ip[ihl:]
	if ip[9] == protoUDP && tunnelPort(l4) {
		return flowID{}, false
	}
	return flowID{
		src:   [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip[12:16]))},
		dst:   [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip[16:20]))},
		sport: binary.BigEndian.Uint16(l4[0:2]), dport: binary.BigEndian.Uint16(l4[2:4]), proto: ip[9],
	}, true
}

func quickIPv6(ip []byte) (flowID, bool) {
	if len(ip) < 44 || ip[0]>>4 != 6 || (ip[6] != protoTCP && ip[6] != protoUDP) {
		return flowID{}, false
	}
	l4 := ip[40:]
	if ip[6] == protoUDP && tunnelPort(l4) {
		return flowID{}, false
	}
	return flowID{
		src:   [2]uint64{binary.BigEndian.Uint64(ip[8:16]), binary.BigEndian.Uint64(ip[16:24])},
		dst:   [2]uint64{binary.BigEndian.Uint64(ip[24:32]), binary.BigEndian.Uint64(ip[32:40])},
		sport: binary.BigEndian.Uint16(l4[0:2]), dport: binary.BigEndian.Uint16(l4[2:4]), proto: ip[6],
	}, true
}

// tunnelPort reports whether the UDP header l4 (at least 4 bytes) goes to the VXLAN or GENEVE port, which the
// decoder unwraps (the same test as its own).
func tunnelPort(l4 []byte) bool {
	port := binary.BigEndian.Uint16(l4[2:4])
	return port == portVXLAN || port == portGENEVE
}

// UDP ports of VXLAN (RFC 7348) and GENEVE (RFC 8926).
const (
	portVXLAN  = 4789
	portGENEVE = 6081
)
