package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

var (
	cli4 = netip.MustParseAddr("10.0.0.1")
	srv4 = netip.MustParseAddr("20.0.0.2")
	cli6 = netip.MustParseAddr("2001:db8::1")
	srv6 = netip.MustParseAddr("2001:db8::2")
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// syn is a TCP SYN from port 50000 to 443.
func syn() *layers.TCP {
	return &layers.TCP{SrcPort: 50000, DstPort: 443, Seq: 1000, SYN: true, Window: 1024}
}

// data is a TCP PSH/ACK segment from port 50000 to 443.
func data() *layers.TCP {
	return &layers.TCP{SrcPort: 50000, DstPort: 443, Seq: 1001, Ack: 5001, PSH: true, ACK: true, Window: 1024}
}

func dnsUDP() *layers.UDP { return &layers.UDP{SrcPort: 40000, DstPort: 53} }

// v4 serializes an IPv4 packet carrying transport and payload.
func v4(t testing.TB, transport gopacket.SerializableLayer, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: testIPID, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	return ipPacket(t, ip, transport, payload)
}

// v6 serializes an IPv6 packet carrying transport and payload.
func v6(t testing.TB, transport gopacket.SerializableLayer, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()}
	return ipPacket(t, ip, transport, payload)
}

func ipPacket(t testing.TB, ip gopacket.NetworkLayer, transport gopacket.SerializableLayer, payload []byte) []byte {
	proto := layers.IPProtocolTCP
	switch tr := transport.(type) {
	case *layers.TCP:
		tr.SetNetworkLayerForChecksum(ip)
	case *layers.UDP:
		tr.SetNetworkLayerForChecksum(ip)
		proto = layers.IPProtocolUDP
	}
	switch l := ip.(type) {
	case *layers.IPv4:
		l.Protocol = proto
	case *layers.IPv6:
		l.NextHeader = proto
	}
	return serialize(t, ip.(gopacket.SerializableLayer), transport, gopacket.Payload(payload))
}

// ether prefixes an Ethernet header with EtherType etype.
func ether(etype uint16, payload []byte) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, byte(etype >> 8), byte(etype)}
	return append(b, payload...)
}

// tag is an 802.1Q tag body (the TPID is the previous header's type): VLAN id, then the next EtherType.
func tag(vid, next uint16) []byte {
	return []byte{byte(vid >> 8), byte(vid), byte(next >> 8), byte(next)}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func sll(etype uint16, payload []byte) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	binary.BigEndian.PutUint16(b[14:], etype)
	return append(b, payload...)
}

func sll2(etype uint16, payload []byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], etype)
	binary.BigEndian.PutUint32(b[4:], 3) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[11] = 6
	return append(b, payload...)
}

func pppoe(pppProto uint16, payload []byte) []byte {
	b := []byte{0x11, 0, 0x12, 0x34, 0, 0, byte(pppProto >> 8), byte(pppProto)}
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)+2))
	return append(b, payload...)
}

// nflog builds an NFLOG record (little-endian TLVs) with a prefix TLV before the payload TLV.
func nflog(family byte, payload []byte) []byte {
	b := []byte{family, 0, 0, 1}
	prefix := []byte{9, 0, 10, 0, 'a', 'b', 'c', 'd', 'e', 0, 0, 0} // NFULA_PREFIX, padded
	b = append(b, prefix...)
	tl := make([]byte, 4)
	binary.LittleEndian.PutUint16(tl, uint16(4+len(payload)))
	binary.LittleEndian.PutUint16(tl[2:], nflogPayloadType)
	return append(append(b, tl...), payload...)
}

func frame(lt layers.LinkType, b []byte) capture.Frame {
	return capture.Frame{Data: b, WireLen: len(b), LinkType: lt, Number: 1, Timestamp: time.Unix(100, 0)}
}

// cut returns the frame snaplen-cut to n bytes.
func cut(f capture.Frame, n int) capture.Frame {
	f.Data = f.Data[:n]
	return f
}

func le32(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
func be32(v uint32) []byte { b := make([]byte, 4); binary.BigEndian.PutUint32(b, v); return b }

// testIPID is the identification of every IPv4 packet the tests build.
const testIPID = 7

// ptr returns a pointer to a copy of f, for Decode.
func ptr(f capture.Frame) *capture.Frame { return &f }
