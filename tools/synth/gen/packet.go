package gen

import (
	"encoding/binary"
	"net/netip"
)

// TCP flags.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

const (
	protoTCP = 6
	protoUDP = 17
)

// hdr is what one frame carries besides its payload.
type hdr struct {
	src, dst       netip.Addr
	srcMAC, dstMAC [6]byte
	vlan           uint16 // 0 = untagged
	proto          uint8
	sport, dport   uint16
	flags          uint8
	seq, ack       uint32
	ttl            uint8
	ipID           uint16
	synOpts        bool // MSS, SACK permitted, window scale: what SYN and SYN-ACK carry
	window         uint16
	payload        []byte
}

// synOptions: MSS 1460, SACK permitted, NOP, window scale 7, NOPs to a multiple of 4.
var synOptions = [12]byte{2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7, 1, 1}

// build writes the Ethernet frame for h into buf (which must be large enough) and returns its length. Headers
// are written by hand, checksums included, so that a gigabyte takes seconds.
func build(buf []byte, h *hdr) int {
	n := copy(buf, h.dstMAC[:])
	n += copy(buf[n:], h.srcMAC[:])
	if h.vlan != 0 {
		binary.BigEndian.PutUint16(buf[n:], 0x8100)
		binary.BigEndian.PutUint16(buf[n+2:], h.vlan)
		n += 4
	}
	l4len := 8 + len(h.payload)
	if h.proto == protoTCP {
		l4len = 20 + len(h.payload)
		if h.synOpts {
			l4len += len(synOptions)
		}
	}
	ipStart := n
	if h.src.Is4() {
		binary.BigEndian.PutUint16(buf[n:], 0x0800)
		n += 2
		ipStart = n
		n += ipv4(buf[n:], h, l4len)
	} else {
		binary.BigEndian.PutUint16(buf[n:], 0x86dd)
		n += 2
		ipStart = n
		n += ipv6(buf[n:], h, l4len)
	}
	l4 := buf[n : n+l4len]
	if h.proto == protoTCP {
		tcp(l4, h)
	} else {
		udp(l4, h)
	}
	sum := pseudoSum(h, buf[ipStart:], l4len)
	off := 16 // TCP checksum offset
	if h.proto == protoUDP {
		off = 6
	}
	c := fold(sumBytes(l4, sum))
	if c == 0 && h.proto == protoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[off:], c)
	return n + l4len
}

func ipv4(b []byte, h *hdr, l4len int) int {
	b[0], b[1] = 0x45, 0
	binary.BigEndian.PutUint16(b[2:], uint16(20+l4len))
	binary.BigEndian.PutUint16(b[4:], h.ipID)
	binary.BigEndian.PutUint16(b[6:], 0x4000) // don't fragment
	b[8], b[9] = h.ttl, h.proto
	b[10], b[11] = 0, 0
	s, d := h.src.As4(), h.dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], fold(sumBytes(b[:20], 0)))
	return 20
}

func ipv6(b []byte, h *hdr, l4len int) int {
	binary.BigEndian.PutUint32(b, 0x60000000)
	binary.BigEndian.PutUint16(b[4:], uint16(l4len))
	b[6], b[7] = h.proto, h.ttl
	s, d := h.src.As16(), h.dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return 40
}

func tcp(b []byte, h *hdr) {
	binary.BigEndian.PutUint16(b, h.sport)
	binary.BigEndian.PutUint16(b[2:], h.dport)
	binary.BigEndian.PutUint32(b[4:], h.seq)
	binary.BigEndian.PutUint32(b[8:], h.ack)
	hl := 20
	if h.synOpts {
		hl += len(synOptions)
		copy(b[20:], synOptions[:])
	}
	b[12], b[13] = byte(hl/4)<<4, h.flags
	binary.BigEndian.PutUint16(b[14:], h.window)
	b[16], b[17], b[18], b[19] = 0, 0, 0, 0
	copy(b[hl:], h.payload)
}

func udp(b []byte, h *hdr) {
	binary.BigEndian.PutUint16(b, h.sport)
	binary.BigEndian.PutUint16(b[2:], h.dport)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	b[6], b[7] = 0, 0
	copy(b[8:], h.payload)
}

// pseudoSum is the checksum of the IP pseudo-header, read back from the IP header just written.
func pseudoSum(h *hdr, ip []byte, l4len int) uint64 {
	var s uint64
	if h.src.Is4() {
		s = sumBytes(ip[12:20], 0)
	} else {
		s = sumBytes(ip[8:40], 0)
	}
	return s + uint64(h.proto) + uint64(l4len)
}

// sumBytes adds b as big-endian 16-bit words to s, eight bytes at a time.
func sumBytes(b []byte, s uint64) uint64 {
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		s += v>>48 + v>>32&0xffff + v>>16&0xffff + v&0xffff
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold turns a running sum into the one's complement checksum.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
