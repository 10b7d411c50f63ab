package decode

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

var router4, router6 = netip.MustParseAddr("192.0.2.254"), netip.MustParseAddr("2001:db8::fe")

// icmpError4 serializes, with gopacket, an ICMPv4 error from router4 to cli4 quoting the first n bytes of
// quoted (all of them when n < 0).
func icmpError4(t testing.TB, typ, code uint8, quoted []byte, n int) []byte {
	if n >= 0 {
		quoted = quoted[:n]
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: testIPID, Protocol: layers.IPProtocolICMPv4,
		SrcIP: router4.AsSlice(), DstIP: cli4.AsSlice()}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)}
	return serialize(t, ip, icmp, gopacket.Payload(quoted))
}

// icmpError6 serializes an ICMPv6 error from router6 to cli6 quoting the first n bytes of quoted.
func icmpError6(t testing.TB, typ, code uint8, quoted []byte, n int) []byte {
	if n >= 0 {
		quoted = quoted[:n]
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: router6.AsSlice(),
		DstIP: cli6.AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	// gopacket's ICMPv6 layer is the first 4 bytes; the 4 unused bytes of an error message are its payload.
	return serialize(t, ip, icmp, gopacket.Payload(append(make([]byte, 4), quoted...)))
}

// referenceQuote is what gopacket finds in a whole quoted packet: the ICMP fields the decoder must give for a
// quote long enough to hold them.
func referenceQuote(t *testing.T, quoted []byte, first gopacket.LayerType) ICMP {
	t.Helper()
	pkt := gopacket.NewPacket(quoted, first, gopacket.Default)
	var m ICMP
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		m.Src, m.Dst, m.Proto = netip.AddrFrom4([4]byte(ip.SrcIP)), netip.AddrFrom4([4]byte(ip.DstIP)), uint8(ip.Protocol)
	case *layers.IPv6:
		m.Src, m.Dst = netip.AddrFrom16([16]byte(ip.SrcIP)), netip.AddrFrom16([16]byte(ip.DstIP))
		m.Proto = uint8(ip.NextHeader)
		for _, l := range pkt.Layers() { // the last extension header names the transport
			switch e := l.(type) {
			case *layers.IPv6Destination:
				m.Proto = uint8(e.NextHeader)
			case *layers.IPv6Routing:
				m.Proto = uint8(e.NextHeader)
			}
		}
	default:
		t.Fatalf("gopacket finds no network layer in % x", quoted)
	}
	switch tr := pkt.TransportLayer().(type) {
	case *layers.TCP:
		m.SrcPort, m.DstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
	case *layers.UDP:
		m.SrcPort, m.DstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
	default:
		t.Fatalf("gopacket finds no transport layer in % x", quoted)
	}
	m.Complete = true
	return m
}

// TestICMPQuoteReference builds ICMP errors quoting TCP and UDP packets over IPv4 (with and without options)
// and IPv6 (with and without extension headers), whole and cut at every interesting length, and compares the
// quote the decoder reads with gopacket's decoding of the quoted packet.
func TestICMPQuoteReference(t *testing.T) {
	opt4 := func(pkt []byte) []byte { // an IPv4 header with 8 bytes of options (NOP padding)
		out := cat(pkt[:20], []byte{1, 1, 1, 1, 1, 1, 1, 0}, pkt[20:])
		out[0] = 0x47
		out[3] += 8
		return out
	}
	type quote struct {
		name  string
		v6    bool
		pkt   []byte
		ihl   int // bytes before the transport header
		typ   uint8
		code  uint8
		kind  ICMPKind
		first gopacket.LayerType
	}
	quotes := []quote{
		{"ipv4 tcp prohibited", false, v4(t, syn(), nil), 20, 3, 13, ICMPUnreachable, layers.LayerTypeIPv4},
		{"ipv4 udp port unreachable", false, v4(t, dnsUDP(), hello), 20, 3, 3, ICMPUnreachable, layers.LayerTypeIPv4},
		{"ipv4 options tcp", false, opt4(v4(t, syn(), nil)), 28, 3, 10, ICMPUnreachable, layers.LayerTypeIPv4},
		{"ipv4 udp time exceeded", false, v4(t, dnsUDP(), hello), 20, 11, 0, ICMPTimeExceeded, layers.LayerTypeIPv4},
		{"ipv6 tcp prohibited", true, v6(t, syn(), nil), 40, 1, 1, ICMPUnreachable, layers.LayerTypeIPv6},
		{"ipv6 udp port unreachable", true, v6(t, dnsUDP(), hello), 40, 1, 4, ICMPUnreachable, layers.LayerTypeIPv6},
		{"ipv6 routing+destination udp", true, withExt(v6(t, dnsUDP(), hello), routing, destLong), 64, 1, 4,
			ICMPUnreachable, layers.LayerTypeIPv6},
		{"ipv6 tcp hop limit", true, v6(t, syn(), nil), 40, 3, 0, ICMPTimeExceeded, layers.LayerTypeIPv6},
	}
	d := NewDecoder(Options{})
	for _, q := range quotes {
		ref := referenceQuote(t, q.pkt, q.first)
		// Lengths: whole, RFC 792's header + 8 bytes, ports only, half a port, header only, less than a header.
		for _, n := range []int{-1, q.ihl + 8, q.ihl + 4, q.ihl + 2, q.ihl, q.ihl - 1, 0} {
			want := ICMP{Kind: q.kind, Type: q.typ, Code: q.code, IPv6: q.v6}
			minHeader := 20
			if q.v6 {
				minHeader = 40
			}
			if n < 0 || n >= minHeader {
				want.Src, want.Dst = ref.Src, ref.Dst
			}
			if n < 0 || n >= q.ihl {
				want.Proto = ref.Proto
			}
			if n < 0 || n >= q.ihl+4 {
				want.SrcPort, want.DstPort, want.Complete = ref.SrcPort, ref.DstPort, true
			}
			if !q.v6 && n >= minHeader { // IPv4 names the protocol in its fixed header, options or not
				want.Proto = ref.Proto
			}
			var b []byte
			var wantSrc netip.Addr
			var proto uint8
			if q.v6 {
				b, wantSrc, proto = icmpError6(t, q.typ, q.code, q.pkt, n), router6, protoICMPv6
			} else {
				b, wantSrc, proto = icmpError4(t, q.typ, q.code, q.pkt, n), router4, protoICMPv4
			}
			for _, f := range []capture.Frame{frame(layers.LinkTypeRaw, b), frame(layers.LinkTypeEthernet, ether(etherType(q.v6), b))} {
				var p Packet
				if err := d.Decode(&f, &p); err != nil {
					t.Fatalf("%s, %d bytes: %v", q.name, n, err)
				}
				if f.LinkType == layers.LinkTypeEthernet {
					checkFastPath(t, d, f)
				}
				if p.ICMP != want || p.Src != wantSrc || p.IPProto != proto || p.SrcPort != 0 || p.DstPort != 0 {
					t.Errorf("%s, %d bytes quoted (link %v):\ngot  %+v from %v\nwant %+v from %v", q.name, n, f.LinkType,
						p.ICMP, p.Src, want, wantSrc)
				}
			}
		}
	}
}

func etherType(v6 bool) uint16 {
	if v6 {
		return 0x86dd
	}
	return 0x0800
}

// TestICMPNotAnError checks that ICMP messages other than errors leave Packet.ICMP zero, and that a quote of a
// non-first fragment gives no ports.
func TestICMPNotAnError(t *testing.T) {
	d := NewDecoder(Options{})
	echo := icmpError4(t, 8, 0, hello, -1)
	redirect := icmpError4(t, 5, 1, v4(t, syn(), nil), -1)
	echo6 := icmpError6(t, 128, 0, hello, -1)
	for _, b := range [][]byte{echo, redirect, echo6} {
		var p Packet
		if err := d.Decode(ptr(frame(layers.LinkTypeRaw, b)), &p); err != nil || p.ICMP != (ICMP{}) {
			t.Errorf("% x: %v %+v", b, err, p.ICMP)
		}
	}
	later := append([]byte(nil), v4(t, syn(), nil)...)
	later[7] = 0x10 // fragment offset 16 bytes: no transport header in this fragment
	var p Packet
	if err := d.Decode(ptr(frame(layers.LinkTypeRaw, icmpError4(t, 3, 13, later, -1))), &p); err != nil {
		t.Fatal(err)
	}
	if p.ICMP.Complete || p.ICMP.SrcPort != 0 || p.ICMP.Src != cli4 || p.ICMP.Proto != protoTCP {
		t.Errorf("non-first fragment quoted: %+v", p.ICMP)
	}
	frag6 := withExt(v6(t, syn(), nil), []byte{44, 0, 0, 0x10, 0, 0, 0, 9})
	if err := d.Decode(ptr(frame(layers.LinkTypeRaw, icmpError6(t, 1, 1, frag6, -1))), &p); err != nil {
		t.Fatal(err)
	}
	if p.ICMP.Complete || p.ICMP.SrcPort != 0 || p.ICMP.Src != cli6 || p.ICMP.Proto != protoTCP {
		t.Errorf("non-first ipv6 fragment quoted: %+v", p.ICMP)
	}
}

func TestICMPReason(t *testing.T) {
	tests := []struct {
		m    ICMP
		want string
	}{
		{ICMP{Kind: ICMPUnreachable, Type: 3, Code: 13}, "administratively prohibited"},
		{ICMP{Kind: ICMPUnreachable, Type: 3, Code: 3}, "port unreachable"},
		{ICMP{Kind: ICMPUnreachable, Type: 3, Code: 99}, "destination unreachable"},
		{ICMP{Kind: ICMPUnreachable, Type: 1, Code: 1, IPv6: true}, "administratively prohibited"},
		{ICMP{Kind: ICMPUnreachable, Type: 1, Code: 4, IPv6: true}, "port unreachable"},
		{ICMP{Kind: ICMPTimeExceeded, Type: 11}, "time exceeded"},
		{ICMP{Kind: ICMPTimeExceeded, Type: 3, Code: 1, IPv6: true}, "fragment reassembly time exceeded"},
		{ICMP{}, ""},
	}
	for _, tt := range tests {
		if got := tt.m.Reason(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.m, got, tt.want)
		}
		if tt.m.Rejects() != (tt.m.Kind == ICMPUnreachable) {
			t.Errorf("%+v: Rejects %v", tt.m, tt.m.Rejects())
		}
	}
}

// icmpErrors decodes a capture and returns the ICMP errors in it, by frame number.
func icmpErrors(t *testing.T, path string) map[int]Packet {
	t.Helper()
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder(Options{})
	out := map[int]Packet{}
	for n := 1; ; n++ {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if f.LinkType == layers.LinkTypeEthernet {
			checkFastPath(t, d, f)
		}
		var p Packet
		if err := d.Decode(&f, &p); err == nil && p.ICMP.Kind != ICMPNone {
			p.Payload = nil
			out[n] = p
		}
	}
	return out
}

// TestICMPCaptures checks the quotes of real ICMP errors: two made in the lab (a DNS query refused with port
// unreachable, a SYN refused with administratively prohibited) and, from the shared captures, a DNS answer
// refused with port unreachable and two echo requests (not errors). The quoted ports are tshark's.
func TestICMPCaptures(t *testing.T) {
	a := netip.MustParseAddr
	type errorAt struct {
		frame int
		from  netip.Addr
		want  ICMP
	}
	check := func(t *testing.T, path string, want []errorAt) {
		got := icmpErrors(t, path)
		if len(got) != len(want) {
			t.Errorf("ICMP errors at frames %v, want %d", keys(got), len(want))
		}
		for _, w := range want {
			p, ok := got[w.frame]
			if !ok || p.ICMP != w.want || p.Src != w.from {
				t.Errorf("frame %d:\ngot  %+v from %v\nwant %+v from %v", w.frame, p.ICMP, p.Src, w.want, w.from)
			}
		}
	}
	t.Run("dns-icmp-refused", func(t *testing.T) {
		check(t, "testdata/dns-icmp-refused.pcap", []errorAt{{10, a("198.18.0.1"), ICMP{Kind: ICMPUnreachable, Type: 3,
			Code: 3, Proto: protoUDP, Src: a("198.18.0.2"), Dst: a("198.18.0.1"), SrcPort: 38362, DstPort: 53, Complete: true}}})
	})
	t.Run("tcp-icmp-prohibited", func(t *testing.T) {
		check(t, "testdata/tcp-icmp-prohibited.pcap", []errorAt{{8, a("198.18.1.65"), ICMP{Kind: ICMPUnreachable, Type: 3,
			Code: 13, Proto: protoTCP, Src: a("198.18.0.2"), Dst: a("198.18.1.65"), SrcPort: 33656, DstPort: 443,
			Complete: true}}})
	})
	t.Run("shared", func(t *testing.T) {
		dir := sharedDir(t)
		check(t, filepath.Join(dir, "sv-dns-servfail-windowsupdate.pcap"), []errorAt{{7, a("192.168.10.31"),
			ICMP{Kind: ICMPUnreachable, Type: 3, Code: 3, Proto: protoUDP, Src: a("192.168.10.10"),
				Dst: a("192.168.10.31"), SrcPort: 53, DstPort: 58186, Complete: true}}})
		check(t, filepath.Join(dir, "arkime-bigendian-icmp.pcap"), nil) // echo requests only
	})
}

func keys(m map[int]Packet) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
