package probe

import (
	"net/netip"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// NameSourceProbe is the name_source of a record the probe wrote: the name is the one it contacted.
const NameSourceProbe = result.NameFromProbe

// Record is the probe as a report record, so the usual writers count and list it with the rest: the
// capture's record of the connection when there is one, else one built from the socket. Either way the
// name, row and verdict are the probe's, which knows which name and row it tested.
func (r *Result) Record() result.Record {
	var rec result.Record
	if r.wireRec != nil {
		rec = *r.wireRec
		if rec.Name == "" {
			rec.Name, rec.NameSource = r.Name, NameSourceProbe
		}
	} else {
		rec = r.socketRecord()
	}
	rec.Port = r.Port
	rec.Rule, rec.RuleKey, rec.Purpose = r.Rule, r.RuleKeys[0], r.Purpose
	rec.Verdict = r.Verdict
	if r.Verdict != rules.Allowed {
		stage, reason := r.stageReason()
		rec.Stage, rec.Reason = result.Stage(stage), reason
	}
	if r.Intercepted {
		rec.Reason = "the TLS chain is " + string(r.Socket.CertChain) + ": the connection was intercepted or the server is not Microsoft's"
	}
	return rec
}

// stageReason explains a failed probe: the wire's reason when it agrees, else the socket's.
func (r *Result) stageReason() (string, string) {
	if r.Wire != nil && r.Wire.Verdict == r.Verdict && r.Wire.Reason != "" {
		return r.Wire.Stage, r.Wire.Reason
	}
	reason := "socket: " + string(r.Socket.Outcome)
	if r.Socket.Detail != "" {
		reason += ": " + r.Socket.Detail
	}
	return r.Socket.Stage, reason
}

// socketRecord is the record of a probe the capture did not see (or no capture was taken).
func (r *Result) socketRecord() result.Record {
	s := &r.Socket
	rec := result.Record{Type: "flow", Proto: r.Proto, Name: r.Name, NameSource: NameSourceProbe,
		Transport: result.Transport(transportOf(r)), State: result.State(stateOf(s.Outcome, r.Proto)), ViaProxy: r.Proxy != "",
		ProxyStatus: s.ProxyStatus}
	if s.Outcome == OutcomeDNSFailed {
		rec.Type, rec.Proto, rec.Transport, rec.State, rec.QType = "dns", "udp", "dns", "answered", "A"
		rec.Rcode = s.Rcode
		if rec.Rcode == "" {
			rec.State = "unanswered"
		}
	}
	if ap, err := netip.ParseAddrPort(s.Local); err == nil {
		rec.Client, rec.ClientPort = ap.Addr().String(), ap.Port()
	}
	if ap, err := netip.ParseAddrPort(s.Remote); err == nil {
		rec.Server, rec.ServerPort = ap.Addr().String(), ap.Port()
	}
	return rec
}

func transportOf(r *Result) string {
	switch {
	case r.Proxy != "" && r.Method != MethodHTTP:
		return "connect"
	case r.Method == MethodTLS:
		return "tls"
	case r.Method == MethodHTTP:
		return "http"
	case r.Method == MethodNTP:
		return "unknown"
	}
	return "none"
}

// stateOf is the connection state the engine would give a connection with this outcome.
func stateOf(o Outcome, proto string) string {
	switch o {
	case OutcomeOK:
		if proto == "udp" {
			return "answered"
		}
		return "established"
	case OutcomeTimeout, OutcomeNoAnswer, OutcomeUnreachable:
		return "unanswered"
	case OutcomeRefused:
		return "refused"
	case OutcomeReset:
		return "reset"
	}
	return "closed"
}
