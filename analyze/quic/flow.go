package quic

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/intunecap/intunecap/analyze/tlshello"
)

const (
	// MaxInitials caps the client long-header packets a flow examines (coalesced ones count one each). A
	// hello spans 1-3 Initials; retransmissions and ACK-only Initials follow. After the cap, or once the
	// hello is complete, client datagrams cost one comparison.
	MaxInitials = 8
	// MaxServerPackets caps the server long-header packets a flow examines.
	MaxServerPackets = 8
	// MaxPacket is the largest Initial packet decrypted. Clients send their first Initials in 1200–1500 byte
	// datagrams before they know the path MTU; 16 KiB covers jumbo frames and loopback.
	MaxPacket = 16 << 10
	// MaxOffered caps the versions kept from a Version Negotiation packet.
	MaxOffered = 8
)

// Status is where the client side of a flow stands.
type Status int

// The outcomes of Flow.Client. Pending and UnsupportedVersion still change with later datagrams; the others
// are final, and Client returns them at once.
const (
	Pending            Status = iota // no complete ClientHello yet: keep feeding client datagrams
	Complete                         // ClientHello and TLSRecord hold the whole ClientHello
	UnsupportedVersion               // a long header of a version this package cannot decrypt (Version says which)
	NotQUIC                          // the first long-header datagram is not a QUIC packet (Err says why)
	Malformed                        // a decrypted Initial breaks the frame or TLS format (Err says why)
	TooLarge                         // CRYPTO data past MaxCrypto, or in too many pieces (Err says which)
	Incomplete                       // MaxInitials packets examined without a whole ClientHello (Err: last failure)
)

// String is the status as a report would name it, e.g. "complete", "unsupported-version".
func (s Status) String() string {
	switch s {
	case Pending:
		return "pending"
	case Complete:
		return "complete"
	case UnsupportedVersion:
		return "unsupported-version"
	case NotQUIC:
		return "not-quic"
	case Malformed:
		return "malformed"
	case TooLarge:
		return "too-large"
	case Incomplete:
		return "incomplete"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Reply is what the server side of a flow has shown, from the datagrams given to Flow.Server.
type Reply struct {
	// Initial: a server Initial packet that decrypted with the flow's server Initial keys, which proves a QUIC
	// server (or an interceptor) answered this client.
	Initial bool
	// Handshake: a server Handshake packet addressed to the client's Source Connection ID (not decryptable).
	Handshake bool
	// Retry: a Retry packet addressed to the client; the client's next Initials use new keys.
	Retry bool
	// VersionNegotiation: the server does not speak the client's version and listed its own in Offered.
	VersionNegotiation bool
	Offered            [MaxOffered]Version // the server's versions, in its order: Offered[:NOffered]
	NOffered           int                 // versions in Offered; a longer list is cut to MaxOffered
	// Closed: a server Initial carried a CONNECTION_CLOSE, described by Close (e.g. a TLS alert refusing the
	// hello: Code 0x100 + alert).
	Closed bool
	Close  Close
}

// Answered reports a server Initial or Handshake packet: the handshake got an answer.
func (r Reply) Answered() bool { return r.Initial || r.Handshake }

// Flow holds the QUIC Initial state of one UDP flow: the client's first connection IDs and version, the Initial
// keys, the reassembled CRYPTO stream and what the server sent back. The zero value is ready; Reset makes it
// ready for another flow and keeps its buffers.
type Flow struct {
	status   Status
	err      error
	version  Version
	dcid     [maxCIDLen]byte // the client's Destination Connection ID: the keys derive from it
	dcidLen  int
	scid     [maxCIDLen]byte // the client's Source Connection ID: the server addresses its packets to it
	scidLen  int
	keyed    bool // client holds keys derived from dcid
	client   keys
	server   keys // derived from dcid when the first server Initial arrives
	srvKeyed bool
	examined int   // client long-header packets looked at, for MaxInitials
	initials int   // client Initials decrypted
	largest  int64 // largest client Initial packet number decrypted, -1 before
	helloLen int   // ClientHello length with its 4-byte header, once Complete
	crypto   assembler
	scratch  scratch

	reply         Reply
	serverSeen    int
	serverLargest int64
}

// Reset forgets the flow, keeping the buffers for the next one.
func (f *Flow) Reset() {
	buf, sbuf := f.crypto.buf, f.scratch.buf
	*f = Flow{}
	f.crypto.buf, f.scratch.buf = buf[:0], sbuf[:0]
}

// Status is where the client side stands.
func (f *Flow) Status() Status { return f.status }

// Err is the reason behind NotQUIC, Malformed, TooLarge and Incomplete, nil otherwise.
func (f *Flow) Err() error { return f.err }

// Version is the version of the client's first long header, 0 before one was seen.
func (f *Flow) Version() Version { return f.version }

// Initials is how many client Initial packets decrypted.
func (f *Flow) Initials() int { return f.initials }

// Conflict reports CRYPTO data that arrived twice with different bytes; the first copy was kept.
func (f *Flow) Conflict() bool { return f.crypto.conflict }

// Reply is what the server sent back so far.
func (f *Flow) Reply() Reply { return f.reply }

// ClientHello returns the ClientHello handshake message (4-byte header included) once Status is Complete, nil
// before. It is valid until the next Client or Reset call.
func (f *Flow) ClientHello() []byte {
	if f.status != Complete {
		return nil
	}
	return f.crypto.stream(f.helloLen)
}

// TLSRecord returns the ClientHello inside one synthetic TLS handshake record (type 22, version 0x0301), the
// stream tlshello.Parse expects from a TCP connection. It writes the 5-byte header into room kept in front of
// the hello, so nothing is copied; the result is valid until the next Client or Reset call. A hello larger
// than tlshello.MaxHello cannot be presented.
func (f *Flow) TLSRecord() ([]byte, error) {
	if f.status != Complete {
		return nil, fmt.Errorf("quic client hello is %s, not complete", f.status)
	}
	if f.helloLen > tlshello.MaxHello {
		return nil, fmt.Errorf("quic client hello of %d bytes, more than %d", f.helloLen, tlshello.MaxHello)
	}
	rec := f.crypto.buf[:recordHeader+f.helloLen]
	rec[0], rec[1], rec[2] = 22, 3, 1
	rec[3], rec[4] = byte(f.helloLen>>8), byte(f.helloLen)
	return rec, nil
}

// Client examines one UDP payload the client sent, in capture order, and returns the new status. A payload
// that does not start with a long header (a 1-RTT packet), and any payload once the status is final or
// MaxInitials packets were examined, returns at once without allocating.
func (f *Flow) Client(datagram []byte) Status {
	if len(datagram) == 0 || datagram[0]&headerForm == 0 || f.examined >= MaxInitials ||
		(f.status != Pending && f.status != UnsupportedVersion) {
		return f.status
	}
	for b := datagram; len(b) > 0 && b[0]&headerForm != 0 && f.examined < MaxInitials; {
		f.examined++
		h, err := parseLongHeader(b)
		if err != nil {
			if f.version == 0 {
				f.status, f.err = NotQUIC, fmt.Errorf("quic: %w", err)
				return f.status
			}
			break // a broken packet after good ones: nothing more in this datagram can be delimited
		}
		f.clientPacket(h, b[:h.end])
		if f.status != Pending && f.status != UnsupportedVersion {
			return f.status
		}
		b = b[h.end:] // coalesced packets follow; zero bytes of padding end the loop
	}
	if f.examined >= MaxInitials && (f.status == Pending) {
		f.status = Incomplete
	}
	return f.status
}

// clientPacket handles one client long-header packet.
func (f *Flow) clientPacket(h longHeader, pkt []byte) {
	if f.version == 0 || f.status == UnsupportedVersion {
		f.version = h.version
		f.setCIDs(h)
	}
	if !h.version.Decryptable() {
		f.status = UnsupportedVersion
		return
	}
	f.status = Pending
	if h.typ != typeInitial {
		return
	}
	payload, pn, err := f.openClient(h, pkt)
	if err != nil {
		f.err = fmt.Errorf("quic client initial: %w", err)
		return
	}
	f.initials++
	f.largest = max(f.largest, pn)
	if err := walkFrames(payload, clientSink{f}); err != nil {
		f.fail(err)
		return
	}
	f.checkHello()
}

// openClient decrypts a client Initial. The keys derive from the Destination Connection ID of the client's first
// Initial and stay for the connection, though the client addresses later Initials to the server's connection
// ID. After a Retry, or a Version Negotiation and a new attempt, the client starts again with a new connection
// ID: when the keys fail on an Initial with another Destination Connection ID, keys from that one are tried, and
// kept only if they work. The CRYPTO stream then starts over, as the client's does.
func (f *Flow) openClient(h longHeader, pkt []byte) ([]byte, int64, error) {
	if f.keyed && f.version == h.version {
		payload, pn, err := f.client.open(&f.scratch, pkt, h.pnOffset, f.largest)
		if err == nil || bytes.Equal(h.dcid, f.dcid[:f.dcidLen]) {
			return payload, pn, err
		}
	}
	c, err := initialKeys(h.version.params(), h.dcid, clientIn)
	if err != nil {
		return nil, 0, fmt.Errorf("initial keys: %w", err)
	}
	payload, pn, err := c.open(&f.scratch, pkt, h.pnOffset, -1)
	if err != nil {
		return nil, 0, err
	}
	if f.keyed {
		f.crypto.reset()
	}
	f.client, f.keyed, f.srvKeyed, f.version = c, true, false, h.version
	f.largest, f.serverLargest = -1, -1
	f.setCIDs(h)
	return payload, pn, nil
}

// setCIDs remembers the connection IDs of the client's latest first packet, which server packets must echo.
func (f *Flow) setCIDs(h longHeader) {
	f.dcidLen = copy(f.dcid[:], h.dcid)
	f.scidLen = copy(f.scid[:], h.scid)
}

// fail ends the flow with a frame or CRYPTO error.
func (f *Flow) fail(err error) {
	f.status, f.err = Malformed, fmt.Errorf("quic client initial: %w", err)
	if errors.Is(err, errCryptoCap) || errors.Is(err, errSpans) {
		f.status = TooLarge
	}
}

// checkHello sees whether the CRYPTO stream now starts with a whole ClientHello.
func (f *Flow) checkHello() {
	n := f.crypto.contiguous()
	if n == 0 {
		return
	}
	s := f.crypto.stream(n)
	if s[0] != 1 {
		f.fail(fmt.Errorf("%w (handshake type %d)", errNotHello, s[0]))
		return
	}
	if n < 4 {
		return
	}
	want := 4 + (int(s[1])<<16 | int(s[2])<<8 | int(s[3]))
	if want > MaxCrypto {
		f.fail(fmt.Errorf("client hello of %d bytes: %w", want, errCryptoCap))
		return
	}
	if n >= want {
		f.status, f.helloLen, f.err = Complete, want, nil
	}
}

// clientSink files the frames of client Initials.
type clientSink struct{ f *Flow }

func (c clientSink) crypto(off uint64, data []byte) error { return c.f.crypto.add(off, data) }
func (c clientSink) closed(Close)                         {}

// Server examines one UDP payload the server sent, in capture order, after the client's first Initial was given
// to Client. Payloads that do not start with a long header, and any payload once MaxServerPackets were examined,
// return at once.
func (f *Flow) Server(datagram []byte) {
	if len(datagram) == 0 || datagram[0]&headerForm == 0 || f.serverSeen >= MaxServerPackets || f.version == 0 {
		return
	}
	for b := datagram; len(b) > 0 && b[0]&headerForm != 0 && f.serverSeen < MaxServerPackets; {
		f.serverSeen++
		h, err := parseLongHeader(b)
		if err != nil {
			return
		}
		f.serverPacket(h, b[:h.end])
		b = b[h.end:]
	}
}

// serverPacket handles one server long-header packet. Only packets addressed to the client's Source Connection
// ID count (RFC 9000 7.2); a Version Negotiation must also echo the client's Destination Connection ID.
func (f *Flow) serverPacket(h longHeader, pkt []byte) {
	if !bytes.Equal(h.dcid, f.scid[:f.scidLen]) {
		return
	}
	switch h.typ {
	case typeVersionNegotiation:
		f.versionNegotiation(h, pkt)
	case typeRetry:
		f.reply.Retry = true
	case typeHandshake:
		f.reply.Handshake = true
	case typeInitial:
		f.serverInitial(h, pkt)
	}
}

func (f *Flow) versionNegotiation(h longHeader, pkt []byte) {
	if !bytes.Equal(h.scid, f.dcid[:f.dcidLen]) {
		return
	}
	list := pkt[7+len(h.dcid)+len(h.scid):]
	if len(list) == 0 || len(list)%4 != 0 {
		return
	}
	f.reply.VersionNegotiation = true
	f.reply.NOffered = 0
	for ; len(list) >= 4 && f.reply.NOffered < MaxOffered; list = list[4:] {
		f.reply.Offered[f.reply.NOffered] = Version(be32(list))
		f.reply.NOffered++
	}
}

func (f *Flow) serverInitial(h longHeader, pkt []byte) {
	if !f.keyed {
		return
	}
	var k *keys
	if h.version == f.version {
		if !f.srvKeyed {
			s, err := initialKeys(h.version.params(), f.dcid[:f.dcidLen], serverIn)
			if err != nil {
				return
			}
			f.server, f.srvKeyed = s, true
		}
		k = &f.server
	} else {
		// Compatible version negotiation (RFC 9368): the server answers in another version, keyed by the
		// same connection ID with that version's salt.
		p := h.version.params()
		if p == nil {
			return
		}
		s, err := initialKeys(p, f.dcid[:f.dcidLen], serverIn)
		if err != nil {
			return
		}
		k = &s
	}
	payload, pn, err := k.open(&f.scratch, pkt, h.pnOffset, f.serverLargest)
	if err != nil {
		return
	}
	f.serverLargest = max(f.serverLargest, pn)
	f.reply.Initial = true
	_ = walkFrames(payload, serverSink{f})
}

// serverSink keeps the CONNECTION_CLOSE of a server Initial; the server's CRYPTO data (ServerHello) is not kept.
type serverSink struct{ f *Flow }

func (serverSink) crypto(uint64, []byte) error { return nil }
func (s serverSink) closed(c Close)            { s.f.reply.Closed, s.f.reply.Close = true, c }
