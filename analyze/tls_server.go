package analyze

import (
	"slices"
	"time"

	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/analyze/tlsserver"
	"github.com/intunecap/intunecap/result"
)

// tlsState is what one TLS connection's handshake showed in clear: the client's fingerprints and ALPN from its
// ClientHello, the server's first flight (read while it arrives, then dropped), the chain's classification and
// a plaintext alert from either side. It is allocated with the ClientHello.
type tlsState struct {
	// What every client and server segment after the ClientHello looks at, first, so that it is read from
	// one cache line.
	flight      *tlsserver.Flight // the server's first flight while it is read; nil before and after
	flightPhase flightPhase
	next        uint32       // sequence number of the next server byte the flight wants
	alertNeed   int          // client stream length at which ClientAlert can say more
	lastNs      int64        // capture time of the last packet fed to the flight: the chain's "now"
	ahead       segmentQueue // server segments that arrived before the bytes in front of them

	ja4, ja3 string
	alpn     []string

	// What the flight said, kept after it ended.
	serverHello bool
	server      tlsserver.Facts
	ja4s, ja3s  string
	serverAlert tlsserver.Alert
	chain       certchain.Result
	chainRead   bool // chain holds a classification (or the reason there is none)

	clientAlert tlsserver.Alert // a plaintext alert the client sent after its hello (fatal unknown_ca, say)
}

// flightPhase is how far the reading of a server's first flight got.
type flightPhase uint8

const (
	flightNotStarted flightPhase = iota
	flightReading
	flightDone
)

// tlsEngine is an engine's share of the TLS work: the chain verifier every lane shares (read-only), and
// flights and reorder buffers recycled between connections, so steady traffic allocates none.
type tlsEngine struct {
	verifier    *certchain.Verifier
	chains      *certchain.Cache // this engine's answers from verifier, reused for chains seen before
	freeFlights []*tlsserver.Flight
	freeStates  []*tlsState
	hello       tlshello.Hello   // the ClientHello parser's scratch space
	prints      fingerprint.Memo // fingerprints of the hellos met before
	// prepared, while the engine reads a client segment, is the ClientHello the reading goroutine parsed
	// from it when the client's stream is exactly that segment (prepare.go).
	prepared  *preparedHello
	aheadPool aheadPool
}

// maxFreeFlights bounds the flight readers kept for reuse.
const maxFreeFlights = 64

// maxFreeStates bounds the TLS states kept for reuse.
const maxFreeStates = 1024

// newState keeps the fingerprints and ALPN of a complete ClientHello; h is reused after this call. The
// state is one the engine freed, if it has one: a connection-heavy capture would otherwise take a fresh
// kilobyte for every TLS connection.
func (te *tlsEngine) newState(h *tlshello.Hello) *tlsState {
	t := te.takeState()
	fp := te.prints.Client(h.Facts(), fingerprint.TCP)
	t.ja4, t.ja3, t.alpn = fp.JA4, fp.JA3, slices.Clone(h.ALPN)
	return t
}

// takeState returns an empty TLS state: one the engine freed, or a new one.
func (te *tlsEngine) takeState() *tlsState {
	if n := len(te.freeStates); n > 0 {
		t := te.freeStates[n-1]
		te.freeStates = te.freeStates[:n-1]
		return t
	}
	return new(tlsState)
}

// freeState keeps the TLS state of a retired connection for the next one. The records built from it share
// only its strings and slices, which a reused state replaces but never writes into.
func (te *tlsEngine) freeState(a *appState) {
	if a == nil || a.tls == nil {
		return
	}
	if len(te.freeStates) < maxFreeStates && a.tls.flight == nil && a.tls.ahead.q == nil {
		*a.tls = tlsState{}
		te.freeStates = append(te.freeStates, a.tls)
	}
	a.tls = nil
}

// flightOpen reports whether the server's first flight is being read, or may still start.
func (t *tlsState) flightOpen() bool { return t != nil && t.flightPhase != flightDone }

// readClientAlert looks, after the ClientHello, for a plaintext alert in the client's stream (data starts at
// the TLS stream's first byte). It returns true when the client stream is no longer needed.
func (a *appState) readClientAlert(data []byte, full bool) bool {
	t := a.tls
	if len(data) < t.alertNeed && !full {
		return false
	}
	alert, st, need, _ := tlsserver.ClientAlert(data)
	switch st {
	case tlsserver.NeedMore:
		if !full {
			t.alertNeed = need
			return false
		}
	case tlsserver.Complete:
		if alert.Seen() {
			t.clientAlert = alert
		}
	}
	a.phase = phaseDone
	return true
}

// tlsFlightFrom says where in the server's stream (an offset from its first byte) the TLS flight starts, once
// that is known: at 0 for a direct TLS connection, after the proxy's answer head for a CONNECT tunnel it
// accepted. never is true when there will be no flight to read: the proxy did not accept the tunnel.
func (a *appState) tlsFlightFrom() (off int, ready, never bool) {
	switch {
	case a.transport == result.TransportSOCKS:
		return a.respHeadLen, a.serverPhase != 0 && a.socksTunnelOpen(), a.serverPhase != 0 && !a.socksTunnelOpen()
	case a.transport != result.TransportConnect:
		return 0, true, false
	case a.serverPhase == 0:
		return 0, false, false
	case a.httpStatus != 200:
		return 0, false, true
	}
	return a.respHeadLen, true, false
}

// readFlight feeds a server segment that began at seq to the connection's flight reader, starting the reader
// when the flight's start is known. buffered is the server stream's contiguous prefix kept so far (the proxy's
// answer and whatever followed it), base the sequence number of its first byte.
func (e *Engine) readFlight(c *conn, seq uint32, payload, buffered []byte, base uint32) {
	t := c.app.tls
	if t.flightPhase == flightNotStarted {
		off, ready, never := c.app.tlsFlightFrom()
		if never {
			t.flightPhase = flightDone
		}
		if !ready {
			return
		}
		e.startFlight(t, base+uint32(off))
		if off < len(buffered) {
			e.feedFlight(c, base+uint32(off), buffered[off:])
		}
	}
	if t.flightPhase == flightReading {
		e.feedFlight(c, seq, payload)
	}
}

// startFlight begins reading a server flight whose first byte has sequence number seq.
func (e *Engine) startFlight(t *tlsState, seq uint32) {
	if n := len(e.tls.freeFlights); n > 0 {
		t.flight, e.tls.freeFlights = e.tls.freeFlights[n-1], e.tls.freeFlights[:n-1]
	} else {
		t.flight = new(tlsserver.Flight)
	}
	t.flightPhase, t.next = flightReading, seq
}

// feedFlight gives the flight the bytes of a segment that began at seq: in order they go to the reader at once,
// ahead of a gap they wait in the connection's queue, and the queue drains when the gap fills.
func (e *Engine) feedFlight(c *conn, seq uint32, payload []byte) {
	t := c.app.tls
	t.lastNs = c.lastNs
	off := int32(t.next - seq) // how much of the segment the flight has had already
	switch {
	case len(payload) == 0:
		return
	case off < 0:
		if !t.ahead.add(seq, payload, &e.tls.aheadPool) {
			t.ahead.overflow = true
		}
		return
	case int(off) >= len(payload):
		return // a retransmission of bytes already read
	}
	if !e.feed(c, payload[off:]) {
		return
	}
	for t.flightPhase == flightReading {
		b, ok := t.ahead.next(t.next)
		if !ok {
			break
		}
		e.feed(c, b)
	}
}

// feed gives the flight the next in-order bytes; it reports false once the flight has ended.
func (e *Engine) feed(c *conn, b []byte) bool {
	t := c.app.tls
	t.next += uint32(len(b))
	if st, _ := t.flight.Feed(b); st != tlsserver.NeedMore {
		e.endFlight(c, st)
		return false
	}
	return true
}

// endFlight keeps what the flight said, classifies its chain at the capture time of the packet that ended it
// (or of the last one fed, for a flight the connection's end cut short: st is then NeedMore), and recycles the
// reader. A chain is classified when the flight was read to its end after a ServerHello, or when a whole
// Certificate message was read before the connection ended; otherwise cert_chain stays empty.
func (e *Engine) endFlight(c *conn, st tlsserver.Status) {
	t := c.app.tls
	if t == nil || t.flightPhase != flightReading {
		return
	}
	f := t.flight
	if f.ServerHello {
		t.serverHello = true
		t.server = f.Facts()
		sf := fingerprint.ServerFacts{LegacyVersion: f.LegacyVersion, Cipher: f.CipherSuite,
			Extensions: f.Extensions, ALPN: f.ALPN}
		if slices.Contains(f.Extensions, extSupportedVersions) {
			sf.SelectedVersion = f.Version
		}
		fp := e.tls.prints.Server(sf, fingerprint.TCP)
		t.ja4s, t.ja3s = fp.JA4S, fp.JA3S
	}
	if f.Alert.Seen() {
		t.serverAlert = f.Alert
	}
	chainSeen := f.ChainState == tlsserver.ChainComplete || f.ChainState == tlsserver.ChainTruncated ||
		f.ChainState == tlsserver.ChainTooLarge
	if f.ServerHello && (st == tlsserver.Complete || chainSeen) {
		t.chain = e.checkChain(f, c.app.sni, t.lastNs)
		t.chainRead = true
	}
	t.flight = nil
	f.Reset()
	if len(e.tls.freeFlights) < maxFreeFlights {
		e.tls.freeFlights = append(e.tls.freeFlights, f)
	}
	t.ahead.release(&e.tls.aheadPool)
	t.flightPhase = flightDone
}

// dropFlight ends the reading of a flight without looking at what was read (after a parser panic). The
// reader is left to the garbage collector rather than reused.
func (t *tlsState) dropFlight(te *tlsEngine) {
	if t == nil || t.flightPhase != flightReading {
		return
	}
	t.flight = nil
	t.ahead.release(&te.aheadPool)
	t.flightPhase = flightDone
}

// extSupportedVersions is the supported_versions extension (RFC 8446 4.2.1).
const extSupportedVersions = 0x002b

// checkChain classifies the flight's chain at capture time ns.
func (e *Engine) checkChain(f *tlsserver.Flight, sni string, ns int64) certchain.Result {
	if e.tls.chains == nil {
		e.tls.chains = certchain.NewCache(e.chainVerifier())
	}
	partial := f.ChainState == tlsserver.ChainTruncated || f.ChainState == tlsserver.ChainTooLarge
	return e.tls.chains.Check(certchain.Input{Chain: f.Chain, Partial: partial, SNI: sni, Time: time.Unix(0, ns).UTC()})
}

// chainVerifier is the run's verifier (Options.Verifier), or one this engine makes on first use with the
// public roots alone.
func (e *Engine) chainVerifier() *certchain.Verifier {
	if e.tls.verifier == nil {
		e.tls.verifier = certchain.NewPublicVerifier(nil)
	}
	return e.tls.verifier
}

// intercepted reports whether the chain says something on the way answered in the server's place: it does not
// chain to a public or trusted root, or it is not for the name asked for. A hidden (TLS 1.3) or unclassified
// chain never does.
func (t *tlsState) intercepted() bool {
	return t != nil && t.chainRead && (t.chain.Class == certchain.Private || t.chain.Class == certchain.NameMismatch)
}

// killingAlert is a fatal alert the server side sent in its first flight: the handshake died there.
func (t *tlsState) killingAlert() (tlsserver.Alert, bool) {
	if t == nil || t.serverAlert.Level != tlsserver.LevelFatal {
		return tlsserver.Alert{}, false
	}
	return t.serverAlert, true
}

// shownAlert is the alert a record names: the server side's fatal one, else the client's, else the server's.
func (t *tlsState) shownAlert() tlsserver.Alert {
	switch {
	case t.serverAlert.Level == tlsserver.LevelFatal:
		return t.serverAlert
	case t.clientAlert.Seen():
		return t.clientAlert
	}
	return t.serverAlert
}

// segmentQueue holds server segments that arrived ahead of a gap in the flight, copied into one pooled buffer,
// until the gap fills. It is bounded in segments and bytes; a segment beyond either is dropped, and the
// flight then waits in vain: its chain is left unclassified. The queue itself is taken from the engine's pool
// on the first such segment, so a connection whose flight arrives in order carries only a pointer.
type segmentQueue struct {
	q        *aheadSegments // nil while no segment waits
	overflow bool           // a segment was dropped
}

// aheadSegments is the storage of a segmentQueue in use.
type aheadSegments struct {
	buf  []byte
	segs [maxAheadSegments]queuedSegment
	n    int
}

// queuedSegment is a segment's sequence number and where its bytes are in the queue's buffer.
type queuedSegment struct {
	seq    uint32
	lo, hi int
}

const (
	// maxAheadSegments is how many segments may wait behind one gap: a lost segment of a 3–8 KB flight holds
	// back a handful.
	maxAheadSegments = 16
	// maxAheadBytes bounds the bytes waiting behind gaps, per connection.
	maxAheadBytes = 32 << 10
	// maxFreeAhead bounds the queues an engine keeps for reuse.
	maxFreeAhead = 16
)

// aheadPool keeps released segment queues for the next connection that needs one.
type aheadPool struct{ free []*aheadSegments }

func (p *aheadPool) get() *aheadSegments {
	if n := len(p.free); n > 0 {
		a := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return a
	}
	return &aheadSegments{buf: make([]byte, 0, maxAheadBytes)}
}

func (p *aheadPool) put(a *aheadSegments) {
	if len(p.free) < maxFreeAhead {
		a.buf, a.n = a.buf[:0], 0
		p.free = append(p.free, a)
	}
}

// add queues a copy of a segment that began at seq. It reports false when the queue is full.
func (q *segmentQueue) add(seq uint32, b []byte, pool *aheadPool) bool {
	if q.q == nil {
		q.q = pool.get()
	}
	a := q.q
	if a.n == maxAheadSegments || len(a.buf)+len(b) > maxAheadBytes {
		return false
	}
	lo := len(a.buf)
	a.buf = append(a.buf, b...)
	a.segs[a.n] = queuedSegment{seq: seq, lo: lo, hi: len(a.buf)}
	a.n++
	return true
}

// next takes out a queued segment that holds the byte at sequence number seq and returns its bytes from
// there on; segments wholly before seq are dropped on the way. The bytes stay valid until the next add.
func (q *segmentQueue) next(seq uint32) ([]byte, bool) {
	a := q.q
	if a == nil {
		return nil, false
	}
	for i := 0; i < a.n; i++ {
		s := a.segs[i]
		off := int32(seq - s.seq)
		if off < 0 {
			continue
		}
		a.n--
		a.segs[i] = a.segs[a.n]
		if int(off) < s.hi-s.lo {
			b := a.buf[s.lo+int(off) : s.hi]
			if a.n == 0 {
				a.buf = a.buf[:0] // b stays readable: nothing is written before the next add
			}
			return b, true
		}
		i = -1 // a stale copy: look again from the start
	}
	return nil, false
}

// release gives the queue's storage back to pool.
func (q *segmentQueue) release(pool *aheadPool) {
	if q.q != nil {
		pool.put(q.q)
		q.q = nil
	}
}
