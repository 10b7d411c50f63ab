package decode

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

// withExt rebuilds an IPv6 packet with extension headers (each a whole header whose first byte is patched to
// point at the next) between the fixed header and the original payload.
func withExt(pkt []byte, exts ...[]byte) []byte {
	hdr := append([]byte(nil), pkt[:40]...)
	next := hdr[6]
	var chain []byte
	kinds := []byte{}
	for _, e := range exts {
		kinds = append(kinds, e[0])
	}
	hdr[6] = kinds[0]
	for i, e := range exts {
		e = append([]byte(nil), e...)
		if i+1 < len(exts) {
			e[0] = kinds[i+1]
		} else {
			e[0] = next
		}
		chain = append(chain, e...)
	}
	binary.BigEndian.PutUint16(hdr[4:], uint16(len(chain)+len(pkt)-40))
	return cat(hdr, chain, pkt[40:])
}

// Extension headers; the first byte names the header's own type for withExt, which rewrites it.
var (
	hopByHop = []byte{0, 0, 1, 4, 0, 0, 0, 0}   // PadN
	routing  = []byte{43, 0, 0, 0, 0, 0, 0, 0}  // type 0, segments left 0
	destOpts = []byte{60, 0, 1, 4, 0, 0, 0, 0}  // PadN
	destLong = []byte{60, 1, 1, 12, 0, 0, 0, 0, // PadN over 16 bytes
		0, 0, 0, 0, 0, 0, 0, 0}
)

func TestIPv6Extensions(t *testing.T) {
	pkt := v6(t, data(), hello)
	tests := []struct {
		name string
		exts [][]byte
	}{
		{"hop-by-hop", [][]byte{hopByHop}},
		{"routing", [][]byte{routing}},
		{"destination", [][]byte{destLong}},
		{"all three", [][]byte{hopByHop, routing, destOpts}},
		{"atomic fragment", [][]byte{{44, 0, 0, 0, 0, 0, 0, 9}}},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(ptr(frame(layers.LinkTypeIPv6, withExt(pkt, tt.exts...))), &p); err != nil {
				t.Fatal(err)
			}
			checkPacket(t, p, want6(FlagPSH|FlagACK, hello))
		})
	}
}

// ipv4Frags splits an IPv4 packet into fragments of at most size payload bytes (a multiple of 8).
func ipv4Frags(pkt []byte, size int) [][]byte {
	hdr, body := pkt[:20], pkt[20:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		h := append([]byte(nil), hdr...)
		binary.BigEndian.PutUint16(h[2:], uint16(20+end-off))
		ff := uint16(off / 8)
		if end < len(body) {
			ff |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], ff)
		out = append(out, cat(h, body[off:end]))
	}
	return out
}

func TestIPv4Reassembly(t *testing.T) {
	payload := bytes.Repeat([]byte("dns!"), 25)
	frags := ipv4Frags(v4(t, dnsUDP(), payload), 48) // 108 bytes: 48 + 48 + 12
	d := NewDecoder(Options{})
	var p Packet
	for i, idx := range []int{1, 2, 0} { // out of order
		f := frame(layers.LinkTypeRaw, append([]byte(nil), frags[idx]...))
		if err := d.Decode(&f, &p); err != nil {
			t.Fatalf("fragment %d: %v", idx, err)
		}
		clear(f.Data) // the decoder must have copied what it keeps
		if i < 2 {
			if !p.Fragment || p.Src != cli4 || p.IPProto != 17 {
				t.Fatalf("fragment %d: %+v", idx, p)
			}
			continue
		}
	}
	if p.Fragment || p.SrcPort != 40000 || p.DstPort != 53 || !bytes.Equal(p.Payload, payload) || p.PayloadWireLen != 100 {
		t.Errorf("reassembled: %+v", p)
	}
	if st := d.Stats(); st != (Stats{FragmentsHeld: 2, Reassembled: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestIPv4FragmentBounds(t *testing.T) {
	frags := func(id uint16) [][]byte {
		pkt := v4(t, dnsUDP(), bytes.Repeat([]byte("a"), 100))
		binary.BigEndian.PutUint16(pkt[4:], id)
		return ipv4Frags(pkt, 48)
	}
	at := func(b []byte, sec int64) capture.Frame {
		f := frame(layers.LinkTypeRaw, b)
		f.Timestamp = time.Unix(sec, 0)
		return f
	}
	tests := []struct {
		name    string
		opts    Options
		feed    []capture.Frame
		dropped uint64
	}{
		{"memory cap drops all", Options{MaxFragmentBytes: 100},
			[]capture.Frame{at(frags(1)[0], 1), at(frags(2)[0], 1), at(frags(3)[0], 1), at(frags(1)[1], 1), at(frags(1)[2], 1)}, 3},
		{"datagram cap", Options{MaxFragmentDatagrams: 1},
			[]capture.Frame{at(frags(1)[0], 1), at(frags(2)[0], 1), at(frags(1)[1], 1), at(frags(1)[2], 1)}, 2},
		{"timeout", Options{FragmentTimeout: 10 * time.Second},
			[]capture.Frame{at(frags(1)[0], 1), at(frags(2)[0], 100), at(frags(1)[1], 100), at(frags(1)[2], 100)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.opts)
			var p Packet
			for _, f := range tt.feed {
				if err := d.Decode(&f, &p); err != nil {
					t.Fatal(err)
				}
				if !p.Fragment {
					t.Fatalf("a datagram was completed: %+v", p)
				}
			}
			if st := d.Stats(); st.FragmentsDropped != tt.dropped || st.Reassembled != 0 {
				t.Errorf("stats %+v, want %d dropped", st, tt.dropped)
			}
		})
	}
}

// TestICMPQuote checks that an ICMP error is returned as ICMP, not as the packet it quotes.
func TestICMPQuote(t *testing.T) {
	quoted := v4(t, dnsUDP(), hello)[:28]
	icmp := cat([]byte{3, 3, 0, 0, 0, 0, 0, 0}, quoted)
	ip := v4(t, dnsUDP(), nil)[:20]
	ip = append([]byte(nil), ip...)
	ip[9] = 1
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(icmp)))
	icmp6 := cat([]byte{1, 4, 0, 0, 0, 0, 0, 0}, v6(t, dnsUDP(), hello)[:48])
	ip6 := append([]byte(nil), v6(t, dnsUDP(), nil)[:40]...)
	ip6[6] = 58
	binary.BigEndian.PutUint16(ip6[4:], uint16(len(icmp6)))
	tests := []struct {
		name  string
		f     capture.Frame
		proto uint8
	}{
		{"icmp port unreachable", frame(layers.LinkTypeRaw, cat(ip, icmp)), 1},
		{"icmpv6 port unreachable", frame(layers.LinkTypeRaw, cat(ip6, icmp6)), 58},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(&tt.f, &p); err != nil {
				t.Fatal(err)
			}
			if p.IPProto != tt.proto || p.SrcPort != 0 || p.DstPort != 0 || len(p.Payload) != p.PayloadWireLen {
				t.Errorf("%+v", p)
			}
		})
	}
}
