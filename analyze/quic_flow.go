package analyze

import (
	"encoding/binary"
	"slices"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/quic"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// QUIC is a UDP flow to port 443 whose first client datagram is a long-header Initial. The client's first
// datagrams and the server's are fed to a quic.Flow, which decrypts the Initials and hands back the
// ClientHello; the same TLS parser as for TCP reads its name. A quic.Flow is held only while its Initials can
// still tell something (the hello, the server's answer) and goes back to a pool after: the datagrams that follow
// cost a nil check.

// quicPort is where QUIC is looked for: HTTP/3 is HTTPS over UDP 443.
const quicPort = 443

// maxQUICFlows bounds the QUIC decryptors held at once (each may hold up to quic.MaxCrypto bytes). A flow
// that starts while the bound is reached is reported as QUIC without its hello, with a warning.
const maxQUICFlows = 4096

// maxFreeQUICFlows bounds the decryptors kept for reuse.
const maxFreeQUICFlows = 64

// quicConn is what the engine keeps of one QUIC flow.
type quicConn struct {
	flow       *quic.Flow // the Initial decryptor while it may still tell something; nil after
	version    quic.Version
	alpn       []string
	ja4        string
	answered   bool // a server Initial, Handshake or Retry packet came back
	versionNeg bool // the server sent Version Negotiation
	overCap    bool // no decryptor was free (maxQUICFlows)
}

// looksLikeQUICInitial reports whether b starts with a QUIC long header that is an Initial packet for the
// versions whose type bits are known (v1, drafts: type 0; v2: type 1), or any long header of another version
// (its Initial cannot be told from its other packets; quic.Flow reports it as an unsupported version).
func looksLikeQUICInitial(b []byte) bool {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return false
	}
	typ := b[0] >> 4 & 3
	switch v := quic.Version(binary.BigEndian.Uint32(b[1:5])); {
	case v == quic.VersionNegotiation:
		return false
	case v == quic.Version2:
		return typ == 1
	case v.Decryptable():
		return typ == 0
	}
	return true
}

// startQUIC makes c a QUIC flow, with a decryptor from the pool when one may be held.
func (e *Engine) startQUIC(c *conn) {
	c.quic = &quicConn{}
	if c.app == nil {
		c.app = &appState{}
	}
	c.app.transport, c.app.phase = result.TransportQUIC, phaseDone
	if e.quicLive >= maxQUICFlows {
		c.quic.overCap = true
		return
	}
	e.quicLive++
	if n := len(e.quicFree); n > 0 {
		c.quic.flow, e.quicFree = e.quicFree[n-1], e.quicFree[:n-1]
		return
	}
	c.quic.flow = new(quic.Flow)
}

// quicDatagram feeds one datagram of a QUIC flow to its decryptor.
func (e *Engine) quicDatagram(c *conn, p *decode.Packet, fromClient bool, ref frameRef) {
	q := c.quic
	f := q.flow
	if fromClient {
		before := f.Status()
		if st := f.Client(p.Payload); st == quic.Complete && before != quic.Complete {
			e.readQUICHello(c, ref)
		}
	} else {
		f.Server(p.Payload)
	}
	if f.Status() == quic.NotQUIC { // a long-header look-alike: the flow is plain UDP after all
		e.releaseQUIC(c)
		c.quic, c.app.transport = nil, result.TransportUnknown
		return
	}
	if q.version == 0 {
		q.version = f.Version()
	}
	r := f.Reply()
	q.answered = q.answered || r.Answered() || r.Retry
	q.versionNeg = q.versionNeg || r.VersionNegotiation
	if f.Status() != quic.Pending && (q.answered || q.versionNeg && f.Status() != quic.UnsupportedVersion) {
		e.releaseQUIC(c)
	}
}

// readQUICHello reads the completed ClientHello of c with the TLS parser TCP uses. A panic is contained to the
// connection, as in readPayload.
func (e *Engine) readQUICHello(c *conn, ref frameRef) {
	defer func() {
		if r := recover(); r != nil {
			e.facts.panics++
			c.parserPanic = true
		}
	}()
	rec, err := c.quic.flow.TLSRecord()
	if err != nil {
		return
	}
	if st, _, _ := tlshello.Parse(rec, &e.tls.hello); st != tlshello.Complete {
		return
	}
	a, h := c.app, &e.tls.hello
	a.clientHello, a.helloFrame, a.sni, a.ech = true, ref.number, h.SNI, h.ECH
	c.quic.alpn = slices.Clone(h.ALPN)
	c.quic.ja4 = e.tls.prints.Client(h.Facts(), fingerprint.QUIC).JA4
}

// releaseQUIC gives c's decryptor back to the pool.
func (e *Engine) releaseQUIC(c *conn) {
	q := c.quic
	if q == nil || q.flow == nil {
		return
	}
	e.quicLive--
	q.flow.Reset()
	if len(e.quicFree) < maxFreeQUICFlows {
		e.quicFree = append(e.quicFree, q.flow)
	}
	q.flow = nil
}

// quicState is the state of a QUIC flow: answered when the server sent anything but a lone Version
// Negotiation, unanswered when only the client's Initials were seen.
func (c *conn) quicState() result.State {
	switch {
	case c.quic.versionNeg && !c.quic.answered:
		return result.StateVersionNegotiation
	case c.serverSeen:
		return result.StateAnswered
	}
	return result.StateUnanswered
}

// quicOutcome is what the network did to a QUIC flow.
func (c *conn) quicOutcome() outcome {
	if c.quicState() != result.StateUnanswered {
		return outcome{verdict: rules.Allowed}
	}
	if c.app.clientHello {
		return outcome{rules.Blocked, result.StageAfterClientHello, "no QUIC reply came back to the client's Initial packets"}
	}
	return outcome{rules.Blocked, result.StageAfterQuery, "no QUIC reply came back to the client's Initial packets"}
}

// quicFields fills a QUIC flow's record fields.
func (c *conn) quicFields(r *result.Record) {
	q := c.quic
	if q.version != 0 {
		r.QUICVersion = q.version.String()
	}
	r.ALPN, r.JA4 = q.alpn, q.ja4
	switch {
	case q.overCap:
		r.Warning = "QUIC Initials not decrypted: too many QUIC handshakes at once"
	case r.State == result.StateVersionNegotiation:
		r.Warning = "the server does not speak the client's QUIC version (version negotiation)"
	}
}
