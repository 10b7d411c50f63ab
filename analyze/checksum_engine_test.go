package analyze_test

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/result"
)

// Hand-built captures for the checksum and capture-loss counters: frames serialized by gopacket with correct
// checksums (the reference), then, where a case says so, given the checksum a NIC offload leaves, a damaged
// byte, or no UDP checksum.

var (
	ownHost  = netip.MustParseAddr("10.0.0.5") // the capturing host
	resolver = netip.MustParseAddr("10.0.0.1")
	remote   = netip.MustParseAddr("203.0.113.9")
)

// tamper is what a frame suffers after gopacket computed its checksums.
type tamper int

const (
	intact  tamper = iota
	offload        // the transport checksum field holds the pseudo-header sum (Linux hands that to the NIC)
	damage         // the last payload byte flipped on the way
	noSum          // UDP checksum 0: none computed (IPv4)
)

// qualityCapture builds frames between the capturing host, a resolver and a remote server.
type qualityCapture struct{ pcapBuilder }

func (c *qualityCapture) tcp(src, dst netip.Addr, sport, dport uint16, flags uint8, seq, ackNo uint32,
	payload string, how tamper) {
	c.t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.AsSlice(),
		DstIP: dst.AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ackNo,
		SYN: flags&syn != 0, ACK: flags&ack != 0, FIN: flags&fin != 0, RST: flags&rst != 0, PSH: flags&psh != 0,
		Window: 65535}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	frame := c.add(eth4(), ip, tcp, gopacket.Payload(payload))
	c.spoil(frame, 14+20+16, how)
}

func (c *qualityCapture) dns(src, dst netip.Addr, sport, dport uint16, msg *layers.DNS, how tamper) {
	c.t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(),
		DstIP: dst.AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	frame := c.add(eth4(), ip, udp, msg)
	c.spoil(frame, 14+20+6, how)
}

// spoil tampers with an IPv4 frame whose transport checksum is at field.
func (c *qualityCapture) spoil(frame []byte, field int, how tamper) {
	switch how {
	case offload:
		ip := frame[14:]
		sum := uint32(ip[9]) + uint32(len(ip)-20)
		for i := 12; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum>>16 != 0 {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(frame[field:], uint16(sum))
	case damage:
		frame[len(frame)-1] ^= 0x20
	case noSum:
		binary.BigEndian.PutUint16(frame[field:], 0)
	}
}

// lookup adds a DNS query from the capturing host and its answer.
func (c *qualityCapture) lookup(query, answer tamper) {
	q := dnsQuery(7, "example.org", layers.DNSTypeA)
	c.dns(ownHost, resolver, 40000, 53, q, query)
	a := dnsQuery(7, "example.org", layers.DNSTypeA)
	a.QR = true
	a.Answers = []layers.DNSResourceRecord{{Name: []byte("example.org"), Type: layers.DNSTypeA,
		Class: layers.DNSClassIN, TTL: 60, IP: remote.AsSlice()}}
	c.dns(resolver, ownHost, 53, 40000, a, answer)
}

// session adds a whole HTTP exchange from the capturing host: handshake, request, response, close.
func (c *qualityCapture) session(client, server tamper) {
	req := "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	c.tcp(ownHost, remote, 50000, 80, syn, 100, 0, "", client)
	c.tcp(remote, ownHost, 80, 50000, syn|ack, 900, 101, "", server)
	c.tcp(ownHost, remote, 50000, 80, ack, 101, 901, "", client)
	c.tcp(ownHost, remote, 50000, 80, psh|ack, 101, 901, req, client)
	c.tcp(remote, ownHost, 80, 50000, psh|ack, 901, 101+uint32(len(req)), resp, server)
	c.tcp(ownHost, remote, 50000, 80, fin|ack, 101+uint32(len(req)), 901+uint32(len(resp)), "", client)
	c.tcp(remote, ownHost, 80, 50000, fin|ack, 901+uint32(len(resp)), 102+uint32(len(req)), "", server)
}

// checksumQuality is the part of the quality section these tests look at.
type checksumQuality struct {
	Bad            uint64
	Offload        []string
	OffloadPackets uint64
	AckedUnseen    uint64
	MissingSynAck  uint64
}

func qualityOf(q result.Quality) checksumQuality {
	return checksumQuality{q.BadChecksums, q.ChecksumOffload, q.ChecksumOffloadPackets, q.AckedUnseen,
		q.MissingSynAck}
}

// TestChecksumQuality: the capturing host's offloaded checksums are said once and are not damage; a remote
// host's damaged packet is; a UDP datagram without a checksum is neither; a clean capture is all zeros. The
// counts do not depend on the number of workers.
func TestChecksumQuality(t *testing.T) {
	tests := []struct {
		name  string
		build func(c *qualityCapture)
		want  checksumQuality
	}{
		{"clean", func(c *qualityCapture) {
			c.lookup(intact, intact)
			c.session(intact, intact)
		}, checksumQuality{}},
		{"offload on the capturing host", func(c *qualityCapture) {
			c.lookup(offload, intact)
			c.session(offload, intact)
		}, checksumQuality{Offload: []string{"10.0.0.5"}, OffloadPackets: 3}}, // query, SYN, request
		{"damage from a remote host", func(c *qualityCapture) {
			c.lookup(intact, intact)
			c.session(intact, damage)
		}, checksumQuality{Bad: 1}}, // the response: server first bytes, read closely
		{"damage besides offload", func(c *qualityCapture) {
			c.lookup(offload, damage)
			c.session(offload, intact)
		}, checksumQuality{Bad: 1, Offload: []string{"10.0.0.5"}, OffloadPackets: 3}},
		{"udp without checksum", func(c *qualityCapture) {
			c.lookup(noSum, noSum)
			c.session(intact, intact)
		}, checksumQuality{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &qualityCapture{pcapBuilder{t: t}}
			tc.build(c)
			path := c.write("quality.pcap")
			for _, workers := range []int{1, 3} {
				got := qualityOf(analyzeWith(t, workers, path).summary.Capture.Quality)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%d workers: got %+v, want %+v", workers, got, tc.want)
				}
			}
		})
	}
}
