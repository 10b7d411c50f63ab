package analyze

import (
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
)

// lossState is what a TCP connection keeps to notice segments the capture lost: how far each side's sequence
// numbers reached in the capture, and whether the other side acknowledged beyond that. Wireshark says the
// same as "ACKed segment that wasn't captured"; Zeek counts it in capture_loss.log.
type lossState struct {
	sent  [2]uint32 // one past the highest sequence number each side (0 client, 1 server) was seen to use
	known [2]bool
	// ackedUnseen: a side acknowledged sequence space the capture never saw the other side send.
	ackedUnseen bool
	// synAckAcked: the client, after its SYN, sent the handshake's ACK (its ISN+1, an acknowledgment): it got
	// a SYN-ACK, whether or not the capture did.
	synAckAcked bool
}

// side is the index of a direction in lossState.
func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// observeLoss updates the loss state with one segment: a couple of compares, no allocation. Resets take no
// part: their sequence and acknowledgment numbers need not follow the stream (a middlebox's forged reset).
func (c *conn) observeLoss(p *decode.Packet, fromClient bool) {
	f := p.TCPFlags
	if f&flagRST != 0 {
		return
	}
	l := &c.loss
	me := side(fromClient)
	peer := me ^ 1
	if f&flagACK != 0 && l.known[peer] && int32(p.Ack-l.sent[peer]) > 0 {
		l.ackedUnseen = true
	}
	if fromClient && f&(flagSYN|flagACK) == flagACK && c.synSeen && c.isnKnown && p.Seq == c.clientISN+1 {
		l.synAckAcked = true
	}
	end := p.Seq + uint32(p.PayloadWireLen) + uint32(f&flagSYN>>1) + uint32(f&flagFIN) // SYN and FIN take one each
	if !l.known[me] || int32(end-l.sent[me]) > 0 {
		l.sent[me], l.known[me] = end, true
	}
}

// lossCounts are the engine's capture-loss counters, one per connection.
type lossCounts struct {
	ackedUnseen   uint64 // connections with sequence space acknowledged that the capture never saw
	missingSynAck uint64 // connections whose client acknowledged a SYN-ACK the capture never saw
}

// noteCaptureLoss counts, once a connection ends, what its loss state says.
func (e *Engine) noteCaptureLoss(c *conn) {
	if c.key.proto() != protoTCP {
		return
	}
	q := &e.facts.quality
	if c.loss.ackedUnseen {
		q.loss.ackedUnseen++
	}
	if c.synSeen && !c.synAckSeen && c.loss.synAckAcked {
		q.loss.missingSynAck++
	}
}

// qualityFacts are the capture-quality counts of checksum_*.go and capture_loss.go, kept apart from the
// engine's other facts so that one call merges them and one fills the summary.
type qualityFacts struct {
	checksums checksumTally
	loss      lossCounts
}

// add folds another engine's counts into f.
func (f *qualityFacts) add(o *qualityFacts) {
	f.checksums.add(&o.checksums)
	f.loss.ackedUnseen += o.loss.ackedUnseen
	f.loss.missingSynAck += o.loss.missingSynAck
}

// fill writes the counts into the quality section.
func (f *qualityFacts) fill(q *result.Quality) {
	f.checksums.fill(q)
	q.AckedUnseen, q.MissingSynAck = f.loss.ackedUnseen, f.loss.missingSynAck
}
