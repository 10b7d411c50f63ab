package analyze

import (
	"math"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/tlsserver"
)

// streams are the first bytes of each side, and DNS framing for a connection to port 53.
type streams struct {
	client, server firstBytes
	dns            *tcpDNS
}

// readPayload feeds a segment to the stream readers. A panic in a parser is contained to this connection: it
// is counted, the connection stops being read, and the analysis goes on.
func (e *Engine) readPayload(c *conn, p *decode.Packet, fromClient bool, ref frameRef) {
	defer func() {
		if r := recover(); r != nil {
			e.facts.panics++
			c.parserPanic = true
			if c.app == nil {
				c.app = &appState{}
			}
			c.app.phase = phaseDone
			c.app.tls.dropFlight(&e.tls) // not read again: its reader may be in any state
			e.releaseStreams(c)
		}
	}()
	rx := e.streamsOf(c)
	switch {
	case fromClient:
		if c.app.phase == phaseDone {
			return
		}
		if c.midstream && !rx.client.known && p.PayloadWireLen == 1 {
			// A connection picked up mid-stream whose first client segment is one byte: a TCP keep-alive
			// repeats the byte before the next sequence number. The stream starts after it.
			rx.client.start(p.Seq + 1)
			return
		}
		empty := rx.client.n == 0
		conflict, overflow := rx.client.add(p.Seq, p.Payload, &e.pool)
		e.noteStream(c, conflict, overflow)
		e.tls.prepared = nil
		if empty && e.prepared != nil && rx.client.holdsOnly(len(p.Payload)) {
			e.tls.prepared = e.prepared // the stream is this payload: the hello parsed from it is the stream's
		}
		done := c.app.readClient(rx.client.contiguous(), ref.number, rx.client.full(), &e.tls)
		e.tls.prepared = nil
		if done {
			rx.client.release(&e.pool)
		}
		if c.app.socks != nil {
			e.nameSOCKSTarget(c)
		}
	case c.app.wantsServer() && rx.server.limit != 0:
		_, _ = rx.server.add(p.Seq, p.Payload, &e.serverPool) // the server's bytes name nothing
		done := c.app.readServer(rx.server.contiguous(), rx.server.full())
		if c.app.tls != nil { // a CONNECT or SOCKS tunnel's flight may begin in the bytes after the proxy's answer
			e.readFlight(c, p.Seq, nil, rx.server.contiguous(), rx.server.base)
		}
		if done {
			rx.server.release(&e.serverPool)
			if c.app.httpStatus != 0 || c.app.socks != nil && c.app.socks.replySeen {
				c.app.respFrame = ref.number
			}
		}
	case c.app.tls.flightOpen():
		e.readFlight(c, p.Seq, p.Payload, nil, e.serverStreamBase(c, rx, p.Seq))
	}
	if c.rx != nil && c.app.phase == phaseDone && !c.app.wantsServer() && !c.app.tls.flightOpen() {
		e.recycleStreams(c)
	}
}

// clientEnded ends the watch for a client alert after the ClientHello when p, from the client, is its FIN or
// RST and every client byte before it was captured: no alert can follow, so the client's buffer (and the
// stream record, once the server's flight is read) goes back to the pools now instead of when the
// connection is reported. On a busy gateway most connections wait closed for their linger time, and those
// buffers were most of the engine's memory. A segment still missing before the FIN or RST keeps the watch
// open, as before: the alert may be in it.
//
// Not inlined: Engine.tcp calls it for a few packets of a connection, and the profile-guided build would
// put its code among the instructions every packet runs (docs/performance.md, "Cold calls out of line").
//
//go:noinline
func (e *Engine) clientEnded(c *conn, p *decode.Packet, ref frameRef) {
	if c.rx == nil || c.app == nil || c.app.phase != phaseAlert || !c.rx.client.known {
		return
	}
	end := p.Seq // a RST's sequence number is where the client's data ended
	if p.TCPFlags&flagFIN != 0 {
		end += uint32(p.PayloadWireLen)
	}
	rx := &c.rx.client
	if uint32(len(rx.contiguous())) != end-rx.base || len(rx.contiguous()) == 0 {
		return
	}
	if c.app.readClient(rx.contiguous(), ref.number, true, &e.tls) {
		rx.release(&e.pool)
	}
	if c.app.phase == phaseDone && !c.app.wantsServer() && !c.app.tls.flightOpen() {
		e.recycleStreams(c)
	}
}

// serverStreamBase is the sequence number of the server's first data byte: from its SYN-ACK, or else its
// first payload.
func (e *Engine) serverStreamBase(c *conn, rx *streams, seq uint32) uint32 {
	if !rx.server.known {
		rx.server.start(seq)
	}
	return rx.server.base
}

// recycleStreams gives c's stream record back for another connection once neither side's bytes can tell
// anything more (wantsPayload is false for both sides from then on, so nothing reads it again). On a gateway
// with thousands of connections open, most of them named long before they end, this keeps the records a
// few and reused instead of one per open connection.
func (e *Engine) recycleStreams(c *conn) {
	e.releaseStreams(c)
	if len(e.freeStreams) < maxFreeStreams {
		e.freeStreams = append(e.freeStreams, c.rx)
	}
	c.rx = nil
}

// wantsPayload reports whether a segment from that side can still tell anything: most segments of a
// connection come after its name is known, and skip the readers entirely.
func (c *conn) wantsPayload(fromClient bool) bool {
	if c.app == nil {
		return true
	}
	if fromClient {
		return c.app.phase != phaseDone
	}
	return c.app.wantsServer() && (c.rx == nil || c.rx.server.limit != 0) || c.app.tls.flightOpen()
}

// streamsOf returns c's payload state, starting it at the first payload.
func (e *Engine) streamsOf(c *conn) *streams {
	if c.rx != nil {
		return c.rx
	}
	if c.app == nil {
		c.app = &appState{}
	}
	if n := len(e.freeStreams); n > 0 {
		c.rx, e.freeStreams = e.freeStreams[n-1], e.freeStreams[:n-1]
	} else {
		c.rx = new(streams)
	}
	*c.rx = streams{client: firstBytes{limit: min(e.opts.MaxStreamBytes, math.MaxInt32)},
		server: firstBytes{limit: serverStreamBytes}}
	if c.clientBaseKnown {
		c.rx.client.start(c.clientBase)
	}
	if c.serverBaseKnown {
		c.rx.server.start(c.serverBase)
	}
	return c.rx
}

// releaseStreams gives c's buffers back to the pool, ending a server flight still being read.
func (e *Engine) releaseStreams(c *conn) {
	if c.app != nil {
		e.endFlight(c, tlsserver.NeedMore)
	}
	if c.rx != nil {
		c.rx.client.release(&e.pool)
		c.rx.server.release(&e.serverPool)
	}
}

// maxFreeStreams bounds the stream records kept for reuse.
const maxFreeStreams = 4096

// serverStreamBytes is how much of the server's first answer is kept: enough for a status line. A TLS server's
// first flight is not kept here: it goes to its reader as it arrives (tls_server.go).
const serverStreamBytes = 1024

// noteStream counts what reassembling the client's first bytes ran into: a resend with other contents
// (flagged on the connection) and a stream in more pieces than the reassembly keeps.
func (e *Engine) noteStream(c *conn, conflict, overflow bool) {
	if conflict {
		e.facts.overlaps++
		c.overlapConflict = true
	}
	if overflow {
		e.facts.gapsOverCap++
	}
}
