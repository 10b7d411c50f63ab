package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

var hello = []byte("hello, world")

// tcpSYN4 and friends are the packets expected for the common test frames.
func want4(flags uint8, payload []byte) Packet {
	p := Packet{Src: cli4, Dst: srv4, IPProto: 6, SrcPort: 50000, DstPort: 443, TCPFlags: flags, Seq: 1000,
		Payload: payload, PayloadWireLen: len(payload)}
	if flags != FlagSYN {
		p.Seq, p.Ack = 1001, 5001
	}
	return p
}

func want6(flags uint8, payload []byte) Packet {
	p := want4(flags, payload)
	p.Src, p.Dst = cli6, srv6
	return p
}

func wantDNS4(payload []byte) Packet {
	return Packet{Src: cli4, Dst: srv4, IPProto: 17, SrcPort: 40000, DstPort: 53, Payload: payload, PayloadWireLen: len(payload)}
}

func withVLAN(p Packet, outer, inner uint16) Packet { p.VLAN = [2]uint16{outer, inner}; return p }

func TestDecodeLinkTypes(t *testing.T) {
	ip4syn := v4(t, syn(), nil)
	ip6data := v6(t, data(), hello)
	ip4dns := v4(t, dnsUDP(), hello)
	tests := []decodeCase{
		{"ethernet ipv4 tcp", frame(layers.LinkTypeEthernet, ether(0x0800, ip4syn)), want4(FlagSYN, nil)},
		{"ethernet ipv6 tcp", frame(layers.LinkTypeEthernet, ether(0x86dd, ip6data)), want6(FlagPSH|FlagACK, hello)},
		{"ethernet ipv4 udp", frame(layers.LinkTypeEthernet, ether(0x0800, ip4dns)), wantDNS4(hello)},
		{"ethernet padding", frame(layers.LinkTypeEthernet, cat(ether(0x0800, ip4syn), make([]byte, 10))), want4(FlagSYN, nil)},
		{"802.1q", frame(layers.LinkTypeEthernet, ether(0x8100, cat(tag(100, 0x0800), ip4syn))),
			withVLAN(want4(FlagSYN, nil), 100, 0)},
		{"802.1ad qinq", frame(layers.LinkTypeEthernet, ether(0x88a8, cat(tag(10, 0x8100), tag(20, 0x86dd), ip6data))),
			withVLAN(want6(FlagPSH|FlagACK, hello), 10, 20)},
		{"0x9100 qinq", frame(layers.LinkTypeEthernet, ether(0x9100, cat(tag(30, 0x8100), tag(40, 0x0800), ip4syn))),
			withVLAN(want4(FlagSYN, nil), 30, 40)},
		{"three tags keep outer two", frame(layers.LinkTypeEthernet,
			ether(0x88a8, cat(tag(1, 0x8100), tag(2, 0x8100), tag(3, 0x0800), ip4syn))), withVLAN(want4(FlagSYN, nil), 1, 2)},
		{"vlan 0 priority tag", frame(layers.LinkTypeEthernet, ether(0x8100, cat(tag(0, 0x0800), ip4syn))), want4(FlagSYN, nil)},
		{"pppoe ipv4", frame(layers.LinkTypeEthernet, ether(0x8864, pppoe(0x0021, ip4syn))), want4(FlagSYN, nil)},
		{"qinq pppoe ipv6", frame(layers.LinkTypeEthernet, ether(0x88a8, cat(tag(5, 0x8100), tag(6, 0x8864), pppoe(0x0057, ip6data)))),
			withVLAN(want6(FlagPSH|FlagACK, hello), 5, 6)},
		{"linux sll", frame(layers.LinkTypeLinuxSLL, sll(0x0800, ip4syn)), want4(FlagSYN, nil)},
		{"linux sll2", frame(layers.LinkTypeLinuxSLL2, sll2(0x86dd, ip6data)), want6(FlagPSH|FlagACK, hello)},
		{"null loopback ipv4", frame(layers.LinkTypeNull, cat(le32(2), ip4syn)), want4(FlagSYN, nil)},
		{"null loopback ipv6 (macos 30)", frame(layers.LinkTypeNull, cat(le32(30), ip6data)), want6(FlagPSH|FlagACK, hello)},
		{"openbsd loop ipv6", frame(layers.LinkTypeLoop, cat(be32(24), ip6data)), want6(FlagPSH|FlagACK, hello)},
		{"raw 101 ipv4", frame(layers.LinkTypeRaw, ip4syn), want4(FlagSYN, nil)},
		{"raw 12 ipv6", frame(12, ip6data), want6(FlagPSH|FlagACK, hello)},
		{"raw 14 ipv4", frame(14, ip4dns), wantDNS4(hello)},
		{"ipv4 228", frame(layers.LinkTypeIPv4, ip4syn), want4(FlagSYN, nil)},
		{"ipv6 229", frame(layers.LinkTypeIPv6, ip6data), want6(FlagPSH|FlagACK, hello)},
		{"nflog ipv4", frame(239, nflog(2, ip4syn)), want4(FlagSYN, nil)},
		{"nflog ipv6", frame(239, nflog(10, ip6data)), want6(FlagPSH|FlagACK, hello)},
	}
	runDecodeCases(t, tests)
}

// decodeCase is a frame and the packet it must decode to.
type decodeCase struct {
	name string
	f    capture.Frame
	want Packet
}

// runDecodeCases decodes each case's frame with one decoder, as the engine does, and compares the packet.
func runDecodeCases(t *testing.T, tests []decodeCase) {
	t.Helper()
	d := NewDecoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(&tt.f, &p); err != nil {
				t.Fatal(err)
			}
			checkPacket(t, p, tt.want)
		})
	}
}

func checkPacket(t *testing.T, got, want Packet) {
	t.Helper()
	gp, wp := got.Payload, want.Payload
	got.Payload, want.Payload = nil, nil
	if got.Src.IsValid() && got.SrcWords != words(got.Src) || got.Dst.IsValid() && got.DstWords != words(got.Dst) {
		t.Errorf("address words %x %x do not match %v %v", got.SrcWords, got.DstWords, got.Src, got.Dst)
	}
	got.SrcWords, got.DstWords = [2]uint64{}, [2]uint64{}
	got.IPv4Header, got.Segment = nil, nil // what checksums are verified over: checksum_test.go
	if want.Src.Is4() && !want.HasIPID {   // every IPv4 packet the tests build carries testIPID
		want.IPID, want.HasIPID = testIPID, true
	}
	if !reflect.DeepEqual(got, want) || !bytes.Equal(gp, wp) {
		t.Errorf("got  %+v payload %q\nwant %+v payload %q", got, gp, want, wp)
	}
}

func TestDecodeErrors(t *testing.T) {
	ip4syn := v4(t, syn(), nil)
	arp := ether(0x0806, make([]byte, 28))
	tests := []struct {
		name string
		f    capture.Frame
		want error
	}{
		{"unknown link type", frame(147, ip4syn), ErrLinkType},
		{"arp", frame(layers.LinkTypeEthernet, arp), ErrNotIP},
		{"llc length field", frame(layers.LinkTypeEthernet, ether(0x0026, make([]byte, 38))), ErrNotIP},
		{"empty frame", frame(layers.LinkTypeEthernet, nil), ErrMalformed},
		{"ethernet only, cut", cut(frame(layers.LinkTypeEthernet, ether(0x0800, ip4syn)), 14), ErrTruncated},
		{"ip header cut", cut(frame(layers.LinkTypeEthernet, ether(0x0800, ip4syn)), 14+12), ErrTruncated},
		{"tcp header cut before flags", cut(frame(layers.LinkTypeRaw, ip4syn), 20+10), ErrTruncated},
		{"bad ip version", frame(layers.LinkTypeRaw, append([]byte{0x55}, ip4syn[1:]...)), ErrNotIP},
		{"ipv4 ihl too small", frame(layers.LinkTypeIPv4, append([]byte{0x44}, ip4syn[1:]...)), ErrMalformed},
		{"tcp data offset 2", frame(layers.LinkTypeRaw, setByte(ip4syn, 20+12, 0x20)), ErrMalformed},
		{"nflog without payload", frame(239, nflog(2, nil)[:16]), ErrNotIP},
		{"pppoe discovery", frame(layers.LinkTypeEthernet, ether(0x8864, setByte(pppoe(0x0021, ip4syn), 1, 0x09))), ErrNotIP},
		{"too many vlan tags", frame(layers.LinkTypeEthernet, ether(0x8100, cat(tag(1, 0x8100), tag(1, 0x8100), tag(1, 0x8100),
			tag(1, 0x8100), tag(1, 0x8100), tag(1, 0x8100), tag(1, 0x8100), tag(1, 0x8100), tag(1, 0x0800), ip4syn))), ErrNotIP},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(&tt.f, &p); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func setByte(b []byte, i int, v byte) []byte {
	c := append([]byte(nil), b...)
	c[i] = v
	return c
}

// TestTruncation checks snaplen-cut frames: everything captured is decoded and PayloadWireLen comes from the
// IP header.
func TestTruncation(t *testing.T) {
	ip4data := v4(t, data(), hello) // 20 + 20 + 12
	ip4dns := v4(t, dnsUDP(), hello)
	tests := []decodeCase{
		{"payload cut", cut(frame(layers.LinkTypeRaw, ip4data), 45),
			Packet{Src: cli4, Dst: srv4, IPProto: 6, SrcPort: 50000, DstPort: 443, TCPFlags: FlagPSH | FlagACK, Seq: 1001,
				Ack: 5001, Payload: hello[:5], PayloadWireLen: 12, Truncated: true}},
		{"tcp header cut after flags", cut(frame(layers.LinkTypeRaw, ip4data), 20+14),
			Packet{Src: cli4, Dst: srv4, IPProto: 6, SrcPort: 50000, DstPort: 443, TCPFlags: FlagPSH | FlagACK, Seq: 1001,
				Ack: 5001, PayloadWireLen: 12, Truncated: true}},
		{"udp payload cut", cut(frame(layers.LinkTypeRaw, ip4dns), 30),
			Packet{Src: cli4, Dst: srv4, IPProto: 17, SrcPort: 40000, DstPort: 53, Payload: hello[:2], PayloadWireLen: 12, Truncated: true}},
		{"udp header cut after ports", cut(frame(layers.LinkTypeRaw, ip4dns), 25),
			Packet{Src: cli4, Dst: srv4, IPProto: 17, SrcPort: 40000, DstPort: 53, PayloadWireLen: 12, Truncated: true}},
		{"bad checksum kept", frame(layers.LinkTypeRaw, setByte(ip4data, 20+16, 0xee)), want4(FlagPSH|FlagACK, hello)},
		{"tso length 0", frame(layers.LinkTypeRaw, setByte(setByte(ip4data, 2, 0), 3, 0)), want4(FlagPSH|FlagACK, hello)},
	}
	runDecodeCases(t, tests)
}

// words is the two-word form of an address, IPv4 mapped into ::ffff:0:0/96.
func words(a netip.Addr) [2]uint64 {
	b := a.As16()
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// TestFastPath checks which frames the fast path answers itself (FuzzDecode and TestSharedDecode check that its
// answers are the layer parser's) and which it leaves to the parser.
func TestFastPath(t *testing.T) {
	ip4 := v4(t, data(), hello)
	ip6 := v6(t, data(), hello)
	withOptions := append([]byte(nil), ip4...)
	withOptions[0] = 0x46
	fragment := append([]byte(nil), ip4...)
	fragment[6] |= 0x20
	tests := []struct {
		name string
		b    []byte
		fast bool
	}{
		{"ipv4 tcp", ether(0x0800, ip4), true},
		{"ipv6 tcp", ether(0x86dd, ip6), true},
		{"ipv4 udp", ether(0x0800, v4(t, dnsUDP(), hello)), true},
		{"two vlan tags", ether(0x88a8, cat(tag(10, 0x8100), tag(20, 0x0800), ip4)), true},
		{"cut ipv4 tcp", ether(0x0800, ip4)[:14+20+16], true},
		{"ipv4 icmp error", ether(0x0800, icmpError4(t, 3, 13, ip4, 28)), true},
		{"ipv6 icmp error", ether(0x86dd, icmpError6(t, 1, 1, ip6, -1)), true},
		{"udp to the vxlan port", ether(0x0800, v4(t, &layers.UDP{SrcPort: 1, DstPort: 4789}, hello)), false},
		{"udp to the geneve port over ipv6", ether(0x86dd, v6(t, &layers.UDP{SrcPort: 1, DstPort: 6081}, hello)), false},
		{"mpls", ether(0x8847, cat([]byte{0, 1, 1, 64}, ip4)), false},
		{"three vlan tags", ether(0x88a8, cat(tag(1, 0x8100), tag(2, 0x8100), tag(3, 0x0800), ip4)), false},
		{"ipv4 options", ether(0x0800, withOptions), false},
		{"ipv4 fragment", ether(0x0800, fragment), false},
		{"ipv6 extension header", ether(0x86dd, withExt(ip6, hopByHop)), false},
		{"pppoe", ether(0x8864, pppoe(0x0021, ip4)), false},
		{"arp", ether(0x0806, make([]byte, 28)), false},
		{"runt", make([]byte, 10), false},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		if got := checkFastPath(t, d, frame(layers.LinkTypeEthernet, tt.b)); got != tt.fast {
			t.Errorf("%s: fast path taken = %v, want %v", tt.name, got, tt.fast)
		}
	}
}
