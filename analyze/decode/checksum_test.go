package decode

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

// checksumCase is an IP packet whose checksums gopacket computed (the reference).
type checksumCase struct {
	name        string
	pkt         []byte
	offloadable bool // TCP or UDP: a NIC may finish its checksum
}

// field is the offset of the packet's transport checksum field.
func (c checksumCase) field() int {
	hdr, proto := 40, c.pkt[6]
	if c.pkt[0]>>4 == 4 {
		hdr, proto = int(c.pkt[0]&0x0f)*4, c.pkt[9]
	}
	switch proto {
	case 6:
		return hdr + 16
	case 17:
		return hdr + 6
	}
	return hdr + 2
}

// checksumPackets are the reference packets, over IPv4 and IPv6, with odd and even lengths.
func checksumPackets(t testing.TB) []checksumCase {
	odd := []byte("odd-length payload!") // 19 bytes: the sum's padded tail
	icmp4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: srv4.AsSlice(),
		DstIP: cli4.AsSlice()}
	icmp6ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: srv6.AsSlice(),
		DstIP: cli6.AsSlice()}
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeDestinationUnreachable, 1)}
	if err := icmp6.SetNetworkLayerForChecksum(icmp6ip); err != nil {
		t.Fatal(err)
	}
	withOptions := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli4.AsSlice(),
		DstIP: srv4.AsSlice(), Options: []layers.IPv4Option{{OptionType: 7, OptionLength: 7,
			OptionData: []byte{4, 0, 0, 0, 0}}}} // record route, one empty slot
	tcpOpt := syn()
	if err := tcpOpt.SetNetworkLayerForChecksum(withOptions); err != nil {
		t.Fatal(err)
	}
	return []checksumCase{
		{"ipv4 tcp syn", v4(t, syn(), nil), true},
		{"ipv4 tcp data", v4(t, data(), []byte("GET / HTTP/1.1\r\n\r\n")), true},
		{"ipv4 tcp odd", v4(t, data(), odd), true},
		{"ipv4 udp", v4(t, dnsUDP(), odd), true},
		{"ipv6 tcp", v6(t, data(), odd), true},
		{"ipv6 udp", v6(t, dnsUDP(), []byte("dns")), true},
		{"ipv4 options tcp", serialize(t, withOptions, tcpOpt), true},
		{"icmpv4", serialize(t, icmp4, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)},
			gopacket.Payload(v4(t, dnsUDP(), nil)[:28])), false},
		{"icmpv6", serialize(t, icmp6ip, icmp6, gopacket.Payload(make([]byte, 44))), false},
	}
}

// verify decodes an IP packet (raw link type) and verifies its checksums.
func verify(t testing.TB, pkt []byte, wire int) ChecksumStatus {
	t.Helper()
	d := NewDecoder(Options{})
	var p Packet
	f := capture.Frame{LinkType: layers.LinkTypeRaw, Data: pkt, WireLen: wire, Timestamp: time.Unix(1, 0)}
	if err := d.Decode(&f, &p); err != nil && err != ErrTruncated {
		t.Fatalf("decode: %v", err)
	}
	return p.VerifyChecksums()
}

// TestVerifyChecksums holds VerifyChecksums to gopacket's checksums: what gopacket computed verifies; a
// damaged byte, header or field does not; a field holding the pseudo-header sum or 0 is offload's unfinished
// checksum (TCP and UDP only); a packet cut by snaplen is not verified.
func TestVerifyChecksums(t *testing.T) {
	for _, tc := range checksumPackets(t) {
		t.Run(tc.name, func(t *testing.T) {
			pkt := tc.pkt
			if got := verify(t, pkt, len(pkt)); got != ChecksumGood {
				t.Fatalf("gopacket's checksums: got %v, want good", got)
			}
			damaged := clone(pkt)
			damaged[len(damaged)-1] ^= 0x40
			if got := verify(t, damaged, len(damaged)); got != ChecksumBad {
				t.Errorf("last byte flipped: got %v, want bad", got)
			}
			cut := clone(pkt)[:len(pkt)-1]
			if got := verify(t, cut, len(pkt)); got == ChecksumBad || got == ChecksumUnfinished {
				t.Errorf("cut by snaplen: got %v, want good (IPv4 header) or unverified", got)
			}
			pseudo, zero := clone(pkt), clone(pkt)
			binary.BigEndian.PutUint16(pseudo[tc.field():], pseudoField(t, pkt))
			binary.BigEndian.PutUint16(zero[tc.field():], 0)
			want := ChecksumBad
			if tc.offloadable {
				want = ChecksumUnfinished
			}
			if got := verify(t, pseudo, len(pseudo)); got != want {
				t.Errorf("field = pseudo-header sum: got %v, want %v", got, want)
			}
			if tc.name == "ipv4 udp" {
				want = ChecksumGood // RFC 768: no checksum; the IPv4 header still verifies
			}
			if got := verify(t, zero, len(zero)); got != want {
				t.Errorf("field = 0: got %v, want %v", got, want)
			}
			if pkt[0]>>4 == 4 {
				hdr := clone(pkt)
				hdr[8]-- // TTL, as a router would lower it without fixing the sum
				if got := verify(t, hdr, len(hdr)); got != ChecksumBad {
					t.Errorf("ipv4 header damaged: got %v, want bad", got)
				}
				binary.BigEndian.PutUint16(hdr[10:], 0)
				if got := verify(t, hdr, len(hdr)); got != ChecksumUnfinished {
					t.Errorf("ipv4 header checksum 0: got %v, want unfinished", got)
				}
			}
		})
	}
}

// pseudoField is the folded pseudo-header sum of an IP packet's transport segment, computed independently of
// Packet.pseudoSum: what Linux leaves in the field for the NIC to finish.
func pseudoField(t testing.TB, pkt []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0x0f) * 4
		add(pkt[12:20])
		sum += uint32(pkt[9]) + uint32(len(pkt)-ihl)
	default:
		add(pkt[8:40])
		sum += uint32(pkt[6]) + uint32(len(pkt)-40)
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// TestVerifyChecksumsEthernet: the fast path fills IPv4Header and Segment as the layer parser does, so a frame
// verifies the same either way (FuzzDecode compares the two paths field for field).
func TestVerifyChecksumsEthernet(t *testing.T) {
	d := NewDecoder(Options{})
	for _, tc := range checksumPackets(t) {
		etype := uint16(0x0800)
		if tc.pkt[0]>>4 == 6 {
			etype = 0x86dd
		}
		frame := ether(etype, tc.pkt)
		f := capture.Frame{LinkType: layers.LinkTypeEthernet, Data: frame, WireLen: len(frame)}
		var p Packet
		if err := d.Decode(&f, &p); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := p.VerifyChecksums(); got != ChecksumGood {
			t.Errorf("%s over ethernet: got %v, want good", tc.name, got)
		}
		checkFastPath(t, d, f)
	}
}

// TestSumWords holds the summing loop to the 16-bit one of RFC 1071: every length up to 300 bytes (the
// 32-byte loop and every tail), bytes that carry at every add (all 0xff), zeros, random bytes, and a sum
// already under way.
func TestSumWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fills := []struct {
		name string
		fill func(i int) byte
	}{
		{"pattern", func(i int) byte { return byte(0xff - i*37) }},
		{"ones", func(int) byte { return 0xff }},
		{"zeros", func(int) byte { return 0 }},
		{"random", func(int) byte { return byte(rng.Uint32()) }},
		{"high", func(i int) byte { return byte(0x80 | i) }},
	}
	for _, f := range fills {
		name := f.name
		b := make([]byte, 300)
		for i := range b {
			b[i] = f.fill(i)
		}
		for n := 0; n <= len(b); n++ {
			if got, want := fold(sumWords(b[:n], 0)), referenceSum(b[:n]); got != want {
				t.Fatalf("%s, %d bytes: sum %#04x, reference %#04x", name, n, got, want)
			}
			pre := []byte{0xfe, 0xdc, 0xba, 0x98}
			if got, want := fold(sumWords(b[:n], sumWords(pre, 0))), referenceSum(append(pre, b[:n]...)); got != want {
				t.Fatalf("%s, %d bytes after 4: sum %#04x, reference %#04x", name, n, got, want)
			}
		}
	}
	for range 100_000 {
		b := make([]byte, rng.IntN(1600))
		for i := range b {
			b[i] = byte(rng.Uint32() >> rng.IntN(24))
		}
		if got, want := fold(sumWords(b, 0)), referenceSum(b); got != want {
			t.Fatalf("%x: sum %#04x, reference %#04x", b, got, want)
		}
	}
}

// BenchmarkSumWords sums a full-size segment.
func BenchmarkSumWords(b *testing.B) {
	seg := make([]byte, 1460)
	for i := range seg {
		seg[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(seg)))
	for b.Loop() {
		_ = fold(sumWords(seg, 0))
	}
}

// referenceSum is RFC 1071's ones' complement sum of 16-bit words, folded.
func referenceSum(b []byte) uint16 {
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		w := uint32(b[i]) << 8
		if i+1 < len(b) {
			w |= uint32(b[i+1])
		}
		sum += w
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// FuzzVerifyChecksums: on hostile bytes and lengths VerifyChecksums never panics and never reads past the
// frame; the summing loop agrees with RFC 1071's; and a TCP or UDP packet gopacket checksums from the same
// bytes always verifies.
func FuzzVerifyChecksums(f *testing.F) {
	for _, tc := range checksumPackets(f) {
		f.Add(tc.pkt, uint16(len(tc.pkt)))
	}
	f.Fuzz(func(t *testing.T, pkt []byte, wire uint16) {
		if got, want := fold(sumWords(pkt, 0)), referenceSum(pkt); got != want {
			t.Fatalf("sum %#04x, reference %#04x", got, want)
		}
		d := NewDecoder(Options{})
		var p Packet
		f := capture.Frame{LinkType: layers.LinkTypeRaw, Data: pkt, WireLen: max(int(wire), len(pkt))}
		if d.Decode(&f, &p) == nil {
			p.VerifyChecksums()
		}
		if len(pkt) > 1400 {
			return
		}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
		for _, tr := range []gopacket.SerializableLayer{data(), dnsUDP()} {
			if got := verify(t, ipPacket(t, ip, tr, pkt), 0); got != ChecksumGood {
				t.Fatalf("%T over %d payload bytes: %v, want good", tr, len(pkt), got)
			}
		}
	})
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
