package decode

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	vtep1, vtep2   = netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	vtep61, vtep62 = netip.MustParseAddr("2001:db8:9::1"), netip.MustParseAddr("2001:db8:9::2")
)

// outer serializes, with gopacket, an Ethernet frame whose IP header (IPv4 vtep1>vtep2, or IPv6
// vtep61>vtep62) of protocol proto carries the tunnel layers ls and then inner, the tunnelled bytes.
func outer(t testing.TB, v6 bool, proto layers.IPProtocol, inner []byte, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	var ip gopacket.NetworkLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: vtep61.AsSlice(), DstIP: vtep62.AsSlice()}
	} else {
		ip = &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: vtep1.AsSlice(), DstIP: vtep2.AsSlice()}
	}
	for _, l := range ls {
		if u, ok := l.(*layers.UDP); ok {
			u.SetNetworkLayerForChecksum(ip)
		}
	}
	all := append([]gopacket.SerializableLayer{eth, ip.(gopacket.SerializableLayer)}, ls...)
	return serialize(t, append(all, gopacket.Payload(inner))...)
}

func udpTo(port layers.UDPPort) *layers.UDP { return &layers.UDP{SrcPort: 54321, DstPort: port} }

// ethernetOf serializes an Ethernet header with gopacket in front of an IP packet.
func ethernetOf(t testing.TB, ip []byte) []byte {
	et := layers.EthernetTypeIPv4
	if ip[0]>>4 == 6 {
		et = layers.EthernetTypeIPv6
	}
	return serialize(t, &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: et},
		gopacket.Payload(ip))
}

// erspan3Header is an ERSPAN type III header (gopacket has no serializer for it): session 300, frame type
// Ethernet, with the optional platform-specific subheader when sub.
func erspan3Header(sub bool) []byte {
	h := []byte{0x20, 0x0a, 0x01, 0x2c, 0, 0, 0, 1, 0, 0, 0, 0} // version 2, VLAN 10, session 300
	if sub {
		h[11] |= 1
		h = append(h, make([]byte, 8)...)
	}
	return h
}

func withTunnel(p Packet, kind TunnelKind, v6 bool, id uint32, hasID bool, depth uint8) Packet {
	p.Tunnel = Tunnel{Kind: kind, ID: id, HasID: hasID, Depth: depth, Src: vtep1, Dst: vtep2}
	if v6 {
		p.Tunnel.Src, p.Tunnel.Dst = vtep61, vtep62
	}
	if kind == TunnelMPLS {
		p.Tunnel.Src, p.Tunnel.Dst = netip.Addr{}, netip.Addr{}
	}
	return p
}

func TestTunnels(t *testing.T) {
	ip4syn := v4(t, syn(), nil)
	ip6data := v6(t, data(), hello)
	eth4 := ethernetOf(t, ip4syn)
	eth6 := ethernetOf(t, ip6data)
	syn4, data6 := want4(FlagSYN, nil), want6(FlagPSH|FlagACK, hello)
	greKey := &layers.GRE{Protocol: layers.EthernetTypeIPv4, KeyPresent: true, Key: 77}
	geneveOpts := cat([]byte{0x02, 0, 0x08, 0x00, 0, 0, 9, 0}, // 2 words of options, IPv4, VNI 9
		[]byte{0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd}) // one option with 4 data bytes
	tests := []decodeCase{
		{"vxlan", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP, eth4, udpTo(4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 5})), withTunnel(syn4, TunnelVXLAN, false, 5, true, 1)},
		{"vxlan over ipv6, inner ipv6", frame(layers.LinkTypeEthernet, outer(t, true, layers.IPProtocolUDP, eth6,
			udpTo(4789), &layers.VXLAN{ValidIDFlag: true, VNI: 0xabcdef})),
			withTunnel(data6, TunnelVXLAN, true, 0xabcdef, true, 1)},
		{"geneve ethernet", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP, eth4, udpTo(6081),
			&layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 7})),
			withTunnel(syn4, TunnelGENEVE, false, 7, true, 1)},
		{"geneve ipv6", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP, ip6data, udpTo(6081),
			&layers.Geneve{Protocol: layers.EthernetTypeIPv6, VNI: 8})), withTunnel(data6, TunnelGENEVE, false, 8, true, 1)},
		{"geneve options skipped", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP,
			cat(geneveOpts, ip4syn), udpTo(6081))), withTunnel(syn4, TunnelGENEVE, false, 9, true, 1)},
		{"gre ipv4", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, ip4syn,
			&layers.GRE{Protocol: layers.EthernetTypeIPv4})), withTunnel(syn4, TunnelGRE, false, 0, false, 1)},
		{"gre key", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, ip4syn, greKey)),
			withTunnel(syn4, TunnelGRE, false, 77, true, 1)},
		{"gre checksum key sequence over ipv6", frame(layers.LinkTypeEthernet, outer(t, true, layers.IPProtocolGRE,
			ip6data, &layers.GRE{Protocol: layers.EthernetTypeIPv6, ChecksumPresent: true, KeyPresent: true, Key: 3,
				SeqPresent: true, Seq: 99})), withTunnel(data6, TunnelGRE, true, 3, true, 1)},
		{"gre transparent ethernet", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, eth6,
			&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging})),
			withTunnel(data6, TunnelGRE, false, 0, false, 1)},
		{"gre mpls", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, ip4syn,
			&layers.GRE{Protocol: layers.EthernetTypeMPLSUnicast}, &layers.MPLS{Label: 1000, StackBottom: true, TTL: 9})),
			withTunnel(syn4, TunnelGRE, false, 0, false, 2)},
		{"erspan type ii", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, eth4,
			&layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true, Seq: 1},
			&layers.ERSPANII{Version: 1, SessionID: 100})), withTunnel(syn4, TunnelERSPAN, false, 100, true, 1)},
		{"erspan type i", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE, eth4,
			&layers.GRE{Protocol: layers.EthernetTypeERSPAN})), withTunnel(syn4, TunnelERSPAN, false, 0, false, 1)},
		{"erspan type iii", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE,
			cat(erspan3Header(false), eth4), &layers.GRE{Protocol: 0x22eb, SeqPresent: true})),
			withTunnel(syn4, TunnelERSPAN, false, 300, true, 1)},
		{"erspan type iii with subheader", frame(layers.LinkTypeEthernet, outer(t, true, layers.IPProtocolGRE,
			cat(erspan3Header(true), eth6), &layers.GRE{Protocol: 0x22eb, SeqPresent: true})),
			withTunnel(data6, TunnelERSPAN, true, 300, true, 1)},
		{"mpls stack", frame(layers.LinkTypeEthernet, serialize(t, &layers.Ethernet{SrcMAC: make([]byte, 6),
			DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeMPLSUnicast}, &layers.MPLS{Label: 16, TTL: 64},
			&layers.MPLS{Label: 200, StackBottom: true, TTL: 64}, gopacket.Payload(ip4syn))),
			withTunnel(syn4, TunnelMPLS, false, 200, true, 1)},
		{"mpls multicast ipv6 after a vlan tag", frame(layers.LinkTypeEthernet, ether(0x8100, cat(tag(7, 0x8848),
			serialize(t, &layers.MPLS{Label: 17, StackBottom: true, TTL: 1}, gopacket.Payload(ip6data))))),
			withVLAN(withTunnel(data6, TunnelMPLS, false, 17, true, 1), 7, 0)},
		{"vxlan in gre", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolGRE,
			outer(t, true, layers.IPProtocolUDP, eth4, udpTo(4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1}),
			&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging})),
			withTunnel(syn4, TunnelGRE, false, 0, false, 2)},
		{"not vxlan: I flag clear", frame(layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP, eth4,
			udpTo(4789), &layers.VXLAN{VNI: 5})), Packet{Src: vtep1, Dst: vtep2, IPProto: 17, SrcPort: 54321,
			DstPort: 4789, Payload: cat([]byte{0, 0, 0, 0, 0, 0, 5, 0}, eth4), PayloadWireLen: 8 + len(eth4), HasIPID: true}},
	}
	runDecodeCases(t, tests)
	for _, tt := range tests {
		if checkFastPath(t, NewDecoder(Options{}), tt.f) {
			t.Errorf("%s: the fast path answered a tunnel", tt.name)
		}
		if tt.want.Tunnel.Kind != TunnelNone {
			compareWithGopacket(t, tt.name, tt.f.Data)
		}
	}
}

// compareWithGopacket decodes a tunnelled frame with gopacket's own decoders, where it has them, and compares
// the innermost addresses and ports and the outermost tunnel's identifier with the decoder's.
func compareWithGopacket(t *testing.T, name string, b []byte) {
	t.Helper()
	var p Packet
	if err := NewDecoder(Options{}).Decode(ptr(frame(layers.LinkTypeEthernet, b)), &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	var src, dst netip.Addr
	var id uint32
	var idSeen, tunnelSeen bool
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, dst = netip.AddrFrom4([4]byte(l.SrcIP)), netip.AddrFrom4([4]byte(l.DstIP))
		case *layers.IPv6:
			src, dst = netip.AddrFrom16([16]byte(l.SrcIP)), netip.AddrFrom16([16]byte(l.DstIP))
		case *layers.VXLAN:
			id, idSeen = first(id, l.VNI, idSeen, tunnelSeen)
		case *layers.Geneve:
			id, idSeen = first(id, l.VNI, idSeen, tunnelSeen)
		case *layers.GRE:
			if l.Protocol == layers.EthernetTypeERSPAN {
				continue // GRE and ERSPAN are one tunnel: the session names it
			}
			if l.KeyPresent {
				id, idSeen = first(id, l.Key, idSeen, tunnelSeen)
			}
		case *layers.ERSPANII:
			id, idSeen = first(id, uint32(l.SessionID), idSeen, tunnelSeen)
		case *layers.MPLS:
			if !l.StackBottom {
				continue // the bottom label names the tunnel
			}
			id, idSeen = first(id, l.Label, idSeen, tunnelSeen)
		default:
			continue
		}
		if _, ok := l.(gopacket.NetworkLayer); !ok {
			tunnelSeen = true
		}
	}
	tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Logf("%s: gopacket does not reach the inner TCP header (%v); not compared", name, pkt.ErrorLayer())
		return
	}
	if p.Src != src || p.Dst != dst || p.SrcPort != uint16(tcp.SrcPort) || p.DstPort != uint16(tcp.DstPort) {
		t.Errorf("%s: inner %v:%d > %v:%d, gopacket %v:%d > %v:%d", name, p.Src, p.SrcPort, p.Dst, p.DstPort, src,
			tcp.SrcPort, dst, tcp.DstPort)
	}
	t.Logf("%s: compared with gopacket (tunnel id %d, %v)", name, id, idSeen)
	if idSeen && (!p.Tunnel.HasID || p.Tunnel.ID != id) {
		t.Errorf("%s: tunnel id %d (%v), gopacket %d", name, p.Tunnel.ID, p.Tunnel.HasID, id)
	}
}

// first keeps the identifier of the outermost tunnel layer: the first one seen before any other tunnel layer.
func first(cur, v uint32, seen, tunnelBefore bool) (uint32, bool) {
	if seen || tunnelBefore {
		return cur, seen
	}
	return v, true
}

func TestTunnelErrors(t *testing.T) {
	eth4 := ethernetOf(t, v4(t, syn(), nil))
	nested := eth4
	for range maxTunnelDepth + 1 {
		nested = outer(t, false, layers.IPProtocolUDP, nested, udpTo(4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1})
	}
	arp := serialize(t, &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6),
		EthernetType: layers.EthernetTypeARP}, gopacket.Payload(make([]byte, 28)))
	vx := outer(t, false, layers.IPProtocolUDP, eth4, udpTo(4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1})
	gre1 := outer(t, false, layers.IPProtocolGRE, nil, &layers.GRE{Protocol: 0x880b, Version: 1})
	mplsEth := ether(0x8847, cat([]byte{0, 1, 1, 64}, make([]byte, 4), eth4)) // control word then Ethernet
	tests := []struct {
		name  string
		b     []byte
		wire  int
		want  error
		proto uint8
	}{
		{"too deep", nested, 0, errTunnelDepth, 0},
		{"arp in vxlan", outer(t, false, layers.IPProtocolUDP, arp, udpTo(4789), &layers.VXLAN{ValidIDFlag: true}), 0,
			ErrNotIP, 0},
		{"cut inside the inner ip header", vx[:14+20+8+8+14+10], len(vx), ErrTruncated, 0},
		{"gre version 1 passes as gre", gre1, 0, nil, protoGRE},
		{"mpls pseudowire", mplsEth, 0, ErrNotIP, 0},
		{"mpls without bottom of stack", ether(0x8847, []byte{0, 1, 0, 64, 0, 2, 0, 64}), 0, ErrTruncated, 0},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		f := frame(layers.LinkTypeEthernet, tt.b)
		if tt.wire > 0 {
			f.WireLen = tt.wire
		}
		var p Packet
		err := d.Decode(&f, &p)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) || p.IPProto != tt.proto {
			t.Errorf("%s: error %v ip protocol %d, want %v %d", tt.name, err, p.IPProto, tt.want, tt.proto)
		}
	}
}

// TestTunnelCut: a frame cut inside the inner payload still decodes the inner packet, marked truncated.
func TestTunnelCut(t *testing.T) {
	vx := outer(t, false, layers.IPProtocolUDP, ethernetOf(t, v4(t, data(), hello)), udpTo(4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: 5})
	f := frame(layers.LinkTypeEthernet, vx[:len(vx)-5])
	f.WireLen = len(vx)
	want := withTunnel(want4(FlagPSH|FlagACK, hello[:len(hello)-5]), TunnelVXLAN, false, 5, true, 1)
	want.PayloadWireLen, want.Truncated = len(hello), true
	runDecodeCases(t, []decodeCase{{"cut", f, want}})
}

func TestTunnelString(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		t    Tunnel
		want string
	}{
		{Tunnel{Kind: TunnelVXLAN, Src: a("10.0.0.1"), Dst: a("10.0.0.2"), ID: 5, HasID: true, Depth: 1},
			"vxlan 10.0.0.1>10.0.0.2 vni 5"},
		{Tunnel{Kind: TunnelGENEVE, Src: a("2001:db8::1"), Dst: a("2001:db8::2"), ID: 0, HasID: true},
			"geneve 2001:db8::1>2001:db8::2 vni 0"},
		{Tunnel{Kind: TunnelGRE, Src: a("192.0.2.1"), Dst: a("192.0.2.2")}, "gre 192.0.2.1>192.0.2.2"},
		{Tunnel{Kind: TunnelGRE, Src: a("192.0.2.1"), Dst: a("192.0.2.2"), ID: 7, HasID: true}, "gre 192.0.2.1>192.0.2.2 key 7"},
		{Tunnel{Kind: TunnelERSPAN, Src: a("192.0.2.1"), Dst: a("192.0.2.2"), ID: 100, HasID: true},
			"erspan 192.0.2.1>192.0.2.2 session 100"},
		{Tunnel{Kind: TunnelMPLS, ID: 16, HasID: true}, "mpls label 16"},
		{Tunnel{}, ""},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.t, got, tt.want)
		}
	}
}
