// Package decode turns a captured frame into the few header fields the flow engine needs: addresses, VLAN tags,
// ports, TCP flags and sequence numbers, and the transport payload. It reads link, network and transport
// headers only; application protocols are parsed elsewhere.
//
// Beyond plain Ethernet and IP it:
//   - reassembles IPv4 and IPv6 fragments (RFC 791, RFC 8200 with RFC 5722's rule that overlapping fragments
//     drop the datagram), within shared caps on bytes, datagrams and capture time (Options, Stats);
//   - unwraps VXLAN, GENEVE, GRE (with ERSPAN I, II and III) and MPLS, returning the inner packet and naming
//     the outermost encapsulation in Packet.Tunnel; nesting is bounded;
//   - reads the quoted header of ICMP and ICMPv6 errors (destination unreachable, time exceeded) into
//     Packet.ICMP, so that a refused connection can be matched to its error.
//
// Decoding allocates nothing per packet, except to hold fragments. Ethernet frames of the common shapes take a
// fast path that reads headers in place and gives exactly the layer parser's answer (FuzzDecode checks it).
package decode

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Packet is the decoded view of one frame the engine needs. Slices alias the frame's data (or the
// defragmenter's buffer) and are valid until the next Decode.
//
// The fields the engine reads for every packet (the flow key, the TCP state, the payload, whether it was
// tunnelled) come first, in the first two cache lines: a packet decoded on one core is read on another, and
// the lines it does not touch (addresses as netip.Addr, the tunnel's and the ICMP quote's details, the
// checksum slices) are not carried over.
type Packet struct {
	// SrcWords and DstWords hold the addresses as two big-endian words each (IPv4 mapped into ::ffff:0:0/96),
	// read straight from the header, so a flow table can build its keys without converting Src and Dst.
	SrcWords, DstWords [2]uint64
	VLAN               [2]uint16 // outer, inner (0 = none); part of the flow key
	IPProto            uint8     // 6 TCP, 17 UDP, other values pass through with no ports
	TCPFlags           uint8     // FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 (ECE=0x40 CWR=0x80)
	SrcPort, DstPort   uint16
	Seq, Ack           uint32
	IPID               uint16 // IPv4 identification: tells a duplicated packet from a retransmission
	HasIPID            bool   // IPv4 (IPv6 has no identification outside fragments)
	Truncated          bool   // the frame was cut by snaplen inside the headers or payload
	Fragment           bool   // an IPv4 or IPv6 fragment was buffered; nothing to process yet
	Payload            []byte // captured transport payload (may be shorter than the wire length)
	PayloadWireLen     int    // payload length according to the IP (or UDP) header (>= len(Payload))
	// Tunnel describes the outermost encapsulation (VXLAN, GENEVE, GRE, ERSPAN, MPLS) unwrapped to reach this
	// packet; zero when the packet was not tunnelled. Every other field describes the inner packet.
	Tunnel Tunnel

	Src, Dst netip.Addr
	// ICMP describes an ICMP or ICMPv6 error (destination unreachable, time exceeded) and the packet it quotes;
	// zero for every other packet.
	ICMP ICMP
	// IPv4Header is the IPv4 header, options included, and Segment the transport header and payload exactly as
	// long as the IP header says (the reassembled datagram's, for fragments): what VerifyChecksums reads. Both
	// alias the frame. Segment is nil when the capture does not hold all of it (snaplen), and for IPv6 packets
	// with extension headers other than hop-by-hop (a routing header changes the pseudo-header's destination).
	IPv4Header []byte
	Segment    []byte
}

// TCP flag bits of Packet.TCPFlags, so callers need not repeat the wire values.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
)

// Errors returned by Decode. They are values, not formatted per packet, so that counting undecodable packets
// costs no allocation; malformed packets wrap ErrMalformed with the detail.
var (
	// ErrLinkType: the frame's link type is not one this package reads.
	ErrLinkType = errors.New("unsupported link type")
	// ErrNotIP: the frame carries no IPv4 or IPv6 packet (ARP, LLDP, spanning tree, ...).
	ErrNotIP = errors.New("not an ip packet")
	// ErrTruncated: snaplen cut the frame before the headers needed (at least the addresses and, for TCP, the
	// flags) were captured.
	ErrTruncated = errors.New("headers cut by snaplen")
	// ErrMalformed: a header is inconsistent (bad lengths, bad version).
	ErrMalformed = errors.New("malformed packet")

	errTCPOffset      = fmt.Errorf("%w: tcp data offset outside the segment", ErrMalformed)
	errShortTransport = fmt.Errorf("%w: transport header shorter than the ip payload allows", ErrMalformed)
)

// Options bound the decoder's memory; the zero value means the defaults. The fragment caps are shared by IPv4
// and IPv6: what they bound is the sum of both.
type Options struct {
	// MaxFragmentBytes caps the payload bytes held for incomplete IPv4 and IPv6 datagrams (default 4 MiB).
	// When a new fragment would exceed it, every incomplete datagram is dropped and counted.
	MaxFragmentBytes int
	// MaxFragmentDatagrams caps the number of incomplete datagrams held (default 4096).
	MaxFragmentDatagrams int
	// FragmentTimeout drops incomplete datagrams not completed within this capture time (default 30s, as
	// Linux's ipfrag_time): an IPv4 datagram when no fragment of it came for that long, an IPv6 datagram when
	// its first fragment to arrive is that old (RFC 8200).
	FragmentTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxFragmentBytes <= 0 {
		o.MaxFragmentBytes = 4 << 20
	}
	if o.MaxFragmentDatagrams <= 0 {
		o.MaxFragmentDatagrams = 4096
	}
	if o.FragmentTimeout <= 0 {
		o.FragmentTimeout = 30 * time.Second
	}
	return o
}

// Stats count what happened to IPv4 and IPv6 fragments, for the report's capture-quality section.
type Stats struct {
	FragmentsHeld    uint64 // fragments buffered until their datagram was complete
	Reassembled      uint64 // datagrams rebuilt from fragments
	FragmentsDropped uint64 // incomplete datagrams dropped: the sum of the three counts below
	DroppedTimeout   uint64 // not completed within Options.FragmentTimeout (a fragment was lost)
	DroppedAtCap     uint64 // dropped because MaxFragmentBytes or MaxFragmentDatagrams was reached
	// DroppedInvalid: overlapping or inconsistent fragments (RFC 5722 for IPv6), or a datagram over 65535 bytes.
	DroppedInvalid uint64
	// Incomplete is the number of datagrams held when Stats was called: at the end of a capture, datagrams
	// whose missing fragments were never captured. Not part of FragmentsDropped.
	Incomplete uint64
}
