package analyze_test

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// FuzzEngine feeds the engine packet sequences made from the fuzzer's bytes: any order of flags, sequence
// numbers, payloads (TLS, HTTP, DNS or garbage) on a few ports, in both directions. The engine must never panic,
// and every record must carry a known verdict. The engine's caps are made small so the fuzzer reaches them: a
// DNS cache of 8 entries and 2 KiB. A name read from the payload that is not a host name is never judged, and
// a connection whose first bytes were resent with other bytes is never allowed on its payload's name.
//
// Each packet takes: 1 byte (bit 0: from the server; bits 1-2: which port pair; bit 3: UDP; bit 4: the length
// counts 8-byte units, for QUIC Initials of 1200 bytes and more; bit 5: dated a century ahead of the others;
// bit 6: an ICMP error quoting the packet is sent in its place; bit 7: inside a tunnel), 1 byte TCP flags, 2
// bytes sequence offset, 1 byte payload length, then with bit 6 a byte of its own for the error
// (engineSent.icmpError), with bit 7 a byte of its own for the tunnel (fuzzTunnel), then the payload. Every
// feature has its own bit and byte, so none is read from another's. A record may name only an ICMP error and
// a tunnel that were sent, a rejected record names its error, and icmp_rejections counts the rejections sent.
// The seeds include QUIC: RFC 9001's client and server Initials to UDP 443, and the client's alone; and
// ICMP errors and tunnels.
func FuzzEngine(f *testing.F) {
	hello := clientHello(f, "enrollment.manage.microsoft.com")
	seed := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	pkt := func(meta, flags byte, off uint16, payload []byte) []byte {
		b := []byte{meta, flags, byte(off >> 8), byte(off), byte(len(payload))}
		return append(b, payload...)
	}
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack, 1, nil),
		pkt(0, ack|psh, 1, hello[:200]), pkt(0, ack|psh, 201, hello[200:400]), pkt(1, rst, 1, nil)))
	f.Add(seed(pkt(2, syn, 0, nil), pkt(3, syn|ack, 0, nil),
		pkt(2, ack|psh, 1, []byte("CONNECT a.manage.microsoft.com:443 HTTP/1.1\r\n\r\n")),
		pkt(3, ack|psh, 1, []byte("HTTP/1.1 407 Auth\r\n\r\n"))))
	socksReq := []byte{5, 1, 0, 3, 18, 'a', '.', 'm', 'a', 'n', 'a', 'g', 'e', '.', 'm', 'i', 'c', 'r', 'o', 's', 'o', 'f', 't', 1, 187}
	f.Add(seed(pkt(2, syn, 0, nil), pkt(3, syn|ack, 0, nil), pkt(2, ack|psh, 1, []byte{5, 1, 0}),
		pkt(3, ack|psh, 1, []byte{5, 0}), pkt(2, ack|psh, 4, socksReq),
		pkt(3, ack|psh, 3, []byte{5, 0, 0, 1, 198, 18, 0, 1, 4, 56}), pkt(2, ack|psh, uint16(4+len(socksReq)), hello[:200])))
	f.Add(seed(pkt(8, 0, 0, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})))
	long := func(meta byte, payload []byte) []byte { // a UDP payload padded to 8-byte units
		payload = append(payload, make([]byte, (8-len(payload)%8)%8)...)
		b := []byte{meta | 8 | 16, 0, 0, 0, byte(len(payload) / 8)}
		return append(b, payload...)
	}
	clientInitial := quicVector(f, "rfc9001-client-initial.hex")
	serverInitial := quicVector(f, "rfc9001-server-initial.hex")
	f.Add(seed(long(0, clientInitial), long(1, serverInitial), pkt(8, 0, 0, []byte{0x40, 1, 2, 3})))
	f.Add(seed(long(0, clientInitial), long(0, clientInitial)))
	f.Add(seed(long(0, quicVector(f, "rfc9369-client-initial.hex")), long(1, quicVector(f, "rfc9369-server-initial.hex"))))
	// Overlapping retransmissions with other bytes, a hole-ridden hello, a lone far-future frame, an answer
	// with false counts and one with many addresses.
	other := clientHello(f, "abcdefg.attacker.com.example")
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack|psh, 101, hello[100:250]),
		pkt(0, ack|psh, 101, other[100:250]), pkt(32, ack|psh, 1, hello[:100]), pkt(1, ack, 1, nil)))
	holes := []byte{}
	for i := 0; i < 20; i++ {
		holes = append(holes, pkt(0, ack|psh, uint16(1+10+20*i), hello[10+20*i:20+20*i])...)
	}
	f.Add(seed(pkt(0, syn, 0, nil), holes))
	answer := []byte{0, 9, 0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	for i := 0; i < 12; i++ {
		answer = append(answer, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, byte(i))
	}
	f.Add(seed(pkt(9, 0, 0, answer[:60]), pkt(9, 0, 0, answer), pkt(0, syn, 0, nil)))
	// A hello, then the server side's records out of order (a ServerHello head, an alert), then a client alert.
	serverHello := []byte{0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x03}
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack|psh, 1, hello[:250]),
		pkt(0, ack|psh, 251, hello[250:min(len(hello), 500)]), pkt(1, ack|psh, 12, []byte{0x15, 3, 3, 0, 2, 2, 40}),
		pkt(1, ack|psh, 1, serverHello), pkt(0, ack|psh, 501, []byte{0x15, 3, 3, 0, 2, 2, 48}), pkt(1, rst, 19, nil)))
	// A SYN rejected by ICMP (administratively prohibited), a query refused (port unreachable, the quote
	// holding its id), fragmentation needed and time exceeded over IPv6; the same connection in and out of
	// VXLAN, GRE and MPLS, and an error about the tunnelled one.
	icmpOf := func(meta, b byte, quote []byte) []byte {
		return append([]byte{meta | 64, 0, 0, 0, byte(len(quote)), b}, quote...)
	}
	query := []byte{0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	quotedQuery := slices.Concat(make([]byte, 8), []byte{0x45, 0, 0, 47, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2,
		198, 18, 1, 10, 0x9c, 0x43, 0, 53, 0, 27, 0, 0}, query)
	f.Add(seed(pkt(0, syn, 0, nil), icmpOf(0, 13<<3, nil), pkt(14, 0, 0, query), icmpOf(14, 3<<3, quotedQuery),
		pkt(2, syn, 0, nil), icmpOf(2, 4<<3, nil), icmpOf(2, 1|2, nil), icmpOf(2, 1|1<<3, nil), icmpOf(4, 4|3<<3, nil)))
	tun := func(meta, flags, b byte) []byte { return []byte{meta | 128, flags, 0, 0, 0, b} }
	f.Add(seed(tun(0, syn, 5<<3), tun(1, syn|ack, 5<<3), pkt(0, syn, 0, nil), tun(0, syn, 2), tun(1, rst, 4),
		[]byte{64 | 128, 0, 0, 0, 0, 10 << 3, 5 << 3}))
	table, err := rules.Load(nil)
	if err != nil {
		f.Fatal(err)
	}
	matcher := rules.NewMatcher(table)
	public, err := certchain.PublicRoots()
	if err != nil {
		f.Fatal(err)
	}
	verifier := certchain.NewVerifier(public, nil) // built once: engines share it as a run's lanes do
	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWire(t, analyze.Options{Matcher: matcher, MaxDNSNames: 8, MaxDNSBytes: 2048, Verifier: verifier})
		var sent engineSent
		for len(data) >= 5 {
			var p decode.Packet
			var far bool
			p, far, data = sent.next(w, data)
			if far {
				now := w.now
				w.now = w.now.Add(100 * 365 * 24 * time.Hour)
				w.send(p)
				w.now = now.Add(10 * time.Millisecond)
			} else {
				w.send(p)
			}
		}
		for _, r := range w.finish() {
			if !slices.Contains(rules.Verdicts(), r.Verdict) {
				t.Errorf("record with verdict %q: %+v", r.Verdict, r)
			}
			fromPayload := r.NameSource == result.NameFromSNI || r.NameSource == result.NameFromHTTPHost ||
				r.NameSource == result.NameFromConnect
			if fromPayload && strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c >= 0x7f }) {
				t.Errorf("a name with control or non-ASCII bytes was kept raw: %+v", r)
			}
			if fromPayload && strings.ContainsAny(r.Name, " \\:/@") && r.Verdict != rules.Other {
				t.Errorf("a name that is not a host name was judged: %+v", r)
			}
			if fromPayload && r.OverlapConflict && r.Verdict == rules.Allowed {
				t.Errorf("allowed despite an overlap conflict: %+v", r)
			}
			sent.checkRecord(t, &r)
		}
		q := w.out.summary.Capture.Quality
		n := sent.packets
		if q.TimeJumps > n || q.StreamGapsOverCap > n || q.OverlapConflicts > n || q.DNSFalseCounts > n {
			t.Errorf("quality counts more than the %d packets sent: %+v", n, q)
		}
		if q.ICMPRejections != sent.rejections || q.UnmatchedICMP > q.ICMPRejections {
			t.Errorf("%d ICMP rejections sent, and the quality section says %+v", sent.rejections, q)
		}
	})
}

// engineSent reads FuzzEngine's packets from its input and remembers what a record may name: the ICMP
// errors and tunnels sent.
type engineSent struct {
	packets, rejections uint64
	icmp                []result.ICMPError // every ICMP rejection sent
	tunnels             []string           // the tunnel field of every tunnel sent
}

// The outer addresses of FuzzEngine's tunnels and the router that sends its ICMP errors.
var (
	fuzzTunnelSrc, fuzzTunnelDst = netip.MustParseAddr("198.18.9.1"), netip.MustParseAddr("198.18.9.2")
	fuzzRouter                   = netip.MustParseAddr("198.18.0.1")
)

// next reads one packet from data (FuzzEngine says how) and returns it, whether it is dated a century ahead,
// and the rest of data.
func (s *engineSent) next(w *wire, data []byte) (decode.Packet, bool, []byte) {
	meta, flags, off, n := data[0], data[1], binary.BigEndian.Uint16(data[2:4]), int(data[4])
	if meta&16 != 0 {
		n *= 8
	}
	data = data[5:]
	var icmp, tunnel byte
	if meta&64 != 0 && len(data) > 0 {
		icmp, data = data[0], data[1:]
	}
	if meta&128 != 0 && len(data) > 0 {
		tunnel, data = data[0], data[1:]
	}
	n = min(n, len(data))
	payload := data[:n]
	data = data[n:]
	ports := [4][2]uint16{{40000, 443}, {40001, 3128}, {40002, 80}, {40003, 53}}[meta>>1&3]
	src, dst, sport, dport := w.client, w.server, ports[0], ports[1]
	if meta&1 != 0 {
		src, dst, sport, dport = dst, src, dport, sport
	}
	p := decode.Packet{Src: src, Dst: dst, IPProto: 6, SrcPort: sport, DstPort: dport, TCPFlags: flags,
		Seq: 1000 + uint32(off), Ack: 1, Payload: payload}
	if meta&8 != 0 {
		p.IPProto, p.TCPFlags = 17, 0
	}
	if meta&64 != 0 {
		p = s.icmpError(&p, icmp)
	}
	if meta&128 != 0 {
		p.Tunnel = fuzzTunnel(tunnel)
		s.tunnels = append(s.tunnels, p.Tunnel.String())
	}
	s.packets++
	return p, meta&32 != 0, data
}

// icmpError is the ICMP error a router sends to q's sender in place of q, quoting it: b's bit 0 makes it
// ICMPv6, bit 1 time exceeded instead of destination unreachable, bit 2 a quote too short for the ports;
// bits 3-7 are the code. Its payload (the ICMP message as the decoder leaves it) is q's.
func (s *engineSent) icmpError(q *decode.Packet, b byte) decode.Packet {
	m := decode.ICMP{Kind: decode.ICMPUnreachable, Type: 3, Code: b >> 3, IPv6: b&1 != 0, Proto: q.IPProto,
		Src: q.Src, Dst: q.Dst, SrcPort: q.SrcPort, DstPort: q.DstPort, Complete: b&4 == 0}
	proto := uint8(1)
	switch {
	case m.IPv6 && b&2 != 0:
		m.Kind, m.Type, proto = decode.ICMPTimeExceeded, 3, 58
	case m.IPv6:
		m.Type, proto = 1, 58
	case b&2 != 0:
		m.Kind, m.Type = decode.ICMPTimeExceeded, 11
	}
	if !m.Complete {
		m.SrcPort, m.DstPort = 0, 0
	}
	if m.Rejects() && (m.IPv6 || m.Code != 4) {
		s.rejections++
		s.icmp = append(s.icmp, result.ICMPError{Type: int(m.Type), Code: int(m.Code), From: fuzzRouter.String()})
	}
	return decode.Packet{Src: fuzzRouter, Dst: q.Src, IPProto: proto, Payload: q.Payload, ICMP: m}
}

// fuzzTunnel is the tunnel b describes: its kind (b mod 5), and its identifier (b / 8).
func fuzzTunnel(b byte) decode.Tunnel {
	t := decode.Tunnel{Kind: decode.TunnelVXLAN + decode.TunnelKind(b%5), ID: uint32(b >> 3), HasID: true, Depth: 1}
	if t.Kind != decode.TunnelMPLS {
		t.Src, t.Dst = fuzzTunnelSrc, fuzzTunnelDst
	}
	return t
}

// checkRecord fails when r names an ICMP error or a tunnel that was not sent, or is rejected with no error.
func (s *engineSent) checkRecord(t *testing.T, r *result.Record) {
	if r.ICMP != nil && !slices.Contains(s.icmp, *r.ICMP) {
		t.Errorf("record names ICMP %+v, which was not sent: %+v", *r.ICMP, r)
	}
	if r.State == result.StateRejected && r.ICMP == nil {
		t.Errorf("a rejected record without its ICMP error: %+v", r)
	}
	if r.Tunnel != "" && !slices.Contains(s.tunnels, r.Tunnel) {
		t.Errorf("record names tunnel %q, which was not sent: %+v", r.Tunnel, r)
	}
}
