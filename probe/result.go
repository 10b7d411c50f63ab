package probe

import (
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Outcome is what the socket said about one attempt.
type Outcome string

// The socket outcomes. Each maps to the verdict the analysis engine gives the same fate on the wire
// (Outcome.Verdict), so socket and wire can be compared.
const (
	OutcomeOK          Outcome = "ok"           // handshake done, HTTP answered, NTP answered
	OutcomeDNSFailed   Outcome = "dns-failed"   // the name did not resolve
	OutcomeTimeout     Outcome = "timeout"      // no answer within --timeout
	OutcomeRefused     Outcome = "refused"      // the SYN was answered with a reset
	OutcomeReset       Outcome = "reset"        // reset after the connection was up
	OutcomeClosed      Outcome = "closed"       // the peer closed before answering
	OutcomeUnreachable Outcome = "unreachable"  // ICMP unreachable, no route
	OutcomeTLSAlert    Outcome = "tls-alert"    // the server (or a middlebox) sent a TLS alert
	OutcomeTLSError    Outcome = "tls-error"    // the answer was not TLS, or a handshake error of our own
	OutcomeProxyDenied Outcome = "proxy-denied" // the proxy answered 403 or 5xx
	OutcomeProxyAuth   Outcome = "proxy-auth"   // the proxy answered 407: it wants credentials
	OutcomeProxyError  Outcome = "proxy-error"  // the proxy answered something else, or could not be reached
	OutcomeNoAnswer    Outcome = "no-answer"    // UDP: no reply came back
	OutcomeError       Outcome = "error"        // anything else; Detail says what
)

// Verdict is the rules.Verdict a connection with this outcome gets: the analysis engine's words for the
// same fate (a refused SYN is "reset", an unanswered one "blocked", a proxy's 403 or 407 "blocked").
func (o Outcome) Verdict() rules.Verdict {
	switch o {
	case OutcomeOK:
		return rules.Allowed
	case OutcomeRefused, OutcomeReset:
		return rules.Reset
	}
	return rules.Blocked
}

// Socket is the result of one attempt as the probing process saw it.
type Socket struct {
	Outcome     Outcome  `json:"outcome"`
	Stage       string   `json:"stage,omitempty"`  // after-query, after-syn, after-connect, after-client-hello, after-request
	Detail      string   `json:"detail,omitempty"` // the error, or what the answer said
	Rcode       string   `json:"rcode,omitempty"`  // the DNS response code of a failed lookup, when known
	Addresses   []string `json:"addresses,omitempty"`
	Local       string   `json:"local,omitempty"`  // our address:port, to find the connection in a capture
	Remote      string   `json:"remote,omitempty"` // the address:port contacted (the proxy when proxied)
	ProxyStatus int      `json:"proxy_status,omitempty"`
	HTTPStatus  int      `json:"http_status,omitempty"`
	Location    string   `json:"location,omitempty"` // a redirect's target, recorded, never followed
	TLSVersion  string   `json:"tls_version,omitempty"`
	CertSubject string   `json:"cert_subject,omitempty"`
	CertIssuer  string   `json:"cert_issuer,omitempty"`
	CertSHA256  string   `json:"cert_sha256,omitempty"`
	CertChain   Chain    `json:"cert_chain,omitempty"`
	NTPStratum  int      `json:"ntp_stratum,omitempty"`
}

// Wire is the analysis engine's record of the same connection in the capture taken meanwhile.
type Wire struct {
	Verdict rules.Verdict `json:"verdict"` // what the network did: allowed, blocked or reset
	// RecordVerdict is the capture record's own verdict when it differs: "other" or "unlisted" when the
	// capture had no name (or another) for the connection, e.g. a SYN that never got an answer.
	RecordVerdict rules.Verdict `json:"record_verdict,omitempty"`
	State         string        `json:"state"`
	Stage         string        `json:"stage,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	History       string        `json:"history,omitempty"`
	FirstFrame    uint64        `json:"first_frame,omitempty"`
	Name          string        `json:"name,omitempty"`
	NameSource    string        `json:"name_source,omitempty"`
}

// Result is one probe: a target's attempt, its socket result and, when a capture was taken, its wire
// verdict. Its JSON is the "probe" record of the report (docs/probe.md).
type Result struct {
	Type     string        `json:"type"` // "probe"
	Name     string        `json:"name"`
	Proto    string        `json:"proto"`
	Port     uint16        `json:"port"`
	Method   Method        `json:"method"`
	RuleKeys []string      `json:"rule_keys"`
	Rule     string        `json:"rule"` // pattern of the first row tested
	Purpose  string        `json:"purpose,omitempty"`
	Proxy    string        `json:"proxy,omitempty"` // the proxy the probe went through
	Socket   Socket        `json:"socket"`
	Wire     *Wire         `json:"wire,omitempty"`
	Evidence string        `json:"evidence"` // "wire" or "socket": what Verdict rests on
	Verdict  rules.Verdict `json:"verdict"`
	// Disagreement says how socket and wire differ, e.g. "socket: timeout, wire: reset (after-client-hello)".
	Disagreement string `json:"disagreement,omitempty"`
	// Intercepted is set when the chain is not public on a name that matched: the network re-signed the
	// connection (or the server is wrong), which no verdict word says yet.
	Intercepted bool `json:"intercepted,omitempty"`
	Failed      bool `json:"failed"` // Verdict is in --fail-on, or Intercepted

	wireRec *result.Record // the capture's record of this connection, for Record
}

// NotProbeable is a row, or some of its ports, left out, with the reason. Its JSON is the report's
// "not-probeable" record.
type NotProbeable struct {
	Type    string `json:"type"` // "not-probeable"
	RuleKey string `json:"rule_key"`
	Rule    string `json:"rule,omitempty"`
	Purpose string `json:"purpose,omitempty"`
	Ports   string `json:"ports,omitempty"`
	Reason  string `json:"reason"`
}

// NotProbeableOf turns the skipped rows of a selection into report records.
func NotProbeableOf(skipped []Skipped) []NotProbeable {
	out := make([]NotProbeable, len(skipped))
	for i, s := range skipped {
		out[i] = NotProbeable{Type: "not-probeable", RuleKey: s.Rule.Key(), Rule: s.Rule.Target(),
			Purpose: s.Rule.Purpose, Ports: s.Ports, Reason: s.Reason}
	}
	return out
}
