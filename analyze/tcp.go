package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

// tcp handles one TCP segment: find or start its connection, update the handshake state, and feed the payload
// to the name readers while a name may still be found.
func (e *Engine) tcp(p *decode.Packet, ref frameRef, ts time.Time, ns int64, wire int) {
	k, fromLo := keyOf(p)
	found := e.lookup(k) // and in the cache of recent connections, unless nil
	c := found
	if c != nil && startsNewConn(c, p, fromLo) {
		e.finish(c, "")
		c = nil
	} else if c != nil && p.TCPFlags&(flagSYN|flagACK) == flagSYN && c.closed() {
		c.retryAttempt()
	}
	if c == nil && p.TCPFlags&(flagSYN|flagACK) != flagSYN {
		c = e.joinAcrossVLANs(k, fromLo)
	}
	if c == nil {
		c = e.newConn(k, fromLo, p, ref, ts)
	}
	if c != found {
		e.remember(k, c)
	}
	fromClient := c.fromClient(fromLo)
	sig := sigOf(p, fromClient, ns)
	if sig.duplicates(c.lastSig) {
		e.facts.duplicates++
		return
	}
	c.lastSig = sig
	c.last, c.lastNs = ref, ns
	c.packets++
	c.bytes += int64(wire)
	c.observeTCP(p, fromClient)
	if !fromClient && p.TCPFlags&decode.FlagRST != 0 && c.rstFrame == 0 {
		c.rstFrame = ref.number
	}
	closely := p.TCPFlags&(flagSYN|flagRST) != 0 // read closely: its checksums are verified (checksum.go)
	if len(p.Payload) > 0 && !(p.TCPFlags&flagSYN != 0) {
		if c.srvPort() == dnsPort {
			closely = true
			e.dnsOverTCP(c, p, fromClient, ref, ts, wire)
		} else if c.wantsPayload(fromClient) {
			closely = true
			e.readPayload(c, p, fromClient, ref)
		}
	}
	if fromClient && p.TCPFlags&(flagFIN|flagRST) != 0 {
		e.clientEnded(c, p, ref)
	}
	if closely {
		e.verifyChecksums(p)
	}
	if e.opts.ReportEstablished {
		e.reportEarly(c)
	}
	e.place(c)
}

// startsNewConn reports whether p, a SYN, opens a new connection on a 5-tuple still in the table: the old one
// was closed, or it had completed a handshake with another initial sequence number (port reuse).
func startsNewConn(c *conn, p *decode.Packet, fromLo bool) bool {
	if p.TCPFlags&(flagSYN|flagACK) != flagSYN {
		return false
	}
	if !c.fromClient(fromLo) {
		return true // the old server now opens a connection to the old client
	}
	if c.closed() {
		// A SYN that repeats the attempt's initial sequence number after a reset, before any handshake, is
		// the same attempt retried (Windows retries a refused connect so): tshark keeps it one stream.
		return !(c.isnKnown && p.Seq == c.clientISN && !c.synAckSeen && !c.clientSeenAfterSyn && !c.clientSentData)
	}
	return c.isnKnown && p.Seq != c.clientISN && (c.synAckSeen || c.clientSeenAfterSyn)
}

// retryAttempt reopens a connection closed by a reset before any handshake, whose client sent its SYN again
// with the same initial sequence number: the resets of the first try no longer decide its state.
//
// Not inlined: Engine.tcp calls it for a few packets of a connection, and the profile-guided build would
// put its code among the instructions every packet runs (docs/performance.md, "Cold calls out of line").
//
//go:noinline
func (c *conn) retryAttempt() {
	c.clientRST, c.serverRST = false, false
	c.serverRSTBeforeAck, c.serverRSTEarly, c.serverRSTClosing = false, false, false
}

// mayRetry reports whether a connection closed before any handshake may still see its client retry the same
// attempt: the client reset it after the server answered the SYN with a bare ACK (a stale connection on the
// same ports), and its SYN retransmission timer, seconds later, sends the same SYN again.
func (c *conn) mayRetry() bool {
	return c.clientRST && !c.serverRST && c.serverSeen && !c.synAckSeen && !c.clientSeenAfterSyn && c.isnKnown
}

// TCP flag bits as decode reports them.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// observeTCP updates the connection's handshake and teardown state with one segment.
func (c *conn) observeTCP(p *decode.Packet, fromClient bool) {
	c.observeLoss(p, fromClient)
	f := p.TCPFlags
	syn, ack, rst, fin := f&flagSYN != 0, f&flagACK != 0, f&flagRST != 0, f&flagFIN != 0
	hasData := p.PayloadWireLen > 0
	if fromClient {
		switch {
		case syn && !ack:
			c.synSeen = true
			c.clientBase, c.clientBaseKnown = p.Seq+1, true
		case !rst:
			if c.synSeen || c.synAckSeen {
				c.clientSeenAfterSyn = true
			}
		}
		if hasData && !syn {
			c.clientSentData = true
		}
		c.clientFIN = c.clientFIN || fin
		c.clientRST = c.clientRST || rst
	} else {
		c.serverSeen = true
		if syn && ack {
			c.synAckSeen = true
			c.serverBase, c.serverBaseKnown = p.Seq+1, true
			if !c.clientBaseKnown {
				c.clientBase, c.clientBaseKnown = p.Ack, true
			}
		}
		if hasData && !syn {
			c.serverSentData = true
			c.serverBytes += int64(p.PayloadWireLen)
		}
		if rst {
			if !c.serverRST {
				c.serverRSTBeforeAck = !c.synAckSeen && c.synSeen && !c.clientSeenAfterSyn
				c.serverRSTEarly = !c.serverSentData
				c.serverRSTClosing = c.clientFIN || c.serverFIN
			}
			c.serverRST = true
		}
		c.serverFIN = c.serverFIN || fin
	}
	c.hist.add(f, hasData, fromClient)
}

// history is Zeek's compact record of what each side did: S syn, H syn-ack, A ack, D data, F fin, R rst, T a
// retransmitted SYN; upper case for the client, lower case for the server. Each letter appears once per side,
// in the order first seen. A fixed array keeps it allocation-free.
type history struct {
	b    [14]byte
	n    uint8
	seen uint64 // bit (letter - 'A') for the client's letters, +32 for the server's: O(1) "has"
}

func (h *history) add(flags uint8, data, fromClient bool) {
	syn, ack := flags&flagSYN != 0, flags&flagACK != 0
	switch {
	case syn && ack:
		h.put('H', fromClient)
	case syn:
		if h.has('S', fromClient) {
			h.put('T', fromClient)
		}
		h.put('S', fromClient)
	case flags&flagRST != 0:
		h.put('R', fromClient)
	default:
		if data {
			h.put('D', fromClient)
		} else if ack && flags&flagFIN == 0 {
			h.put('A', fromClient)
		}
		if flags&flagFIN != 0 {
			h.put('F', fromClient)
		}
	}
}

func historyBit(upper byte, fromClient bool) uint64 {
	if fromClient {
		return 1 << (upper - 'A')
	}
	return 1 << (upper - 'A' + 32)
}

func (h *history) has(upper byte, fromClient bool) bool {
	return h.seen&historyBit(upper, fromClient) != 0
}

func (h *history) put(upper byte, fromClient bool) {
	bit := historyBit(upper, fromClient)
	if h.seen&bit != 0 || int(h.n) == len(h.b) {
		return
	}
	h.seen |= bit
	h.b[h.n] = letter(upper, fromClient)
	h.n++
}

func letter(upper byte, fromClient bool) byte {
	if fromClient {
		return upper
	}
	return upper + ('a' - 'A')
}

func (h *history) String() string { return string(h.b[:h.n]) }

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
// The sequence number is compared first: it tells nearly every segment from the one before.
func (s segmentSig) duplicates(prev segmentSig) bool {
	if s.seq != prev.seq || prev.ns == 0 || s.ns-prev.ns > dupWindow || prev.ns-s.ns > dupWindow {
		return false
	}
	return s.ack == prev.ack && s.wire == prev.wire && s.ipid == prev.ipid && s.flags == prev.flags &&
		s.fromClient == prev.fromClient && s.hasID == prev.hasID
}
