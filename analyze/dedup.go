package analyze

import (
	"github.com/intunecap/intunecap/analyze/decode"
)

// dupWindow is how close in capture time two identical segments must be to count as one packet captured twice
// rather than a retransmission: pktmon records a packet at several points of the Windows stack within
// microseconds, and a SPAN port that mirrors both directions of a link repeats it as fast.
const dupWindow = int64(2_000_000) // 2 ms in nanoseconds

// segmentSig is what tells one TCP segment of a connection from the next: a copy of the same packet repeats
// all of it, IPv4 identification included, while a retransmission carries a new identification.
type segmentSig struct {
	seq, ack   uint32
	wire       int32
	ipid       uint16
	flags      uint8
	fromClient bool
	hasID      bool
	ns         int64
}

func sigOf(p *decode.Packet, fromClient bool, ns int64) segmentSig {
	return segmentSig{seq: p.Seq, ack: p.Ack, wire: int32(p.PayloadWireLen), ipid: p.IPID, flags: p.TCPFlags,
		fromClient: fromClient, hasID: p.HasIPID, ns: ns}
}

// duplicates reports whether s repeats the connection's previous segment within dupWindow.
func (s segmentSig) duplicates(prev segmentSig) bool {
	if prev.ns == 0 || s.ns-prev.ns > dupWindow || prev.ns-s.ns > dupWindow {
		return false
	}
	return s.seq == prev.seq && s.ack == prev.ack && s.wire == prev.wire && s.ipid == prev.ipid &&
		s.flags == prev.flags && s.fromClient == prev.fromClient && s.hasID == prev.hasID
}
