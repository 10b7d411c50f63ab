package analyze

import (
	"fmt"
	"strings"
	"time"

	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// finishDNS reports one DNS exchange. A failed lookup of a listed name is held back while a successful lookup
// of the same name by the same client may still turn up (Engine.resolve).
func (e *Engine) finishDNS(x *dnsExchange) {
	e.facts.dnsExchanges++
	r := e.dnsRecord(x)
	l := lookup{client: x.key.client, name: strings.ToLower(x.question)}
	if r.Verdict == rules.Blocked {
		if e.dns.resolved.has(l) {
			forgiveDNS(&r)
		} else if e.dns.held.hold(l, r, x.lastTime, e.opts.MaxHeldDNS) {
			return
		}
	}
	e.emit(&r)
}

// forgiveDNS turns a failed lookup into a warning: the client resolved the same name another time.
func forgiveDNS(r *result.Record) {
	r.Warning = "lookup failed (" + r.Reason + ") but the same client resolved this name elsewhere in the capture"
	r.Verdict, r.Stage, r.Reason = rules.Allowed, "", ""
}

// dnsRecord builds the record of one exchange.
func (e *Engine) dnsRecord(x *dnsExchange) result.Record {
	r := result.Record{
		Type:       "dns",
		Proto:      "udp",
		Client:     e.addrText.of(x.key.client),
		ClientPort: x.key.clientPort,
		Server:     e.addrText.of(x.key.server),
		ServerPort: x.key.serverPort,
		Port:       x.key.serverPort,
		Name:       x.question,
		NameSource: result.NameFromQuery,
		NameFrame:  x.first.number,
		Transport:  result.TransportDNS,
		State:      result.StateUnanswered,
		QType:      dnsmsg.TypeString(x.qtype),
		Answers:    x.answers,
		CNAMEs:     x.cnames,
		Packets:    x.packets,
		Bytes:      x.bytes,
		ICMP:       x.icmp.record(),
		Tunnel:     tunnelField(x.tunnel),
	}
	if x.key.proto == protoTCP {
		r.Proto = "tcp"
	}
	e.frameFields(&r, x.first, x.last, x.firstTime, x.lastTime, x.vlan)
	o := outcome{verdict: rules.Allowed}
	if x.answered {
		r.State, r.Rcode = result.StateAnswered, dnsmsg.RcodeString(x.rcode)
		if x.rcode != 0 {
			o = outcome{rules.Blocked, result.StageAfterQuery, "the resolver answered " + r.Rcode}
		}
	} else if x.icmp != nil {
		r.State = result.StateRejected
		o = outcome{rules.Blocked, result.StageAfterQuery, x.icmp.reason()}
	} else {
		o = outcome{rules.Blocked, result.StageAfterQuery, "no answer came back"}
	}
	if x.opcode != 0 { // an update or notify, not a lookup: nothing a device needs for Intune
		m, _ := e.opts.Matcher.Judge(x.question, rules.UDP, 0)
		e.describe(&r, m)
		r.Verdict = rules.Other
		return r
	}
	m, v := e.judge(x.question, endpoint{x.key.server, x.key.serverPort}, rules.UDP, 0, false, o)
	e.describe(&r, m)
	r.Verdict = v
	if v == rules.Blocked {
		r.Stage, r.Reason = o.stage, o.reason
	}
	explainRejection(&r, o)
	switch {
	case x.partial:
		r.Warning = "the answer was cut short in the capture (snaplen)"
	case x.badCounts:
		r.Warning = "the answer holds fewer records than its header counts (malformed by its sender, not cut by the capture)"
	}
	if x.moreAnswers > 0 {
		r.Warning = joinWarning(r.Warning, fmt.Sprintf("%d more answer records (addresses and CNAMEs beyond the first %d of each) not listed",
			x.moreAnswers, maxRecordAnswers))
	}
	return r
}

// releaseName reports the failed lookups held for l as warnings: a retry succeeded.
func (e *Engine) releaseName(l lookup) {
	for _, r := range e.dns.held.take(l) {
		forgiveDNS(&r)
		e.emit(&r)
	}
}

// releaseHeld reports held failures older than before (all of them when before is zero) as blocked.
func (e *Engine) releaseHeld(before time.Time) {
	for _, r := range e.dns.held.expire(before) {
		e.emit(&r)
	}
}

// joinWarning appends w to a record's warning.
func joinWarning(have, w string) string {
	if have == "" {
		return w
	}
	return have + "; " + w
}
