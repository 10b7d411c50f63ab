package analyze

import (
	"time"

	"github.com/intunecap/intunecap/result"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/rules"
)

// frameRef points at one frame of the capture set, as a user would find it in Wireshark.
type frameRef struct {
	file   int
	number uint64
	seq    uint64 // position in the merged capture, for a stable order
}

// conn is everything the engine keeps about one TCP connection or UDP flow. Buffers are allocated only while a
// name may still be read from them and are released as soon as the name is known.
type conn struct {
	key         flowKey
	alias       *flowKey // the server direction's key when it travels on another VLAN
	clientIsLo  bool
	first, last frameRef
	firstNs     int64 // capture time of the first and last packet, Unix nanoseconds
	lastNs      int64
	touchNs     int64 // the capture set's latest time at the connection's last packet (Engine.clockNs): its expiry
	packets     int
	bytes       int64

	// TCP life.
	synSeen, synAckSeen bool
	clientSentData      bool
	serverSentData      bool
	serverBytes         int64 // payload bytes the server sent, as on the wire
	clientFIN           bool
	serverFIN           bool
	clientRST           bool
	serverRST           bool
	serverRSTBeforeAck  bool   // the server's RST answered a SYN (refused)
	serverRSTEarly      bool   // the server reset before it sent any data
	serverRSTClosing    bool   // the server reset after a FIN: part of closing, not a failure
	rstFrame            uint64 // frame number of the server side's first RST, for the record's verdict_frame
	midstream           bool   // first packet seen was not a SYN: the capture began mid-connection
	clientSeenAfterSyn  bool   // the client sent something other than SYNs (ACK, data): the handshake went on
	serverSeen          bool
	hist                history
	clientISN           uint32
	isnKnown            bool
	parserPanic         bool   // a payload parser panicked on this connection; it was not read further
	overlapConflict     bool   // a retransmission resent first bytes with different contents (stream.go)
	clientBase          uint32 // sequence number of each side's first data byte, once known
	serverBase          uint32
	clientBaseKnown     bool
	serverBaseKnown     bool
	loss                lossState // segments the capture lost (capture_loss.go)

	// What the payload said, allocated with the first payload: a half-open connection under a SYN flood
	// costs only the fields above.
	rx   *streams
	app  *appState
	name *nameEvidence // from the client's DNS answers, when one named the server's address
	quic *quicConn     // a QUIC flow's Initials and what they told (quic_flow.go); nil for other flows

	lastSig segmentSig // the previous segment, to recognise the same packet captured twice

	icmp   *icmpReject    // the first ICMP rejection that quoted the connection (icmp.go)
	tunnel *decode.Tunnel // the encapsulation of its first packet (tunnel.go)

	reported        bool          // a record went out before the connection ended (Options.ReportEstablished)
	reportedVerdict rules.Verdict // with this verdict

	// Place in the expiry list.
	lru        *lruList
	prev, next *conn
}

// cli is the connection's client (originator) side.
func (c *conn) cli() endpoint {
	if c.clientIsLo {
		return c.key.loEnd()
	}
	return c.key.hiEnd()
}

// srvPort is the server's port, without building its address.
func (c *conn) srvPort() uint16 {
	if c.clientIsLo {
		return c.key.hiPort()
	}
	return c.key.loPort()
}

// srv is the connection's server (responder) side.
func (c *conn) srv() endpoint {
	if c.clientIsLo {
		return c.key.hiEnd()
	}
	return c.key.loEnd()
}

// appView is what the payload said, empty when there was none.
func (c *conn) appView() *appState {
	if c.app == nil {
		return &appState{}
	}
	return c.app
}

// fromClient reports whether p travels from the connection's client to its server.
func (c *conn) fromClient(fromLo bool) bool { return fromLo == c.clientIsLo }

// newConn starts a connection at packet p. The originator is the SYN sender; for a connection seen mid-stream
// (or from its SYN-ACK) the server is guessed from the flags and ports.
func newConn(k flowKey, fromLo bool, p *decode.Packet, ref frameRef, ts time.Time) *conn {
	c := &conn{key: k, first: ref, last: ref, firstNs: ts.UnixNano(), lastNs: ts.UnixNano()}
	srcIsClient := true
	if p.IPProto == protoTCP {
		switch {
		case p.TCPFlags&(flagSYN|flagACK) == flagSYN:
		case p.TCPFlags&(flagSYN|flagACK) == flagSYN|flagACK:
			srcIsClient = false
		default:
			c.midstream = true
			srcIsClient = !looksLikeServerPort(p.SrcPort, p.DstPort)
		}
	} else {
		srcIsClient = !looksLikeServerPort(p.SrcPort, p.DstPort)
	}
	c.clientIsLo = fromLo == srcIsClient
	return c
}

// looksLikeServerPort guesses, for a packet whose direction the handshake does not tell, whether its source is
// the server: a well-known source port talking to an ephemeral one.
func looksLikeServerPort(src, dst uint16) bool {
	if src == dst {
		return false
	}
	return src < 1024 && dst >= 1024 || (src < dst && dst >= 49152 && src < 49152)
}

const (
	protoTCP = 6
	protoUDP = 17
)

// closed reports whether the connection has ended: a reset, or a FIN from each side.
func (c *conn) closed() bool {
	return c.clientRST || c.serverRST || (c.clientFIN && c.serverFIN)
}

// state is the connection's outcome in words a Zeek user knows.
func (c *conn) state() result.State {
	if c.quic != nil {
		return c.quicState()
	}
	if c.key.proto() != protoTCP {
		if c.serverSeen {
			return result.StateAnswered
		}
		return result.StateUnanswered
	}
	switch {
	case c.serverRST && c.serverRSTBeforeAck:
		return result.StateRefused
	case c.serverRST && !c.serverRSTClosing:
		return result.StateReset
	case c.midstream:
		return result.StatePartial
	case c.synAckSeen || c.clientSeenAfterSyn || c.serverSentData:
		// A handshake completed, or the client went on as if it had (a one-sided capture). A server that
		// answered the SYN with only a bare ACK (a stale ACK from an old connection on the same ports, a
		// middlebox) did not complete one: that connection is never established (outcome, verdict.go).
		if c.clientRST && !c.serverFIN && !c.clientFIN {
			return result.StateAborted
		}
		return result.StateEstablished
	default:
		return result.StateUnanswered
	}
}
