package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

// TunnelKind names an encapsulation the decoder unwraps.
type TunnelKind uint8

// The encapsulations Decode looks into. Mirrored traffic from AWS VPC Traffic Mirroring and Azure virtual
// network TAP arrives in VXLAN; AWS Gateway Load Balancer uses GENEVE; Cisco and Juniper port mirroring
// uses ERSPAN over GRE.
const (
	TunnelNone   TunnelKind = iota
	TunnelVXLAN             // UDP port 4789, RFC 7348
	TunnelGENEVE            // UDP port 6081, RFC 8926
	TunnelGRE               // IP protocol 47, RFC 2784 and RFC 2890
	TunnelERSPAN            // GRE protocol 0x88BE (type I and II) or 0x22EB (type III)
	TunnelMPLS              // EtherType 0x8847 or 0x8848 (or GRE carrying them), RFC 3032
)

var tunnelNames = [...]string{"", "vxlan", "geneve", "gre", "erspan", "mpls"}

// String is the lower-case name used in the record field tunnel ("" for TunnelNone).
func (k TunnelKind) String() string {
	if int(k) < len(tunnelNames) {
		return tunnelNames[k]
	}
	return "tunnel-" + strconv.Itoa(int(k))
}

// Tunnel describes the outermost encapsulation Decode unwrapped to reach the packet it returns.
type Tunnel struct {
	Kind  TunnelKind // first: the engine reads it for every packet (Packet's layout)
	HasID bool
	Depth uint8 // encapsulations unwrapped in all (more than 1 when tunnels are nested)
	// ID is the VXLAN or GENEVE network identifier, the GRE key, the ERSPAN session id or the bottom MPLS label,
	// when HasID.
	ID       uint32
	Src, Dst netip.Addr // the outer IP header's addresses (invalid for MPLS straight over Ethernet)
}

// maxTunnelDepth bounds nesting: a frame needing more unwrapping than this is malformed.
const maxTunnelDepth = 3

var errTunnelDepth = fmt.Errorf("%w: more than %d nested tunnels", ErrMalformed, maxTunnelDepth)

// String gives the record field tunnel: the kind, the outer addresses as src>dst, and the identifier, e.g.
// "vxlan 10.0.0.1>10.0.0.2 vni 5", "gre 192.0.2.1>192.0.2.2 key 7", "erspan 192.0.2.1>192.0.2.2 session 100",
// "mpls label 16"; "" when there is no tunnel.
func (t Tunnel) String() string {
	if t.Kind == TunnelNone {
		return ""
	}
	b := []byte(t.Kind.String())
	if t.Src.IsValid() {
		b = append(b, ' ')
		b = t.Src.AppendTo(b)
		b = append(b, '>')
		b = t.Dst.AppendTo(b)
	}
	if t.HasID {
		b = append(b, ' ')
		b = append(b, t.idName()...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(t.ID), 10)
	}
	return string(b)
}

func (t Tunnel) idName() string {
	switch t.Kind {
	case TunnelVXLAN, TunnelGENEVE:
		return "vni"
	case TunnelGRE:
		return "key"
	case TunnelERSPAN:
		return "session"
	case TunnelMPLS:
		return "label"
	}
	return "id"
}

// UDP ports and the IP protocol number tunnels are recognised by.
const (
	portVXLAN  = 4789
	portGENEVE = 6081
	protoGRE   = 47
)

// mayTunnel tells the fast path which packets to leave to the layer parser because they may be tunnels:
// seg is the IP payload of protocol proto.
func mayTunnel(proto uint8, seg []byte) bool {
	if proto == protoGRE {
		return true
	}
	if proto != protoUDP || len(seg) < 4 {
		return false
	}
	port := binary.BigEndian.Uint16(seg[2:4])
	return port == portVXLAN || port == portGENEVE
}

// upper decodes the IP payload seg (wire bytes long on the wire) of p: the packet inside when it is a tunnel
// Decode unwraps, else the transport header.
func (d *Decoder) upper(f *capture.Frame, p *Packet, seg []byte, wire int) error {
	var (
		k     linkKind
		inner []byte
		t     Tunnel
		ok    bool
	)
	switch p.IPProto {
	case protoGRE:
		k, inner, t, ok = greInner(seg)
	case protoUDP:
		if len(seg) >= 8 {
			switch binary.BigEndian.Uint16(seg[2:4]) {
			case portVXLAN:
				k, inner, t, ok = vxlanInner(udpPayload(seg))
			case portGENEVE:
				k, inner, t, ok = geneveInner(udpPayload(seg))
			}
		}
	}
	if !ok {
		return d.transport(p, seg, wire)
	}
	t.Src, t.Dst = p.Src, p.Dst
	cut := len(seg) < wire
	*p = Packet{VLAN: p.VLAN, Tunnel: p.Tunnel}
	if err := d.enter(p, t); err != nil {
		return err
	}
	return d.parse(k, inner, cut, f, p)
}

// enter counts one more encapsulation and records t when it is the outermost.
func (d *Decoder) enter(p *Packet, t Tunnel) error {
	if d.depth >= maxTunnelDepth {
		return errTunnelDepth
	}
	d.depth++
	if p.Tunnel.Kind == TunnelNone {
		p.Tunnel = t
	}
	p.Tunnel.Depth = uint8(d.depth)
	return nil
}

// udpPayload is a UDP datagram's payload, bounded by its length field when that is consistent.
func udpPayload(seg []byte) []byte {
	if n := int(binary.BigEndian.Uint16(seg[4:6])); n >= 8 && n <= len(seg) {
		return seg[8:n]
	}
	return seg[8:]
}

// vxlanInner reads a VXLAN header (RFC 7348: the I flag set, a 24-bit VNI); an Ethernet frame follows.
func vxlanInner(b []byte) (linkKind, []byte, Tunnel, bool) {
	if len(b) < 8 || b[0]&0x08 == 0 {
		return 0, nil, Tunnel{}, false
	}
	t := Tunnel{Kind: TunnelVXLAN, ID: binary.BigEndian.Uint32(b[4:8]) >> 8, HasID: true}
	return kindEthernet, b[8:], t, true
}

// geneveInner reads a GENEVE header (RFC 8926: version 0), skips its options and follows its protocol type:
// Ethernet, IPv4 or IPv6.
func geneveInner(b []byte) (linkKind, []byte, Tunnel, bool) {
	if len(b) < 8 || b[0]>>6 != 0 {
		return 0, nil, Tunnel{}, false
	}
	n := 8 + int(b[0]&0x3f)*4
	k, ok := innerKind(binary.BigEndian.Uint16(b[2:4]))
	if len(b) < n || !ok || k == kindMPLS {
		return 0, nil, Tunnel{}, false
	}
	t := Tunnel{Kind: TunnelGENEVE, ID: binary.BigEndian.Uint32(b[4:8]) >> 8, HasID: true}
	return k, b[n:], t, true
}

// innerKind maps the protocol type of GRE and GENEVE to the parser of what follows.
func innerKind(proto uint16) (linkKind, bool) {
	switch proto {
	case 0x0800:
		return kindIPv4, true
	case 0x86dd:
		return kindIPv6, true
	case 0x6558: // transparent Ethernet bridging
		return kindEthernet, true
	case 0x8847, 0x8848:
		return kindMPLS, true
	}
	return 0, false
}

// greInner reads a GRE header (RFC 2784 version 0, with RFC 2890's key and sequence number; not RFC 1701's
// routing, nor version 1, PPTP's) and, for ERSPAN, the ERSPAN header after it.
func greInner(b []byte) (linkKind, []byte, Tunnel, bool) {
	if len(b) < 4 || b[0]&0x4f != 0 || b[1]&0x07 != 0 {
		return 0, nil, Tunnel{}, false
	}
	n := 4
	if b[0]&0x80 != 0 { // checksum and reserved
		n += 4
	}
	t := Tunnel{Kind: TunnelGRE}
	if b[0]&0x20 != 0 {
		if len(b) < n+4 {
			return 0, nil, Tunnel{}, false
		}
		t.ID, t.HasID = binary.BigEndian.Uint32(b[n:n+4]), true
		n += 4
	}
	seq := b[0]&0x10 != 0
	if seq {
		n += 4
	}
	if len(b) < n {
		return 0, nil, Tunnel{}, false
	}
	proto, body := binary.BigEndian.Uint16(b[2:4]), b[n:]
	switch proto {
	case 0x88be:
		return erspan2(body, seq)
	case 0x22eb:
		return erspan3(body)
	}
	k, ok := innerKind(proto)
	return k, body, t, ok
}

// erspan2 reads ERSPAN type II (version 1, 8 bytes), or type I (no header at all) when GRE had no sequence
// number; the mirrored Ethernet frame follows.
func erspan2(b []byte, seq bool) (linkKind, []byte, Tunnel, bool) {
	if !seq {
		return kindEthernet, b, Tunnel{Kind: TunnelERSPAN}, true
	}
	if len(b) < 8 || b[0]>>4 != 1 {
		return 0, nil, Tunnel{}, false
	}
	t := Tunnel{Kind: TunnelERSPAN, ID: uint32(binary.BigEndian.Uint16(b[2:4]) & 0x03ff), HasID: true}
	return kindEthernet, b[8:], t, true
}

// erspan3 reads ERSPAN type III (version 2, 12 bytes, then 8 of platform-specific data when the O flag is
// set); the frame type says whether an Ethernet frame (0) or an IP packet (2) follows.
func erspan3(b []byte) (linkKind, []byte, Tunnel, bool) {
	if len(b) < 12 || b[0]>>4 != 2 {
		return 0, nil, Tunnel{}, false
	}
	n := 12
	if b[11]&0x01 != 0 {
		n += 8
	}
	var k linkKind
	switch (b[10] >> 2) & 0x1f {
	case 0:
		k = kindEthernet
	case 2:
		k = kindRaw
	default:
		return 0, nil, Tunnel{}, false
	}
	if len(b) < n {
		return 0, nil, Tunnel{}, false
	}
	t := Tunnel{Kind: TunnelERSPAN, ID: uint32(binary.BigEndian.Uint16(b[2:4]) & 0x03ff), HasID: true}
	return k, b[n:], t, true
}

// maxMPLSLabels bounds the label stack.
const maxMPLSLabels = 16

// mplsLayer reads an MPLS label stack down to its bottom entry and picks IPv4 or IPv6 by the version nibble
// after it (MPLS names no payload type). Pseudowires carrying Ethernet are not read.
type mplsLayer struct {
	label   uint32 // bottom of stack
	seen    bool   // a stack was read in this frame (the Decoder resets it)
	next    gopacket.LayerType
	payload []byte
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layerTypeMPLS }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *mplsLayer) LayerPayload() []byte              { return l.payload }

func (l *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	for i := 0; ; i += 4 {
		if i == 4*maxMPLSLabels {
			return fmt.Errorf("%w: more than %d mpls labels", ErrMalformed, maxMPLSLabels)
		}
		if len(data) < i+4 {
			df.SetTruncated()
			return ErrTruncated
		}
		e := binary.BigEndian.Uint32(data[i : i+4])
		if e&0x100 != 0 { // bottom of stack
			l.label, l.payload = e>>12, data[i+4:]
			break
		}
	}
	if len(l.payload) == 0 {
		df.SetTruncated()
		return ErrTruncated
	}
	switch l.payload[0] >> 4 {
	case 4:
		l.next = layers.LayerTypeIPv4
	case 6:
		l.next = layers.LayerTypeIPv6
	default:
		return ErrNotIP
	}
	l.seen = true
	return nil
}
