package decode

import (
	"encoding/binary"
	"math/bits"
)

// ChecksumStatus is what verifying a packet's IPv4 header and transport checksums found.
type ChecksumStatus uint8

// The statuses VerifyChecksums reports, from least to most telling.
const (
	// ChecksumUnverified: nothing could be verified: the capture cut the packet (snaplen), a UDP datagram over
	// IPv4 carries no checksum (0), or the protocol is not one verified here.
	ChecksumUnverified ChecksumStatus = iota
	// ChecksumGood: every checksum verified (an IPv4 header alone counts when the transport could not be).
	ChecksumGood
	// ChecksumUnfinished: a checksum is wrong in the way a sender's NIC offload leaves it: the TCP or UDP field
	// holds the pseudo-header sum alone (what Linux hands the NIC to finish), or 0 (also an IPv4 header
	// checksum of 0). The packet left the capturing host before the NIC finished it; not damage by itself.
	ChecksumUnfinished
	// ChecksumBad: a checksum is wrong in any other way: the packet was damaged.
	ChecksumBad
)

// VerifyChecksums verifies the IPv4 header checksum and the TCP, UDP, ICMP or ICMPv6 checksum of p, over
// p.IPv4Header and p.Segment. It reads every byte of the segment, so callers verify only the packets they
// look at closely. The worst status found wins.
func (p *Packet) VerifyChecksums() ChecksumStatus {
	st := ChecksumUnverified
	if len(p.IPv4Header) >= 20 {
		st = ipv4HeaderStatus(p.IPv4Header)
	}
	return max(st, p.transportStatus())
}

// ipv4HeaderStatus verifies an IPv4 header: its ones' complement sum, checksum field included, is 0xffff.
func ipv4HeaderStatus(h []byte) ChecksumStatus {
	switch {
	case fold(sumWords(h, 0)) == 0xffff:
		return ChecksumGood
	case binary.BigEndian.Uint16(h[10:12]) == 0:
		return ChecksumUnfinished
	}
	return ChecksumBad
}

// transportStatus verifies the segment's checksum.
func (p *Packet) transportStatus() ChecksumStatus {
	seg := p.Segment
	var field int // offset of the checksum field
	switch p.IPProto {
	case protoTCP:
		field = 16
	case protoUDP:
		if len(seg) < 8 {
			return ChecksumUnverified
		}
		n := int(binary.BigEndian.Uint16(seg[4:6]))
		if n < 8 || n > len(seg) {
			return ChecksumUnverified // a length the header cannot have (or a jumbogram's 0)
		}
		seg, field = seg[:n], 6
		if p.Src.Is4() && binary.BigEndian.Uint16(seg[6:8]) == 0 {
			return ChecksumUnverified // RFC 768: the sender computed none
		}
	case protoICMPv4:
		return status(fold(sumWords(seg, 0)), len(seg) >= 4, false, 0, 0)
	case protoICMPv6:
		field = 2
	default:
		return ChecksumUnverified
	}
	if len(seg) < field+2 {
		return ChecksumUnverified
	}
	pseudo := p.pseudoSum(len(seg))
	sum := fold(sumWords(seg, pseudo))
	offloadable := p.IPProto == protoTCP || p.IPProto == protoUDP
	return status(sum, true, offloadable, binary.BigEndian.Uint16(seg[field:field+2]), fold(pseudo))
}

// status classifies a folded sum over data and checksum field: 0xffff verifies. A failing TCP or UDP checksum
// whose field holds the pseudo-header sum or 0 is offload's unfinished one.
func status(sum uint16, whole, offloadable bool, field, pseudo uint16) ChecksumStatus {
	switch {
	case !whole:
		return ChecksumUnverified
	case sum == 0xffff:
		return ChecksumGood
	case offloadable && (field == pseudo || field == 0):
		return ChecksumUnfinished
	}
	return ChecksumBad
}

// pseudoSum is the unfolded sum of the pseudo-header of RFC 793/768 (IPv4) or RFC 8200 section 8.1 (IPv6)
// for a transport segment n bytes long. SrcWords and DstWords hold the addresses already.
func (p *Packet) pseudoSum(n int) uint64 {
	s := uint64(p.IPProto) + uint64(n)
	if p.Src.Is4() {
		return s + p.SrcWords[1]&0xffffffff + p.DstWords[1]&0xffffffff
	}
	for _, w := range [4]uint64{p.SrcWords[0], p.SrcWords[1], p.DstWords[0], p.DstWords[1]} {
		s += w>>32 + w&0xffffffff
	}
	return s
}

// sumWords adds b to acc as big-endian 32-bit words (an odd tail padded with zeros on the right). Folded, the
// result is the ones' complement sum of b's 16-bit words: 2^16 is 1 modulo 0xffff. A uint64 cannot overflow
// for any b an IP packet holds.
//
// From 32 bytes on, it first sums b's 64-bit words as they lie in memory with end-around carry (four
// add-with-carry instructions for 32 bytes), folds that to 16 bits and swaps its bytes: the ones' complement
// sum does not depend on byte order (RFC 1071, 2(B)), and 2^64 - 1 is a multiple of 0xffff. TestSumWords holds
// it to RFC 1071's loop.
func sumWords(b []byte, acc uint64) uint64 {
	if len(b) >= 32 {
		var s, c uint64
		for len(b) >= 32 {
			s, c = bits.Add64(s, binary.LittleEndian.Uint64(b), c)
			s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[8:]), c)
			s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[16:]), c)
			s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[24:]), c)
			b = b[32:]
		}
		// s + c cannot carry: a carry out of s + w + c leaves s at most 2^64 - 2, since s + w + c is at most
		// 2^65 - 2 unless s was 2^64 - 1 with a carry in, which the same argument rules out one step earlier.
		acc += uint64(bits.ReverseBytes16(fold(s + c)))
	}
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// fold reduces a sum to 16 bits with end-around carry.
func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
