package analyze_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Hand-built captures for ICMP rejections, tunnels and fragments, written at test time with gopacket's
// serializers (the reference encoder) and read back through the whole offline path.

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

// pcapBuilder collects frames, 10 ms apart in capture time, and writes them as a pcap file.
type pcapBuilder struct {
	t      *testing.T
	frames [][]byte
}

func (b *pcapBuilder) add(ls ...gopacket.SerializableLayer) []byte {
	b.t.Helper()
	frame := serializeLayers(b.t, ls...)
	b.frames = append(b.frames, frame)
	return frame
}

func (b *pcapBuilder) write(name string) string {
	b.t.Helper()
	path := filepath.Join(b.t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		b.t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, fr := range b.frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * 10 * time.Millisecond),
			CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			b.t.Fatal(err)
		}
	}
	return path
}

func serializeLayers(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eth4() *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
}

func eth6() *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

// tcpSeg is a TCP segment whose checksum covers ip.
func tcpSeg(ip gopacket.NetworkLayer, sport, dport uint16, syn, ack bool) *layers.TCP {
	tc := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), SYN: syn, ACK: ack, Seq: 1000,
		Window: 64240}
	if ack {
		tc.Ack = 1
	}
	_ = tc.SetNetworkLayerForChecksum(ip)
	return tc
}

func udpDgram(ip gopacket.NetworkLayer, sport, dport uint16) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(ip)
	return u
}

func dnsQuery(id uint16, name string, qtype layers.DNSType) *layers.DNS {
	return &layers.DNS{ID: id, RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
}

func dnsAnswer(id uint16, name string, addr string) *layers.DNS {
	ip := net.ParseIP(addr)
	qtype := layers.DNSTypeAAAA
	if ip.To4() != nil {
		ip, qtype = ip.To4(), layers.DNSTypeA
	}
	d := dnsQuery(id, name, qtype)
	d.QR, d.RA, d.ANCount = true, true, 1
	d.Answers = []layers.DNSResourceRecord{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN, TTL: 60, IP: ip}}
	return d
}

// quote is the IP packet an ICMP error quotes: frame's bytes after its 14-byte Ethernet header, cut to n bytes
// (0: whole).
func quote(frame []byte, n int) gopacket.Payload {
	b := frame[14:]
	if n > 0 {
		b = b[:n]
	}
	return gopacket.Payload(b)
}

// unreach4 is an ICMPv4 destination unreachable with code.
func unreach4(code uint8) *layers.ICMPv4 {
	return &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)}
}

// unreach6 is an ICMPv6 destination unreachable with code, its checksum over ip; the 4 unused bytes that
// follow the type, code and checksum are the first of the payload.
func unreach6(ip *layers.IPv6, code uint8) *layers.ICMPv6 {
	m := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeDestinationUnreachable, code)}
	_ = m.SetNetworkLayerForChecksum(ip)
	return m
}

// icmpCapture builds a capture in which ICMP errors answer a DNS query (quoted whole, and quoted with only 8
// bytes past the IP header as RFC 792 asks), a SYN to a listed name (administratively prohibited), an IPv6 SYN
// to an unlisted name, and a UDP flow; one fragmentation-needed error quotes an established connection, and
// one error quotes nothing seen.
func icmpCapture(t *testing.T) string {
	b := &pcapBuilder{t: t}
	client, resolver, fw := "10.0.0.5", "10.0.0.53", "192.0.2.1"
	q := func(sport, id uint16, name string) []byte {
		ip := ip4(client, resolver, layers.IPProtocolUDP)
		return b.add(eth4(), ip, udpDgram(ip, sport, 53), dnsQuery(id, name, layers.DNSTypeA))
	}
	// 1-2: a query rejected with the whole datagram quoted.
	f := q(40000, 0x1111, "a.manage.microsoft.com")
	b.add(eth4(), ip4(resolver, client, layers.IPProtocolICMPv4), unreach4(3), quote(f, 0))
	// 3-4: a query rejected with the IP header and the UDP header quoted (no DNS id).
	f = q(40001, 0x2222, "b.manage.microsoft.com")
	b.add(eth4(), ip4(resolver, client, layers.IPProtocolICMPv4), unreach4(3), quote(f, 28))
	// 5-6: enrollment.manage.microsoft.com resolves to 52.1.1.1; 7-8: its SYN is administratively prohibited.
	q(40002, 0x3333, "enrollment.manage.microsoft.com")
	ip := ip4(resolver, client, layers.IPProtocolUDP)
	b.add(eth4(), ip, udpDgram(ip, 53, 40002), dnsAnswer(0x3333, "enrollment.manage.microsoft.com", "52.1.1.1"))
	ip = ip4(client, "52.1.1.1", layers.IPProtocolTCP)
	f = b.add(eth4(), ip, tcpSeg(ip, 50000, 443, true, false))
	b.add(eth4(), ip4(fw, client, layers.IPProtocolICMPv4), unreach4(13), quote(f, 0))
	// 9-10: graph.microsoft.com (unlisted) resolves to 2001:db8::1; 11-12: its SYN gets ICMPv6 code 1.
	ip6q := ip6("2001:db8::5", "2001:db8::53", layers.IPProtocolUDP)
	b.add(eth6(), ip6q, udpDgram(ip6q, 40003, 53), dnsQuery(0x4444, "graph.microsoft.com", layers.DNSTypeAAAA))
	ip6a := ip6("2001:db8::53", "2001:db8::5", layers.IPProtocolUDP)
	b.add(eth6(), ip6a, udpDgram(ip6a, 53, 40003), dnsAnswer(0x4444, "graph.microsoft.com", "2001:db8::1"))
	ip6s := ip6("2001:db8::5", "2001:db8::1", layers.IPProtocolTCP)
	f = b.add(eth6(), ip6s, tcpSeg(ip6s, 50001, 443, true, false))
	ip6e := ip6("2001:db8::fe", "2001:db8::5", layers.IPProtocolICMPv6)
	b.add(eth6(), ip6e, unreach6(ip6e, 1), append(gopacket.Payload{0, 0, 0, 0}, quote(f, 0)...))
	// 13-14: a UDP datagram to 52.1.1.9:3478, port unreachable.
	ip = ip4(client, "52.1.1.9", layers.IPProtocolUDP)
	f = b.add(eth4(), ip, udpDgram(ip, 50002, 3478), gopacket.Payload("ping"))
	b.add(eth4(), ip4("52.1.1.9", client, layers.IPProtocolICMPv4), unreach4(3), quote(f, 0))
	// 15-17: an established connection to 52.1.1.1, then 18: fragmentation needed about it (not a rejection).
	ip = ip4(client, "52.1.1.1", layers.IPProtocolTCP)
	f = b.add(eth4(), ip, tcpSeg(ip, 50003, 443, true, false))
	ip = ip4("52.1.1.1", client, layers.IPProtocolTCP)
	b.add(eth4(), ip, tcpSeg(ip, 443, 50003, true, true))
	ip = ip4(client, "52.1.1.1", layers.IPProtocolTCP)
	b.add(eth4(), ip, tcpSeg(ip, 50003, 443, false, true))
	b.add(eth4(), ip4(fw, client, layers.IPProtocolICMPv4), unreach4(4), quote(f, 0))
	// 19: port unreachable quoting a datagram never seen.
	ip = ip4("10.0.0.9", "10.0.0.10", layers.IPProtocolUDP)
	f = serializeLayers(t, eth4(), ip, udpDgram(ip, 1234, 5678), gopacket.Payload("x"))
	b.add(eth4(), ip4("10.0.0.10", "10.0.0.9", layers.IPProtocolICMPv4), unreach4(3), quote(f, 0))
	return b.write("icmp.pcap")
}

func TestICMPRejections(t *testing.T) {
	path := icmpCapture(t)
	c := analyzeFiles(t, path)
	type want struct {
		state   result.State
		verdict rules.Verdict
		stage   result.Stage
		reason  string
		icmp    *result.ICMPError
	}
	byKey := map[string]want{
		"dns a.manage.microsoft.com": {result.StateRejected, rules.Blocked, result.StageAfterQuery,
			"rejected by ICMP port unreachable from 10.0.0.53", &result.ICMPError{Type: 3, Code: 3, From: "10.0.0.53"}},
		"dns b.manage.microsoft.com": {result.StateRejected, rules.Blocked, result.StageAfterQuery,
			"rejected by ICMP port unreachable from 10.0.0.53", &result.ICMPError{Type: 3, Code: 3, From: "10.0.0.53"}},
		"dns enrollment.manage.microsoft.com": {result.StateAnswered, rules.Allowed, "", "", nil},
		"dns graph.microsoft.com":             {result.StateAnswered, rules.Unlisted, "", "", nil},
		"flow 52.1.1.1:443 50000": {result.StateRejected, rules.Blocked, result.StageAfterSyn,
			"rejected by ICMP administratively prohibited from 192.0.2.1", &result.ICMPError{Type: 3, Code: 13, From: "192.0.2.1"}},
		"flow 2001:db8::1:443 50001": {result.StateRejected, rules.Unlisted, result.StageAfterSyn,
			"rejected by ICMP administratively prohibited from 2001:db8::fe", &result.ICMPError{Type: 1, Code: 1, From: "2001:db8::fe"}},
		"flow 52.1.1.9:3478 50002": {result.StateRejected, rules.Other, "", "", &result.ICMPError{Type: 3, Code: 3, From: "52.1.1.9"}},
		"flow 52.1.1.1:443 50003":  {result.StateEstablished, rules.Allowed, "", "", nil},
	}
	seen := map[string]bool{}
	for _, r := range c.records {
		key := "dns " + r.Name
		if r.Type == "flow" {
			key = "flow " + r.Server + ":" + itoa(int(r.ServerPort)) + " " + itoa(int(r.ClientPort))
		}
		w, ok := byKey[key]
		if !ok {
			t.Errorf("unexpected record %s: %+v", key, r)
			continue
		}
		seen[key] = true
		if r.State != w.state || r.Verdict != w.verdict || r.Stage != w.stage || r.Reason != w.reason {
			t.Errorf("%s: state %s verdict %s stage %q reason %q; want %s %s %q %q", key, r.State, r.Verdict,
				r.Stage, r.Reason, w.state, w.verdict, w.stage, w.reason)
		}
		if (r.ICMP == nil) != (w.icmp == nil) || r.ICMP != nil && *r.ICMP != *w.icmp {
			t.Errorf("%s: icmp %+v, want %+v", key, r.ICMP, w.icmp)
		}
	}
	for key := range byKey {
		if !seen[key] {
			t.Errorf("no record %s", key)
		}
	}
	q := c.summary.Capture.Quality
	if q.ICMPRejections != 6 || q.UnmatchedICMP != 1 {
		t.Errorf("icmp_rejections %d unmatched_icmp %d, want 6 and 1 (fragmentation needed left out)",
			q.ICMPRejections, q.UnmatchedICMP)
	}
	one := encode(t, c)
	for _, workers := range []int{2, 3} {
		if other := encode(t, analyzeWith(t, workers, path)); other != one {
			t.Errorf("%d workers differ from 1:\n%s", workers, firstDiff(one, other))
		}
	}
}

// vxlan wraps an inner Ethernet frame in VXLAN with vni, from outer src to dst.
func vxlan(t *testing.T, src, dst string, vni uint32, inner ...gopacket.SerializableLayer) []gopacket.SerializableLayer {
	ip := ip4(src, dst, layers.IPProtocolUDP)
	return []gopacket.SerializableLayer{eth4(), ip, udpDgram(ip, 54321, 4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(serializeLayers(t, inner...))}
}

// TestTunnelsKeepVirtualNetworksApart: two VXLAN networks and a GENEVE one reuse the same inner addresses and
// ports; the connection in VXLAN 5 is answered, the one in VXLAN 6 is rejected by an ICMP error inside VXLAN 6.
// They must stay three connections, each with its tunnel, for any number of workers.
func TestTunnelsKeepVirtualNetworksApart(t *testing.T) {
	b := &pcapBuilder{t: t}
	cli, srv, vtepA, vtepB := "10.1.0.5", "10.1.0.80", "192.0.2.10", "192.0.2.20"
	inner := func(src, dst string, sport, dport uint16, syn, ack bool) []gopacket.SerializableLayer {
		ip := ip4(src, dst, layers.IPProtocolTCP)
		return []gopacket.SerializableLayer{eth4(), ip, tcpSeg(ip, sport, dport, syn, ack)}
	}
	b.add(vxlan(t, vtepA, vtepB, 5, inner(cli, srv, 50000, 443, true, false)...)...)
	synVNI6 := serializeLayers(t, inner(cli, srv, 50000, 443, true, false)...)
	b.add(vxlan(t, vtepA, vtepB, 6, inner(cli, srv, 50000, 443, true, false)...)...)
	b.add(vxlan(t, vtepB, vtepA, 5, inner(srv, cli, 443, 50000, true, true)...)...)
	b.add(vxlan(t, vtepA, vtepB, 5, inner(cli, srv, 50000, 443, false, true)...)...)
	b.add(vxlan(t, vtepB, vtepA, 6, eth4(), ip4(srv, cli, layers.IPProtocolICMPv4), unreach4(10), quote(synVNI6, 0))...)
	// The same SYN in GENEVE network 5 (RFC 8926: version 0, no options, protocol IPv4, VNI 5): a third
	// network, as the kind of tunnel is part of the key.
	outer := ip4(vtepA, vtepB, layers.IPProtocolUDP)
	geneve := gopacket.Payload{0, 0, 0x08, 0x00, 0, 0, 5, 0}
	b.add(eth4(), outer, udpDgram(outer, 54321, 6081), append(geneve, quote(synVNI6, 0)...))
	path := b.write("vxlan.pcap")
	c := analyzeFiles(t, path)
	got := map[string]result.State{}
	for _, r := range c.records {
		got[r.Tunnel] = r.State
		if r.Client != cli || r.Server != srv || r.ServerPort != 443 {
			t.Errorf("record is not the inner connection: %+v", r)
		}
	}
	want := map[string]result.State{
		"vxlan 192.0.2.10>192.0.2.20 vni 5":  result.StateEstablished,
		"vxlan 192.0.2.10>192.0.2.20 vni 6":  result.StateRejected,
		"geneve 192.0.2.10>192.0.2.20 vni 5": result.StateUnanswered,
	}
	if len(got) != len(want) || len(c.records) != 3 {
		t.Fatalf("records by tunnel %v, want %v", got, want)
	}
	for k, s := range want {
		if got[k] != s {
			t.Errorf("%s: state %s, want %s", k, got[k], s)
		}
	}
	one := encode(t, c)
	for _, workers := range []int{2, 3} {
		if other := encode(t, analyzeWith(t, workers, path)); other != one {
			t.Errorf("%d workers differ from 1:\n%s", workers, firstDiff(one, other))
		}
	}
}

// TestFragmentCounts: one IPv4 datagram in two fragments (reassembled), one IPv6 datagram whose fragments
// overlap (dropped, RFC 5722), and one IPv4 first fragment whose rest never comes (incomplete at the end).
func TestFragmentCounts(t *testing.T) {
	b := &pcapBuilder{t: t}
	frag4 := func(id uint16, off uint16, more bool, payload []byte) {
		ip := ip4("10.0.0.5", "10.0.0.53", layers.IPProtocolUDP)
		ip.Id, ip.FragOffset = id, off
		if more {
			ip.Flags = layers.IPv4MoreFragments
		}
		b.add(eth4(), ip, gopacket.Payload(payload))
	}
	ipu := ip4("10.0.0.5", "10.0.0.53", layers.IPProtocolUDP)
	dgram := serializeLayers(t, ipu, udpDgram(ipu, 40000, 53), dnsQuery(7, "enrollment.manage.microsoft.com", layers.DNSTypeA))[20:]
	frag4(1, 0, true, dgram[:16])
	frag4(1, 2, false, dgram[16:])
	frag4(2, 0, true, dgram[:16])
	frag6 := func(off uint16, more bool, payload []byte) {
		ip := ip6("2001:db8::5", "2001:db8::53", layers.IPProtocolIPv6Fragment)
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: off, MoreFragments: more,
			Identification: 9}
		b.add(eth6(), ip, fh, gopacket.Payload(payload))
	}
	frag6(0, true, make([]byte, 16))
	frag6(1, false, make([]byte, 16)) // bytes 8-24 overlap bytes 0-16
	path := b.write("frag.pcap")
	for _, workers := range []int{1, 3} {
		q := analyzeWith(t, workers, path).summary.Capture.Quality
		if q.FragmentsReassembled != 1 || q.FragmentsDropped != 1 || q.FragmentsIncomplete != 1 {
			t.Errorf("workers %d: reassembled %d dropped %d incomplete %d, want 1 each", workers,
				q.FragmentsReassembled, q.FragmentsDropped, q.FragmentsIncomplete)
		}
	}
}
