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
// records nil (no capture) every result rests on its socket. failOn decides Failed. It returns the records
// no probe claimed (the same addresses' other traffic), in capture order.
func Merge(results []Result, records []result.Record, failOn []rules.Verdict) []result.Record {
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
	claimed := map[*result.Record]bool{}
	for i := range results {
		settle(&results[i], byConn, records != nil, failOn)
		if results[i].wireRec != nil {
			claimed[results[i].wireRec] = true
		}
	}
	var rest []result.Record
	for i := range records {
		if !claimed[&records[i]] {
			rest = append(rest, records[i])
		}
	}
	return rest
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
			r.wireRec = rec
			net := networkVerdict(rec)
			r.Wire = &Wire{Verdict: net, State: string(rec.State), Stage: string(rec.Stage), Reason: rec.Reason,
				History: rec.History, FirstFrame: rec.FirstFrame, Name: rec.Name, NameSource: string(rec.NameSource)}
			if rec.Verdict != net {
				r.Wire.RecordVerdict = rec.Verdict
				if r.Wire.Stage == "" {
					r.Wire.Stage = stageOfState(rec)
				}
			}
			r.Verdict, r.Evidence = wireVerdict(net, socketVerdict), "wire"
			if socketVerdict != net {
				r.Disagreement = "socket: " + string(r.Socket.Outcome) + ", wire: " + string(net)
				if rec.Stage != "" {
					r.Disagreement += " (" + string(rec.Stage) + ")"
				}
			}
		}
	}
	// Judged as analyze judges a connection: a chain that does not verify (private) or is for another name is
	// an interception, and a connection that otherwise got through is intercepted.
	r.Intercepted = r.Socket.CertChain == ChainPrivate || r.Socket.CertChain == ChainNameMismatch
	if r.Intercepted && r.Verdict == rules.Allowed {
		r.Verdict = rules.Intercepted
	}
	r.Failed = r.Intercepted || slices.Contains(failOn, r.Verdict)
}

// stageOfState is the stage of a failed connection the capture had no name for (its record, judged by
// the rules first, carries none): a refused or unanswered SYN failed after the SYN, an unanswered UDP
// request after the query.
func stageOfState(rec *result.Record) string {
	switch {
	case rec.State == "refused", rec.State == "unanswered" && rec.Proto == "tcp":
		return stageAfterSyn
	case rec.State == "unanswered":
		return stageAfterQuery
	}
	return ""
}

// wireVerdict settles the verdict when the capture has the connection: a failure the wire shows (blocked,
// reset) stands; otherwise a failure only the socket saw (a TLS alert, a handshake cut short, which a
// capture shows as an orderly close) stands, so the pair is never "allowed" when either view failed.
func wireVerdict(wire, socket rules.Verdict) rules.Verdict {
	// wire is a network verdict here: allowed, blocked or reset.
	switch {
	case wire == rules.Blocked || wire == rules.Reset:
		return wire
	case wire == rules.Intercepted && socket == rules.Allowed:
		return wire
	case socket != rules.Allowed:
		return socket
	}
	return rules.Allowed
}

// networkVerdict is what the network did to a captured connection, in verdict words. A record's verdict
// speaks of the rules first (unlisted, other, port-not-allowed when the capture had no name, or another
// one, for it); the probe already knows the name and row, so it reads the connection's state instead,
// as the engine does for a named connection: refused and reset are "reset", unanswered is "blocked".
func networkVerdict(rec *result.Record) rules.Verdict {
	switch rec.Verdict {
	case rules.Allowed, rules.Blocked, rules.Reset, rules.Intercepted:
		return rec.Verdict
	}
	switch rec.State {
	case "refused", "reset":
		return rules.Reset
	case "unanswered", "rejected":
		return rules.Blocked
	}
	return rules.Allowed
}
