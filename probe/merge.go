package probe

import (
	"net/netip"
	"slices"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// connKey finds a probe's connection among capture records: its transport and both ends.
type connKey struct {
	proto         string
	local, remote netip.AddrPort
}

// Merge joins each result with the capture's record of the same connection (same transport, same local
// and remote address and port; the probe pins its local port so a connection that never completed is found
// too), and settles the verdict: the wire's when the capture has the connection, else the socket's. With
// records nil (no capture) every result rests on its socket. failOn decides Failed.
func Merge(results []Result, records []result.Record, failOn []rules.Verdict) {
	byConn := make(map[connKey]*result.Record, len(records))
	for i := range records {
		rec := &records[i]
		if rec.Type != "flow" {
			continue
		}
		k, ok := recordKey(rec)
		if ok {
			if _, dup := byConn[k]; !dup {
				byConn[k] = rec
			}
		}
	}
	for i := range results {
		settle(&results[i], byConn, records != nil, failOn)
	}
}

func recordKey(rec *result.Record) (connKey, bool) {
	c, err1 := netip.ParseAddr(rec.Client)
	s, err2 := netip.ParseAddr(rec.Server)
	if err1 != nil || err2 != nil {
		return connKey{}, false
	}
	return connKey{proto: rec.Proto, local: netip.AddrPortFrom(c.Unmap(), rec.ClientPort),
		remote: netip.AddrPortFrom(s.Unmap(), rec.ServerPort)}, true
}

func settle(r *Result, byConn map[connKey]*result.Record, captured bool, failOn []rules.Verdict) {
	socketVerdict := r.Socket.Outcome.Verdict()
	r.Verdict, r.Evidence = socketVerdict, "socket"
	local, err1 := netip.ParseAddrPort(r.Socket.Local)
	remote, err2 := netip.ParseAddrPort(r.Socket.Remote)
	if captured && err1 == nil && err2 == nil {
		if rec, ok := byConn[connKey{proto: r.Proto, local: local, remote: remote}]; ok {
			r.Wire = &Wire{Verdict: rec.Verdict, State: rec.State, Stage: rec.Stage, Reason: rec.Reason,
				History: rec.History, FirstFrame: rec.FirstFrame, Name: rec.Name, NameSource: rec.NameSource}
			r.Verdict, r.Evidence = wireVerdict(rec.Verdict, socketVerdict), "wire"
			if disagree(socketVerdict, rec.Verdict) {
				r.Disagreement = "socket: " + string(r.Socket.Outcome) + ", wire: " + string(rec.Verdict)
				if rec.Stage != "" {
					r.Disagreement += " (" + rec.Stage + ")"
				}
			}
		}
	}
	r.Intercepted = r.Socket.CertChain != "" && r.Socket.CertChain != ChainPublic
	r.Failed = r.Intercepted || slices.Contains(failOn, r.Verdict)
}

// wireVerdict settles the verdict when the capture has the connection: a failure the wire shows (blocked,
// reset) stands; otherwise a failure only the socket saw (a TLS alert, a handshake cut short, which a
// capture shows as an orderly close) stands, so the pair is never "allowed" when either view failed. The
// rules' words the wire may give (unlisted, other: it named the connection differently, or not at all)
// give way to the socket's.
func wireVerdict(wire, socket rules.Verdict) rules.Verdict {
	switch {
	case wire == rules.Blocked || wire == rules.Reset:
		return wire
	case socket != rules.Allowed:
		return socket
	}
	return rules.Allowed
}

// disagree compares what the network did in the two views; a wire verdict about names is no disagreement.
func disagree(socket, wire rules.Verdict) bool {
	switch wire {
	case rules.Allowed, rules.Blocked, rules.Reset:
		return socket != wire
	}
	return false
}
