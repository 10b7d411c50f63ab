package analyze

import (
	"fmt"
	"strconv"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// resetReason is the reason of a connection the server side reset at stage (constant strings: most failing
// connections of a capture end so, and each would build its reason anew).
func resetReason(stage result.Stage) string {
	const reset = "the server side reset the connection "
	switch stage {
	case result.StageAfterSyn:
		return reset + "before any data"
	case result.StageAfterClientHello:
		return reset + "after the TLS ClientHello"
	case result.StageAfterConnect:
		return reset + "after the CONNECT request"
	case result.StageAfterSOCKS:
		return reset + "after the SOCKS request"
	case result.StageAfterRequest:
		return reset + "after the HTTP request"
	}
	return reset + "after data had flowed"
}

// outcome is what the network did to a connection, before the rules say whether that matters.
type outcome struct {
	verdict rules.Verdict // Allowed, Blocked, Reset or Intercepted
	stage   result.Stage
	reason  string
}

// outcome reads a connection's fate from its state and payload, in order: a proxy's refusal, a TLS chain
// that something on the way made (tls_verdict.go), a fatal alert that ended the handshake, then what TCP
// says.
func (c *conn) outcome() outcome {
	if c.quic != nil {
		return c.quicOutcome()
	}
	a := c.appView()
	if a.transport == result.TransportConnect || a.absoluteURI {
		if o, failed := proxyOutcome(a); failed {
			return o
		}
	}
	if a.transport == result.TransportSOCKS {
		if o, failed := socksOutcome(a); failed {
			return o
		}
	}
	if a.transport == result.TransportHTTP && a.httpStatus == 407 {
		return outcome{rules.Blocked, result.StageAfterRequest,
			"a proxy on the path asked for authentication (407), which Intune's clients cannot give"}
	}
	if o, failed := c.tlsOutcome(); failed {
		return o
	}
	switch c.wireState() {
	case result.StateRejected:
		return c.rejectedOutcome()
	case result.StateRefused:
		return outcome{rules.Reset, result.StageAfterSyn, "the server answered the SYN with a reset (connection refused)"}
	case result.StateReset:
		stage := c.resetStage()
		return outcome{rules.Reset, stage, resetReason(stage)}
	case result.StateUnanswered:
		if c.key.proto() == protoUDP {
			return outcome{rules.Blocked, result.StageAfterQuery, "no reply came back"}
		}
		if c.serverSeen {
			return outcome{rules.Blocked, result.StageAfterSyn, c.bareACKReason()}
		}
		return outcome{rules.Blocked, result.StageAfterSyn, c.unansweredReason()}
	}
	return outcome{verdict: rules.Allowed}
}

// resetStage says how far a reset connection got.
func (c *conn) resetStage() result.Stage {
	a := c.appView()
	switch {
	case !c.clientSentData:
		return result.StageAfterSyn
	case a.transport == result.TransportSOCKS && c.socksResetStage() != "":
		return c.socksResetStage()
	case a.transport == result.TransportConnect && a.httpStatus == 0:
		return result.StageAfterConnect
	case a.transport == result.TransportConnect && c.serverBytes <= int64(a.respHeadLen):
		if a.clientHello {
			return result.StageAfterClientHello
		}
		return result.StageAfterConnect
	case c.serverRSTEarly && (a.transport == result.TransportTLS || a.clientHello):
		return result.StageAfterClientHello
	case c.serverRSTEarly && a.transport == result.TransportHTTP:
		return result.StageAfterRequest
	default:
		return result.StageAfterData
	}
}

// bareACKReason is the reason of a SYN the server answered only with an ACK.
func (c *conn) bareACKReason() string {
	const reason = "the SYN was answered only by an ACK, never a SYN-ACK"
	if c.clientRST {
		return reason + ", and the client reset"
	}
	return reason
}

// unansweredReason is the reason of a SYN nothing answered.
func (c *conn) unansweredReason() string {
	const reason = "the SYN got no answer"
	if c.hist.has('T', true) {
		return reason + " (retransmitted)"
	}
	return reason
}

// proxyOutcome reads a proxy's answer: 407 always means the proxy wants credentials Intune clients do not
// have; 403 and 5xx from a proxy mean it refused or could not reach the endpoint.
func proxyOutcome(a *appState) (outcome, bool) {
	s := a.httpStatus
	switch {
	case s == 407:
		return outcome{rules.Blocked, result.StageAfterConnect, "the proxy asked for authentication (407)"}, true
	case s == 403 || s >= 500:
		return outcome{rules.Blocked, result.StageAfterConnect, "the proxy refused the request (" + strconv.Itoa(s) + ")"}, true
	}
	return outcome{}, false
}

// judge combines the rules' view of a name with the network's outcome, in the order of precedence:
// no rule (unlisted or other), wrong port, then what the network did.
func (e *Engine) judge(name string, server endpoint, proto rules.Proto, port uint16, checkPort bool, o outcome) (rules.Match, rules.Verdict) {
	var m rules.Match
	var v rules.Verdict
	if name != "" {
		m, v = e.opts.Matcher.Judge(name, proto, port)
	} else {
		m = e.opts.Matcher.MatchAddr(server.addr, proto, port)
		v = rules.Other
		if m.Rule != nil {
			v = rules.Allowed
			if !m.PortAllowed {
				v = rules.PortNotAllowed
			}
		}
	}
	if !checkPort && m.Rule != nil && v == rules.PortNotAllowed {
		v = rules.Allowed
	}
	if v == rules.Allowed {
		v = o.verdict
	}
	return m, v
}

// describe fills a record's rule fields from a match.
func (e *Engine) describe(r *result.Record, m rules.Match) {
	if m.Rule == nil {
		return
	}
	r.Rule = m.Rule.Pattern
	if r.Rule == "" && m.Rule.Prefix.IsValid() {
		r.Rule = m.Rule.Prefix.String()
	}
	r.RuleKey = e.stats.ruleKey(m.Rule)
	r.Purpose = m.Rule.Purpose
}

// reasonFor explains a verdict that is not a plain network outcome.
func reasonFor(v rules.Verdict, r *result.Record, o outcome) string {
	switch v {
	case rules.PortNotAllowed:
		return fmt.Sprintf("port %d is not among the ports the rule allows", r.Port)
	case rules.Blocked, rules.Reset, rules.Intercepted:
		return o.reason
	}
	return ""
}
