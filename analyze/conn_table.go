package analyze

import (
	"slices"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/internal/prefault"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// recentSlots is the size of the cache of recent connections: a busy link interleaves the packets of a few
// hundred connections at most within any short stretch.
const recentSlots = 256

// recentConn is a slot of the cache of recent connections.
type recentConn struct {
	key flowKey
	c   *conn
}

// recentSlot picks the cache slot of key k from its words (a multiply spreads them into the top bits).
func recentSlot(k *flowKey) int {
	h := (k.lo[1] ^ k.hi[1]<<1 ^ k.meta) * 0x9e3779b97f4a7c15
	return int(h >> 56)
}

// lookup finds the connection of key k. Packets come in runs of a few connections (bursts of data, their
// ACKs), so a small direct-mapped cache of recent connections is checked first, which spares most map
// lookups: it costs a multiply and a compare, where the map hashes forty bytes and probes memory.
func (e *Engine) lookup(k flowKey) *conn {
	s := &e.recent[recentSlot(&k)]
	if s.c != nil && s.key.eq(&k) {
		return s.c
	}
	c := e.conns[k]
	if c != nil {
		s.key, s.c = k, c
	}
	return c
}

// remember puts c in the cache of recent connections under key k.
func (e *Engine) remember(k flowKey, c *conn) {
	s := &e.recent[recentSlot(&k)]
	s.key, s.c = k, c
}

// forget takes c out of the cache of recent connections, under key k.
func (e *Engine) forget(k flowKey, c *conn) {
	if s := &e.recent[recentSlot(&k)]; s.c == c {
		*s = recentConn{}
	}
}

// newConn adds a connection to the table, evicting the oldest idle one first when the table is full.
func (e *Engine) newConn(k flowKey, fromLo bool, p *decode.Packet, ref frameRef, ts time.Time) *conn {
	if len(e.conns) >= e.opts.MaxConnections {
		e.evictOne()
	}
	c := newConn(k, fromLo, p, ref, ts)
	c.tunnel = tunnelOf(p)
	if p.IPProto == protoTCP && p.TCPFlags&(flagSYN|flagACK) == flagSYN {
		c.clientISN, c.isnKnown = p.Seq, true
	}
	if ev, ok := e.names.get(hostKey{client: c.cli().addr, server: c.srv().addr}); ok {
		c.name = ev
	}
	e.conns[k] = c
	if k.tagged() {
		e.byTuple[k.withoutVLAN()] = c // only tagged traffic can cross VLANs
	}
	e.facts.connections++
	return c
}

// joinAcrossVLANs finds the connection a server-side packet belongs to when the two directions travel on
// different VLANs (a router on a stick, a capture on a trunk): same 5-tuple, other VLAN, opposite direction.
// The same 5-tuple in the same direction on another VLAN stays a connection of its own.
//
// Not inlined: Engine.tcp calls it for a few packets of a connection, and the profile-guided build would
// put its code among the instructions every packet runs (docs/performance.md, "Cold calls out of line").
//
//go:noinline
func (e *Engine) joinAcrossVLANs(k flowKey, fromLo bool) *conn {
	c := e.byTuple[k.withoutVLAN()]
	if c == nil && k.tagged() {
		c = e.conns[k.withoutVLAN()] // the client's direction was untagged
	}
	if c == nil || c.key == k || c.alias != nil || c.fromClient(fromLo) {
		return nil
	}
	c.alias = &k
	e.conns[k] = c
	return c
}

// evictOne reports and forgets the connection that has waited longest, half-open ones first: under a SYN
// flood those are the ones that carry no name.
func (e *Engine) evictOne() {
	for _, l := range []*lruList{&e.halfOpen, &e.udps, &e.closing, &e.active} {
		if l.head != nil {
			e.facts.evicted++
			e.finish(l.head, "evicted: the connection table was full")
			return
		}
	}
}

// place files c on the expiry list its state calls for.
func (e *Engine) place(c *conn) {
	// Idle time counts from the capture set's latest time, or from this connection's own last packet when the
	// run's clock has not caught up with it yet (a frame after a jump the clock waits to see confirmed).
	c.touchNs = max(e.clockNs, c.lastNs)
	switch {
	case c.key.proto() == protoUDP:
		e.udps.touch(c)
	case c.closed() && c.mayRetry():
		e.halfOpen.touch(c) // the client's SYN may come again: wait as for an unanswered SYN
	case c.closed():
		e.closing.touch(c)
	case c.synAckSeen || c.clientSeenAfterSyn || c.midstream:
		e.active.touch(c)
	default:
		e.halfOpen.touch(c)
	}
}

// openConns returns the connections still in the table, in the order they began.
func (e *Engine) openConns() []*conn {
	out := make([]*conn, 0, len(e.conns))
	for k, c := range e.conns {
		if k == c.key { // a connection whose directions cross VLANs is in the map twice
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *conn) int {
		switch {
		case a.first.seq < b.first.seq:
			return -1
		case a.first.seq > b.first.seq:
			return 1
		}
		return 0
	})
	return out
}

// finish reports c and forgets it. note, if not empty, explains why it ended early.
func (e *Engine) finish(c *conn, note string) {
	r := e.retire(c)
	if note != "" {
		r.Warning = note
	}
	if note == "" && e.holdQUIC(c, &r) {
		return
	}
	if c.reported && r.Verdict == c.reportedVerdict && note == "" {
		e.stats.add(&r) // reported early with this verdict already (Options.ReportEstablished)
		return
	}
	e.emit(&r)
}

// reportEarly reports a connection whose name is known and whose server answered after the name was sent,
// without waiting for it to end (live mode). If it later ends with another verdict (a reset after data), that is reported too.
func (e *Engine) reportEarly(c *conn) {
	if c.reported || c.app == nil || c.app.phase < phaseAlert || !c.serverSentData {
		return // the server's answer to the hello or request is the evidence: an SNI filter resets instead
	}
	if a := c.app; a.transport == result.TransportConnect && (a.httpStatus == 0 ||
		a.httpStatus == 200 && a.clientHello && c.serverBytes <= int64(a.respHeadLen)) {
		return // the proxy's answer decides, then the tunnel's server
	}
	if c.app.socksUndecided(c.serverBytes) {
		return // the same for a SOCKS proxy
	}
	if c.app.tls.flightOpen() {
		return // the server's certificate decides whether it was the server that answered
	}
	r := e.connRecord(c)
	if r.Verdict == rules.Blocked || r.Verdict == rules.Reset {
		return // failures are reported when the connection ends, with their stage
	}
	c.reported, c.reportedVerdict = true, r.Verdict
	e.batch = append(prefault.Grow(e.batch, 1), r) // counted in the summary when the connection ends
}

// retire takes c out of every table and returns its record.
func (e *Engine) retire(c *conn) result.Record {
	if c.lru != nil {
		c.lru.remove(c)
	}
	delete(e.conns, c.key)
	e.forget(c.key, c)
	if c.alias != nil {
		delete(e.conns, *c.alias)
		e.forget(*c.alias, c)
	}
	if e.byTuple[c.key.withoutVLAN()] == c {
		delete(e.byTuple, c.key.withoutVLAN())
	}
	e.releaseStreams(c)
	e.releaseQUIC(c)
	if c.rx != nil && len(e.freeStreams) < maxFreeStreams {
		e.freeStreams = append(e.freeStreams, c.rx) // the connection is gone: nothing reads its streams again
	}
	c.rx = nil
	e.noteQuality(c)
	r := e.connRecord(c)
	e.noteReached(c, &r)
	e.tls.freeState(c.app)
	return r
}
