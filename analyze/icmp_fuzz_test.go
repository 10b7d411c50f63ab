package analyze_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// FuzzICMPMatch runs the whole offline path (decoder, sharding, engines, merge) over Ethernet frames built from
// the fuzzer's bytes: clients open TCP connections, UDP flows and DNS queries, servers answer some, and ICMP
// and ICMPv6 errors of any type and code come back quoting what the fuzzer chooses: a flow's packet cut
// anywhere, the server's reply, the packet with IPv4 options or IPv6 extension headers, an ICMP error
// quoting it (nested), a non-first fragment, a damaged copy, or raw bytes; inside VXLAN or not, with right or
// wrong checksums, repeated up to 64 times. Whole raw frames can be sent as well (the seeds hold the lab's
// ICMP captures frame by frame).
//
// It checks what an ICMP error may do to the output, not only that nothing panics:
//   - the output is the same bytes with one engine and with two;
//   - an error creates no state: no more connections held (Hooks.Quiet) and no more records than non-ICMP
//     frames were sent (and DNS messages over TCP they may carry);
//   - a record's icmp field names the type, code and sender of a rejection that was sent and whose quote
//     holds the record's addresses and ports; a rejected record has one;
//   - icmp_rejections counts the rejections sent (ICMPv4 type 3 but fragmentation needed, ICMPv6 type 1);
//     unmatched_icmp counts at least those whose quote holds no flow that was sent, and each matched error
//     is one record's at most.
//
// Each operation starts with a byte whose low 3 bits (mod 5) say what it is and whose bits 3-5 pick one of
// the flows of icmpFlows (its client, server and ports):
//
//	0 the client sends (SYN, datagram or query); 1 byte: the DNS id's low byte, the datagram's first byte
//	1 the server answers; 1 byte: as for 0 (TCP: bit 0 answers with a reset instead of a SYN-ACK)
//	2 an ICMP error from the network to the client (bit 6: ICMPv6; bit 7: inside VXLAN);
//	  4 bytes: type, code, how (icmpHow), length (of the quote, or of the raw bytes that follow)
//	3 capture time moves on; 1 byte: seconds
//	4 a raw Ethernet frame; 2 bytes big-endian length, then the frame
func FuzzICMPMatch(f *testing.F) {
	op := func(b ...byte) []byte { return b }
	syn0, dnsQ := op(0<<3|0, 0), op(2<<3|0, 0)
	icmp := func(flow, bits, typ, code, how, n byte, raw ...byte) []byte {
		return append(op(flow<<3|2|bits, typ, code, how, n), raw...)
	}
	// A rejected SYN, a refused query, their IPv6 twins, the same through VXLAN, an answered flow then an
	// error, fragmentation needed, time exceeded, and errors quoting nothing that was sent.
	f.Add(slices.Concat(syn0, icmp(0, 0, 3, 13, howClient|fromRouter, 255)))
	f.Add(slices.Concat(dnsQ, icmp(2, 0, 3, 3, howClient|fromRouter, 255)))
	f.Add(slices.Concat(dnsQ, icmp(2, 0, 3, 3, howClient|fromRouter, 28)))
	f.Add(slices.Concat(op(3<<3, 0), icmp(3, 0x40, 1, 1, howClient|fromRouter, 255)))
	f.Add(slices.Concat(op(5<<3, 7), icmp(5, 0x40, 1, 4, howOptions|fromServer, 255), op(4<<3, 0),
		icmp(4, 0x40, 1, 4, howOptions|fromServer, 47)))
	f.Add(slices.Concat(op(6<<3, 0), op(7<<3, 0), icmp(6, 0x80, 3, 10, howClient|fromRouter, 255),
		icmp(7, 0x80, 3, 3, howClient|fromOther, 255), icmp(0, 0x80, 3, 3, howClient|fromOther, 255)))
	f.Add(slices.Concat(syn0, op(0<<3|1, 0), icmp(0, 0, 3, 1, howClient|fromRouter, 255),
		icmp(0, 0, 3, 4, howClient|fromRouter, 255), icmp(0, 0, 11, 0, howClient|fromRouter, 255)))
	f.Add(slices.Concat(syn0, op(1<<3, 9), icmp(0, 0, 3, 3, howNested|fromRouter, 255),
		icmp(1, 0, 3, 3, howFragment|fromRouter, 255), icmp(1, 0, 3, 3, howReply|fromClient, 255),
		icmp(1, 0, 3, 3, howDamaged|fromRouter, 22)))
	f.Add(slices.Concat(dnsQ, op(2<<3, 1), op(2<<3|1, 0), icmp(2, 0, 3, 3, howClient|fromRouter|repeat64, 36),
		op(3, 30), icmp(2, 0, 3, 3, howTrailing|fromRouter|badChecksum, 4, 1, 2, 3, 4)))
	f.Add(slices.Concat(syn0, icmp(0, 0x40, 1, 0, howRaw|fromOther, 8, 0x45, 0, 0, 20, 0, 0, 0, 0),
		icmp(0, 0, 3, 3, howRaw|fromOther, 0)))
	table, err := rules.Load(nil)
	if err != nil {
		f.Fatal(err)
	}
	matcher := rules.NewMatcher(table)
	public, err := certchain.PublicRoots()
	if err != nil {
		f.Fatal(err)
	}
	verifier := certchain.NewVerifier(public, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := buildICMPScenario(data)
		opts := analyze.Options{Matcher: matcher, Verifier: verifier, Workers: 1}
		one, tracked := runFrames(t, opts, s.frames)
		opts.Workers = 2
		two, _ := runFrames(t, opts, s.frames)
		if a, b := encode(t, one), encode(t, two); a != b {
			t.Fatalf("2 workers differ from 1:\n%s", firstDiff(a, b))
		}
		s.check(t.Errorf, one, tracked)
	})
}

// Bits of the "how" byte of an ICMP operation: the quote (low 3 bits), who sends the error (bits 3-4), a
// wrong checksum (bit 5) and how many copies (bits 6-7: 1, 4, 16 or 64).
const (
	howClient   = 0 // the client's packet of the flow, cut to the length byte
	howReply    = 1 // the server's reply (the client's port was closed), cut
	howOptions  = 2 // the client's packet with 40 bytes of IPv4 options or two IPv6 extension headers, cut
	howNested   = 3 // an ICMP error from the client quoting its own packet, cut
	howRaw      = 4 // the raw bytes that follow, as many as the length byte says
	howDamaged  = 5 // the client's packet whole, with the byte at the length byte's position inverted
	howFragment = 6 // the client's packet as a non-first fragment, cut
	howTrailing = 7 // the client's packet whole, then the raw bytes that follow

	fromServer  = 0 << 3 // the flow's server (of the error's address family)
	fromRouter  = 1 << 3 // the client's gateway
	fromClient  = 2 << 3 // the client itself
	fromOther   = 3 << 3 // another router
	badChecksum = 1 << 5
	repeat64    = 3 << 6
)

// icmpFlow is one of the fuzz target's flows: its protocol, addresses and ports, and whether it runs inside
// VXLAN (the same addresses as a flow outside it, in another virtual network).
type icmpFlow struct {
	proto            uint8
	client, server   netip.Addr
	cport, sport     uint16
	vxlan, dnsServer bool
}

var (
	client4, client6 = netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("2001:2::2")
	// icmpFlows: the first three are the lab's (tcp-icmp-prohibited.pcap, dns-icmp-refused.pcap), so that raw
	// frames from those captures and built ones meet.
	icmpFlows = [8]icmpFlow{
		{proto: 6, client: client4, server: netip.MustParseAddr("198.18.1.65"), cport: 33656, sport: 443},
		{proto: 17, client: client4, server: netip.MustParseAddr("198.18.1.65"), cport: 40001, sport: 443},
		{proto: 17, client: client4, server: netip.MustParseAddr("198.18.0.1"), cport: 38362, sport: 53, dnsServer: true},
		{proto: 6, client: client6, server: netip.MustParseAddr("2001:2::10"), cport: 40003, sport: 443},
		{proto: 17, client: client6, server: netip.MustParseAddr("2001:2::10"), cport: 40004, sport: 3478},
		{proto: 17, client: client6, server: netip.MustParseAddr("2001:2::53"), cport: 40005, sport: 53, dnsServer: true},
		{proto: 6, client: client4, server: netip.MustParseAddr("198.18.1.65"), cport: 33656, sport: 443, vxlan: true},
		{proto: 17, client: client4, server: netip.MustParseAddr("198.18.0.1"), cport: 38362, sport: 53, vxlan: true, dnsServer: true},
	}
	routers = [2][4]netip.Addr{ // by family (IPv4, IPv6), then by the "from" bits (the server's is the flow's)
		{netip.MustParseAddr("198.18.1.65"), netip.MustParseAddr("198.18.0.1"), client4, netip.MustParseAddr("198.18.0.254")},
		{netip.MustParseAddr("2001:2::10"), netip.MustParseAddr("2001:2::1"), client6, netip.MustParseAddr("2001:2::fe")},
	}
)

// maxICMPFrames bounds a scenario, so that one input cannot make an execution slow.
const maxICMPFrames = 256

// sentICMP is an ICMP error as sent: what a record's icmp field may name, and the quote it carried.
type sentICMP struct {
	typ, code uint8
	from      netip.Addr
	quote     []byte // the ICMP message after its 8-byte header; for a raw frame, the whole frame
	rejection bool   // destination unreachable, not fragmentation needed
	raw       bool   // read from a raw frame: the quote is the frame, the type and code the decoder's
}

// icmpScenario is the frames built from one input and what the checks need to know of them.
type icmpScenario struct {
	frames  []capture.Frame
	errors  []sentICMP
	tuples  [][]byte // the addresses and ports of every flow a frame was sent on (tupleBytes)
	others  int      // frames that are not ICMP errors
	rawFrag bool     // a raw frame was an IP fragment: the decoder may have made more of them
	// tcpDNS is the payload bytes of raw TCP frames to or from port 53: DNS over TCP makes a record for each
	// message besides the connection's, and a message takes at least dnsOverTCPMin bytes.
	tcpDNS int
}

// dnsOverTCPMin is the fewest bytes a DNS message over TCP takes: its length prefix and header.
const dnsOverTCPMin = 2 + 12

func buildICMPScenario(data []byte) *icmpScenario {
	s := &icmpScenario{}
	b := &frameMaker{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for len(data) > 0 && len(b.frames) < maxICMPFrames {
		op := data[0]
		data = data[1:]
		fl := &icmpFlows[op>>3&7]
		switch op & 7 % 5 {
		case 0, 1:
			if len(data) < 1 {
				return s.done(b)
			}
			fromClient := op&7%5 == 0
			b.add(fl.vxlan, flowPacket(fl, fromClient, data[0]))
			data = data[1:]
			s.others++
			s.tuples = append(s.tuples, tupleBytes(fl.client, fl.server, fl.cport, fl.sport))
		case 2:
			if len(data) < 4 {
				return s.done(b)
			}
			typ, code, how, n := data[0], data[1], data[2], int(data[3])
			data = data[4:]
			var raw []byte
			if k := how & 7; k == howRaw || k == howTrailing {
				raw, data = data[:min(n, len(data))], data[min(n, len(data)):]
			}
			s.icmpError(b, fl, op&0x40 != 0, op&0x80 != 0, typ, code, how, n, raw)
		case 3:
			if len(data) < 1 {
				return s.done(b)
			}
			b.now = b.now.Add(time.Duration(data[0]) * time.Second)
			data = data[1:]
		case 4:
			if len(data) < 2 {
				return s.done(b)
			}
			n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
			s.rawFrame(b, data[2:2+n])
			data = data[2+n:]
		}
	}
	return s.done(b)
}

func (s *icmpScenario) done(b *frameMaker) *icmpScenario {
	s.frames = b.frames
	return s
}

// icmpError adds the error an ICMP operation describes, as many times as it says.
func (s *icmpScenario) icmpError(b *frameMaker, fl *icmpFlow, v6, vxlan bool, typ, code, how uint8, n int, raw []byte) {
	fam := 0
	if v6 {
		fam = 1
	}
	from := routers[fam][how>>3&3]
	if how>>3&3 == 0 && fl.server.Is6() == v6 {
		from = fl.server
	}
	to := client4
	if v6 {
		to = client6
	}
	quote := quoteOf(fl, how&7, n, raw)
	msg := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, quote...)
	proto := uint8(1)
	if v6 {
		proto = 58
	}
	sum := icmpChecksum(from, to, proto, msg)
	if how&badChecksum != 0 {
		sum ^= 0x5a5a
	}
	binary.BigEndian.PutUint16(msg[2:4], sum)
	e := sentICMP{typ: typ, code: code, from: from, quote: quote,
		rejection: v6 && typ == 1 || !v6 && typ == 3 && code != 4}
	for range 1 << (2 * (how >> 6)) {
		if len(b.frames) >= maxICMPFrames {
			return
		}
		b.add(vxlan, ipPacket(from, to, proto, msg, nil))
		s.errors = append(s.errors, e)
	}
}

// rawFrame sends frame as it is; a separate decoder says what it is, for the checks.
func (s *icmpScenario) rawFrame(b *frameMaker, frame []byte) {
	frame = slices.Clone(frame)
	b.frames = append(b.frames, b.frame(frame))
	if b.dec == nil { // made on first use: a decoder costs more than the rest of a short scenario
		b.dec = decode.NewDecoder(decode.Options{})
	}
	var p decode.Packet
	err := b.dec.Decode(&b.frames[len(b.frames)-1], &p)
	switch {
	case err != nil:
		s.others++
	case p.Fragment || b.dec.Stats().Reassembled > 0:
		s.rawFrag = true
		s.others++
	case p.IPProto == 1 || p.IPProto == 58:
		if p.ICMP.Kind == decode.ICMPNone {
			s.others++
			return
		}
		s.errors = append(s.errors, sentICMP{typ: p.ICMP.Type, code: p.ICMP.Code, from: p.Src, quote: frame,
			rejection: p.ICMP.Rejects() && (p.ICMP.IPv6 || p.ICMP.Code != 4), raw: true})
	default:
		s.others++
		s.tuples = append(s.tuples, tupleBytes(p.Src, p.Dst, p.SrcPort, p.DstPort))
		if p.IPProto == 6 && (p.SrcPort == 53 || p.DstPort == 53) {
			s.tcpDNS += len(p.Payload)
		}
	}
}

// check holds the output of the one-engine run (c, and the connections it held at the end) to the promises
// FuzzICMPMatch lists, and reports each broken one through errorf.
func (s *icmpScenario) check(errorf func(format string, args ...any), c *collector, tracked int) {
	if tracked > s.others {
		errorf("%d connections held after %d frames that are not ICMP errors", tracked, s.others)
	}
	if most := s.others + s.tcpDNS/dnsOverTCPMin; len(c.records) > most {
		errorf("%d records from %d frames that are not ICMP errors (%d bytes of DNS over TCP among them)",
			len(c.records), s.others, s.tcpDNS)
	}
	withICMP := 0
	for i := range c.records {
		r := &c.records[i]
		if !slices.Contains(rules.Verdicts(), r.Verdict) {
			errorf("record with verdict %q: %+v", r.Verdict, r)
		}
		if r.State == result.StateRejected && r.ICMP == nil {
			errorf("a rejected record without its ICMP error: %+v", r)
		}
		if r.ICMP == nil {
			continue
		}
		withICMP++
		if !s.sentFor(r) {
			errorf("record names ICMP %+v, and no rejection of that type, code and sender quoted it: %+v", *r.ICMP, r)
		}
	}
	q := c.summary.Capture.Quality
	rejections, surelyUnmatched, raw := uint64(0), uint64(0), uint64(0)
	for i := range s.errors {
		e := &s.errors[i]
		switch {
		case !e.rejection:
		case e.raw:
			raw++
		default:
			rejections++
			if !s.quotesASentFlow(e.quote) {
				surelyUnmatched++
			}
		}
	}
	if s.rawFrag {
		if q.ICMPRejections < rejections {
			errorf("icmp_rejections %d, and %d were sent", q.ICMPRejections, rejections)
		}
	} else if q.ICMPRejections != rejections+raw {
		errorf("icmp_rejections %d, and %d were sent (%d in raw frames)", q.ICMPRejections, rejections+raw, raw)
	}
	if q.UnmatchedICMP > q.ICMPRejections {
		errorf("unmatched_icmp %d of %d rejections", q.UnmatchedICMP, q.ICMPRejections)
	}
	if !s.rawFrag && q.UnmatchedICMP < surelyUnmatched {
		errorf("unmatched_icmp %d, and %d rejections quoted no flow that was sent", q.UnmatchedICMP, surelyUnmatched)
	}
	if matched := q.ICMPRejections - min(q.UnmatchedICMP, q.ICMPRejections); uint64(withICMP) > matched {
		errorf("%d records carry an ICMP error, and %d errors matched", withICMP, matched)
	} else if matched > 0 && withICMP == 0 {
		errorf("%d errors matched, and no record carries one", matched)
	}
}

// sentFor reports whether a rejection with r's ICMP type, code and sender was sent quoting r's flow.
func (s *icmpScenario) sentFor(r *result.Record) bool {
	client, err1 := netip.ParseAddr(r.Client)
	server, err2 := netip.ParseAddr(r.Server)
	if err1 != nil || err2 != nil {
		return false
	}
	tuple := tupleBytes(client, server, r.ClientPort, r.ServerPort)
	for i := range s.errors {
		e := &s.errors[i]
		if e.rejection && int(e.typ) == r.ICMP.Type && int(e.code) == r.ICMP.Code && e.from.String() == r.ICMP.From &&
			quotes(e.quote, tuple) && (!e.raw || bytes.Contains(e.quote, e.from.AsSlice())) {
			return true
		}
	}
	return false
}

func (s *icmpScenario) quotesASentFlow(quote []byte) bool {
	for _, tu := range s.tuples {
		if quotes(quote, tu) {
			return true
		}
	}
	return false
}

// tupleBytes is a flow's addresses (4 or 16 bytes each) and ports as they appear in its headers, client
// first.
func tupleBytes(client, server netip.Addr, cport, sport uint16) []byte {
	b := append(client.Unmap().AsSlice(), server.Unmap().AsSlice()...)
	return binary.BigEndian.AppendUint32(b, uint32(cport)<<16|uint32(sport))
}

// quotes reports whether quote holds both addresses of tuple (tupleBytes) and its two ports side by side in
// either order: what any reading of the quote needs to name that flow.
func quotes(quote, tuple []byte) bool {
	n := (len(tuple) - 4) / 2
	a, b, ports := tuple[:n], tuple[n:2*n], tuple[2*n:]
	swapped := []byte{ports[2], ports[3], ports[0], ports[1]}
	return bytes.Contains(quote, a) && bytes.Contains(quote, b) &&
		(bytes.Contains(quote, ports) || bytes.Contains(quote, swapped))
}

// frameMaker builds the scenario's Ethernet frames, 10 ms apart in capture time unless an operation moves it.
type frameMaker struct {
	frames []capture.Frame
	now    time.Time
	dec    *decode.Decoder // reads raw frames for the checks
}

func (b *frameMaker) frame(data []byte) capture.Frame {
	b.now = b.now.Add(10 * time.Millisecond)
	return capture.Frame{Data: data, Timestamp: b.now, WireLen: len(data), LinkType: layers.LinkTypeEthernet,
		Number: uint64(len(b.frames) + 1)}
}

// add appends an Ethernet frame holding the IP packet ip, inside VXLAN (VNI 7) when vxlan is set.
func (b *frameMaker) add(vxlan bool, ip []byte) {
	frame := ethernet(ip)
	if vxlan {
		vx := append([]byte{0x08, 0, 0, 0, 0, 0, 7, 0}, frame...)
		udp := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 49152), 4789)
		udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(vx)))
		udp = append(append(udp, 0, 0), vx...)
		frame = ethernet(ipPacket(netip.MustParseAddr("198.18.9.1"), netip.MustParseAddr("198.18.9.2"), 17, udp, nil))
	}
	b.frames = append(b.frames, b.frame(frame))
}

func ethernet(ip []byte) []byte {
	etype := uint16(0x0800)
	if ip[0]>>4 == 6 {
		etype = 0x86dd
	}
	h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	return append(binary.BigEndian.AppendUint16(h, etype), ip...)
}

// ipPacket is an IPv4 or IPv6 packet (after src's family) carrying payload of protocol proto, after ext:
// IPv4 options, or IPv6 extension headers whose first byte is then the next header (proto names the first).
func ipPacket(src, dst netip.Addr, proto uint8, payload, ext []byte) []byte {
	if src.Is6() {
		h := make([]byte, 40, 40+len(ext)+len(payload))
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:6], uint16(len(ext)+len(payload)))
		h[6], h[7] = proto, 64
		s, d := src.As16(), dst.As16()
		copy(h[8:24], s[:])
		copy(h[24:40], d[:])
		return append(append(h, ext...), payload...)
	}
	h := make([]byte, 20, 20+len(ext)+len(payload))
	h[0] = 0x40 | byte(5+len(ext)/4)
	binary.BigEndian.PutUint16(h[2:4], uint16(20+len(ext)+len(payload)))
	h[4], h[5], h[6], h[8], h[9] = 0x12, 0x34, 0x40, 64, proto
	s, d := src.As4(), dst.As4()
	copy(h[12:16], s[:])
	copy(h[16:20], d[:])
	h = append(h, ext...)
	binary.BigEndian.PutUint16(h[10:12], checksum(0, h))
	return append(h, payload...)
}

// flowPacket is the IP packet a flow's client (or server) sends: a SYN (a SYN-ACK or a reset), a datagram, a
// DNS query (an answer naming the flow's server) with the id's low byte x.
func flowPacket(fl *icmpFlow, fromClient bool, x byte) []byte {
	src, dst, sport, dport := fl.client, fl.server, fl.cport, fl.sport
	if !fromClient {
		src, dst, sport, dport = dst, src, dport, sport
	}
	ports := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, sport), dport)
	if fl.proto == 6 {
		seg := append(ports, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, decode.FlagSYN, 0xfa, 0xf0, 0, 0, 0, 0)
		if !fromClient {
			copy(seg[4:12], []byte{0, 0, 0x13, 0x88, 0, 0, 0x03, 0xe9})
			seg[13] = decode.FlagSYN | decode.FlagACK
			if x&1 != 0 {
				seg[13] = decode.FlagRST | decode.FlagACK
			}
		}
		return ipPacket(src, dst, 6, seg, nil)
	}
	payload := []byte{x, 1, 2, 3, 4, 5, 6, 7}
	if fl.dnsServer {
		payload = dnsMessage(fromClient, x, fl.server)
	}
	udp := binary.BigEndian.AppendUint16(ports, uint16(8+len(payload)))
	return ipPacket(src, dst, 17, append(append(udp, 0, 0), payload...), nil)
}

// dnsMessage is a query for a listed name (id 0x25xx), or its answer giving server's address.
func dnsMessage(query bool, x byte, server netip.Addr) []byte {
	m := []byte{0x25, x, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	m = append(m, "\x0bicmprefused\x06manage\x09microsoft\x03com\x00"...)
	qtype := byte(1)
	if server.Is6() {
		qtype = 28
	}
	m = append(m, 0, qtype, 0, 1)
	if query {
		return m
	}
	m[2], m[3], m[7] = 0x81, 0x80, 1
	m = append(m, 0xc0, 12, 0, qtype, 0, 1, 0, 0, 0, 60, 0, byte(server.BitLen()/8))
	return append(m, server.AsSlice()...)
}

// quoteOf is what an ICMP error about fl quotes (how: the low 3 bits of the how byte; n its length byte). The
// client packet quoted is the one an operation 0 with the byte 0 sends (DNS id 0x2500).
func quoteOf(fl *icmpFlow, how uint8, n int, raw []byte) []byte {
	sent := flowPacket(fl, true, 0)
	cut := func(b []byte) []byte { return b[:min(n, len(b))] }
	switch how {
	case howReply:
		return cut(flowPacket(fl, false, 0))
	case howOptions:
		l4 := sent[ipHeaderLen(sent):]
		if fl.client.Is6() {
			ext := []byte{60, 0, 1, 4, 0, 0, 0, 0, fl.proto, 0, 1, 4, 0, 0, 0, 0} // hop-by-hop, destination options
			return cut(ipPacket(fl.client, fl.server, 0, l4, ext))
		}
		opts := append([]byte{0x94, 4, 0, 0}, make([]byte, 36)...) // router alert, then end of options
		return cut(ipPacket(fl.client, fl.server, fl.proto, l4, opts))
	case howNested:
		v6 := fl.client.Is6()
		typ, proto := byte(3), uint8(1)
		if v6 {
			typ, proto = 1, 58
		}
		msg := append([]byte{typ, 3, 0, 0, 0, 0, 0, 0}, sent...)
		binary.BigEndian.PutUint16(msg[2:4], icmpChecksum(fl.client, fl.server, proto, msg))
		return cut(ipPacket(fl.client, fl.server, proto, msg, nil))
	case howRaw:
		return raw
	case howDamaged:
		sent[n%len(sent)] ^= 0xff
		return sent
	case howFragment:
		l4 := sent[ipHeaderLen(sent):]
		if fl.client.Is6() {
			frag := []byte{fl.proto, 0, 0, 8, 0, 0, 0x12, 0x34} // offset 1 (8 bytes)
			return cut(ipPacket(fl.client, fl.server, 44, l4, frag))
		}
		sent[6], sent[7] = 0, 1 // offset 1 (8 bytes)
		binary.BigEndian.PutUint16(sent[10:12], 0)
		binary.BigEndian.PutUint16(sent[10:12], checksum(0, sent[:20]))
		return cut(sent)
	case howTrailing:
		return append(sent, raw...)
	}
	return cut(sent)
}

func ipHeaderLen(ip []byte) int {
	if ip[0]>>4 == 6 {
		return 40
	}
	return int(ip[0]&0x0f) * 4
}

// icmpChecksum is the checksum of an ICMP message (ICMPv6: over the pseudo-header too, RFC 4443); msg's
// checksum field must be zero.
func icmpChecksum(src, dst netip.Addr, proto uint8, msg []byte) uint16 {
	if proto != 58 {
		return checksum(0, msg)
	}
	var sum uint32
	for _, a := range []netip.Addr{src, dst} {
		b := a.As16()
		sum = partialSum(sum, b[:])
	}
	sum += uint32(len(msg)) + 58
	return checksum(sum, msg)
}

func partialSum(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func checksum(sum uint32, b []byte) uint16 {
	sum = partialSum(sum, b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// frameSource hands a run prepared frames, then one quiet moment at the last frame's time (so that
// Hooks.Quiet reports the connections held), then io.EOF.
type frameSource struct {
	frames []capture.Frame
	next   int
	quiet  bool
}

func (s *frameSource) Next() (*capture.Frame, time.Time, error) {
	if s.next < len(s.frames) {
		s.next++
		return &s.frames[s.next-1], time.Time{}, nil
	}
	if !s.quiet && len(s.frames) > 0 {
		s.quiet = true
		return nil, s.frames[len(s.frames)-1].Timestamp, nil
	}
	return nil, time.Time{}, io.EOF
}

func (s *frameSource) Retain() bool { return false }

// runFrames runs frames through analyze.Run and returns the output and the connections held after the last
// frame.
func runFrames(t *testing.T, opts analyze.Options, frames []capture.Frame) (*collector, int) {
	t.Helper()
	var c collector
	tracked := -1
	hooks := analyze.Hooks{Quiet: func(n int) error { tracked = n; return nil }}
	if err := analyze.Run(&frameSource{frames: frames}, opts, &c, hooks); err != nil {
		t.Fatal(err)
	}
	return &c, max(tracked, 0)
}

// TestICMPScenarioCheck holds FuzzICMPMatch's scenarios and checks to what they are for: a built error is
// matched as the engine is meant to match it, and the checks report an output that breaks each promise.
func TestICMPScenarioCheck(t *testing.T) {
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := analyze.Options{Matcher: rules.NewMatcher(table), Workers: 1}
	run := func(t *testing.T, data ...byte) (*icmpScenario, *collector, int) {
		s := buildICMPScenario(data)
		c, tracked := runFrames(t, opts, s.frames)
		s.check(t.Errorf, c, tracked)
		return s, c, tracked
	}
	synRejected := []byte{0<<3 | 0, 0, 0<<3 | 2, 3, 13, howClient | fromRouter, 255}
	t.Run("rejected SYN", func(t *testing.T) {
		_, c, _ := run(t, synRejected...)
		r := flowTo(c, "198.18.1.65")
		want := result.ICMPError{Type: 3, Code: 13, From: "198.18.0.1"}
		if r == nil || r.State != result.StateRejected || r.ICMP == nil || *r.ICMP != want {
			t.Fatalf("want a rejected flow with ICMP %+v, got %+v", want, r)
		}
	})
	t.Run("refused query over IPv6, twice, through VXLAN and not", func(t *testing.T) {
		_, c, _ := run(t, 5<<3, 0, 5<<3|2|0x40, 1, 4, howClient|fromServer, 255,
			7<<3, 0, 7<<3|2|0x80, 3, 3, howClient|fromRouter, 255)
		rejected := 0
		for _, r := range c.records {
			if r.Type == "dns" && r.State == result.StateRejected {
				rejected++
			}
		}
		if q := c.summary.Capture.Quality; rejected != 2 || q.ICMPRejections != 2 || q.UnmatchedICMP != 0 {
			t.Fatalf("want 2 rejected queries of 2 rejections, got %d; quality %+v", rejected, q)
		}
	})
	t.Run("quotes of nothing sent are unmatched", func(t *testing.T) {
		s, c, _ := run(t, 0<<3, 0, 3<<3|2, 3, 3, howClient|fromRouter|repeat64, 255, 0<<3|2, 3, 3, howFragment, 255)
		if q := c.summary.Capture.Quality; len(s.errors) != 65 || q.ICMPRejections != 65 || q.UnmatchedICMP != 65 {
			t.Fatalf("want 65 unmatched rejections, got %d sent; quality %+v", len(s.errors), q)
		}
	})
	for _, tt := range []struct {
		name   string
		forge  func(c *collector)
		report string
	}{
		{"another code", func(c *collector) { c.records[0].ICMP.Code = 3 }, "no rejection of that type"},
		{"another sender", func(c *collector) { c.records[0].ICMP.From = "198.18.0.254" }, "no rejection of that type"},
		{"another flow", func(c *collector) { c.records[0].ClientPort++ }, "no rejection of that type"},
		{"rejected without an error", func(c *collector) { c.records[0].ICMP = nil }, "without its ICMP error"},
		{"an uncounted rejection", func(c *collector) { c.summary.Capture.Quality.ICMPRejections++ }, "were sent"},
		{"too many unmatched", func(c *collector) { c.summary.Capture.Quality.UnmatchedICMP = 2 }, "unmatched_icmp 2 of 1"},
		{"matched and lost", func(c *collector) { c.records[0].ICMP, c.records[0].State = nil, "unanswered" }, "no record carries one"},
		{"a record from an error", func(c *collector) { c.records = append(c.records, c.records[0]) }, "records from 1 frames"},
	} {
		t.Run("reports "+tt.name, func(t *testing.T) {
			s := buildICMPScenario(synRejected)
			c, tracked := runFrames(t, opts, s.frames)
			tt.forge(c)
			var got []string
			s.check(func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }, c, tracked)
			if !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, tt.report) }) {
				t.Errorf("want a report with %q, got %q", tt.report, got)
			}
		})
	}
}
