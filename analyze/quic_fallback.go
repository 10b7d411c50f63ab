package analyze

import (
	"net/netip"
	"strings"
	"time"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// A browser whose QUIC attempt gets no answer falls back to TLS over TCP: QUIC was blocked, yet the client
// reached the name. An unanswered QUIC flow is therefore held back, as a failed DNS lookup is (dns_held.go),
// and reported allowed with a warning when the same client reached the same name over TCP port 443 within
// quicFallbackWindow of the QUIC attempt (capture time). Offline, held flows wait for the end of the capture,
// where the TCP connections of every engine are known, so the answer does not depend on how many engines
// shared the work; live (Options.HoldDNSFailures), they wait that long and are judged by their own engine.

// quicFallbackWindow is how far apart in capture time a QUIC attempt and the TCP connection that replaced
// it may begin.
const quicFallbackWindow = 60 * time.Second

// maxReachedTimes bounds the TCP connection starts remembered per client and name.
const maxReachedTimes = 32

// quicFallbackWarning is the warning of a blocked QUIC flow whose client reached the name over TCP.
const quicFallbackWarning = "QUIC blocked; the client fell back to TCP"

// tcpReached remembers, per client and name, when TCP connections to port 443 that got through began. It is
// bounded: when full, the oldest client and name is forgotten.
type tcpReached struct {
	starts map[lookup][]int64
	order  []lookup
	next   int
	limit  int
}

func (t *tcpReached) add(key lookup, ns int64) {
	if t.starts == nil {
		t.starts = make(map[lookup][]int64)
	}
	s, ok := t.starts[key]
	if !ok {
		if len(t.order) < t.limit {
			t.order = append(t.order, key)
		} else {
			delete(t.starts, t.order[t.next])
			t.order[t.next] = key
			t.next = (t.next + 1) % t.limit
		}
	}
	if len(s) == maxReachedTimes {
		s = append(s[:0], s[1:]...)
	}
	t.starts[key] = append(s, ns)
}

// within reports a start under key no further than quicFallbackWindow from ns.
func (t *tcpReached) within(key lookup, ns int64) bool {
	for _, s := range t.starts[key] {
		if d := s - ns; d <= int64(quicFallbackWindow) && d >= -int64(quicFallbackWindow) {
			return true
		}
	}
	return false
}

// clientNameKey is the key of the fallback tables (and of held records): a client and a name, case folded.
func clientNameKey(client, name string) lookup {
	a, _ := netip.ParseAddr(client)
	return lookup{client: a, name: strings.ToLower(name)}
}

// noteReached remembers a TCP connection to port 443 that got through to its name.
func (e *Engine) noteReached(c *conn, r *result.Record) {
	if c.key.proto() != protoTCP || r.Port != quicPort || r.Name == "" || r.Verdict != rules.Allowed {
		return
	}
	e.reached.add(clientNameKey(r.Client, r.Name), c.firstNs)
}

// holdQUIC keeps back the record of a blocked QUIC flow that has a name, until it is known whether the client
// fell back to TCP. It reports false when the record must be reported now.
func (e *Engine) holdQUIC(c *conn, r *result.Record) bool {
	if c.quic == nil || r.Verdict != rules.Blocked || r.Name == "" {
		return false
	}
	return e.quicHeld.hold(clientNameKey(r.Client, r.Name), *r, time.Unix(0, c.firstNs), e.opts.MaxHeldDNS)
}

// releaseQUICHeld reports the QUIC flows held since before (all when before is zero), forgiving those whose
// client reached the name over TCP, by reached.
func (e *Engine) releaseQUICHeld(before time.Time, reached func(key lookup, ns int64) bool) {
	for _, r := range e.quicHeld.expire(before) {
		start, _ := time.Parse(time.RFC3339Nano, r.Start)
		if reached(clientNameKey(r.Client, r.Name), start.UnixNano()) {
			r.Warning = quicFallbackWarning + " (" + r.Reason + ")"
			r.Verdict, r.Stage, r.Reason = rules.Allowed, "", ""
		}
		e.emit(&r)
	}
}

// settleQUIC ends the QUIC flows of every engine at the end of the capture and reports the held ones, judged
// against the TCP connections of all engines, those still open included.
func settleQUIC(engines []*Engine) {
	held := false
	for _, e := range engines {
		if e.openQUIC() {
			for _, c := range e.openConns() {
				if c.quic != nil && e.conns[c.key] == c {
					e.finish(c, "")
				}
			}
		}
		held = held || e.quicHeld.live > 0
	}
	if !held { // nothing to judge: no open TCP connection needs its record built
		return
	}
	var open tcpReached
	open.limit = 1 << 30 // bounded by the connection tables it is filled from
	for _, e := range engines {
		for _, c := range e.conns {
			if c.key.proto() == protoTCP {
				r := e.connRecord(c)
				if r.Port == quicPort && r.Name != "" && r.Verdict == rules.Allowed {
					open.add(clientNameKey(r.Client, r.Name), c.firstNs)
				}
			}
		}
	}
	reached := func(key lookup, ns int64) bool {
		if open.within(key, ns) {
			return true
		}
		for _, e := range engines {
			if e.reached.within(key, ns) {
				return true
			}
		}
		return false
	}
	for _, e := range engines {
		e.releaseQUICHeld(time.Time{}, reached)
	}
}

// openQUIC reports whether a QUIC flow is still in the connection table.
func (e *Engine) openQUIC() bool {
	for _, c := range e.conns {
		if c.quic != nil {
			return true
		}
	}
	return false
}
