package analyze

import (
	"net/netip"
	"strings"
	"time"

	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// connRecord builds the record of a finished connection: its name with evidence, its outcome and its verdict.
func (e *Engine) connRecord(c *conn) result.Record {
	r := result.Record{
		Type:       "flow",
		Proto:      "tcp",
		Client:     c.cli().addr.String(),
		ClientPort: c.cli().port,
		Server:     c.srv().addr.String(),
		ServerPort: c.srv().port,
		Port:       c.srv().port,
		Transport:  c.transport(),
		ECH:        c.appView().ech,
		History:    c.hist.String(),
		State:      c.state(),
	}
	proto := rules.TCP
	if c.key.proto() == protoUDP {
		r.Proto, proto, r.History = "udp", rules.UDP, ""
	}
	e.frameFields(&r, c.first, c.last, time.Unix(0, c.firstNs), time.Unix(0, c.lastNs), c.key.vlan())
	r.Packets, r.Bytes = c.packets, c.bytes
	e.nameConn(c, &r)
	o := c.outcome()
	m, v := e.judge(r.Name, c.srv(), proto, r.Port, true, o)
	describe(&r, m)
	r.Verdict = v
	if v == rules.Blocked || v == rules.Reset {
		r.Stage = o.stage
	}
	r.Reason = reasonFor(v, &r, o)
	if c.parserPanic {
		r.Warning = "a payload parser failed on this connection; its name may be missing"
	}
	return r
}

// transport names what the client's payload was.
func (c *conn) transport() result.Transport {
	if c.app != nil && c.app.transport != "" {
		return c.app.transport
	}
	if c.clientSentData {
		return result.TransportUnknown
	}
	return result.TransportNone
}

// nameConn picks the connection's one name, in order of strength: the SNI the client sent, the Host it asked
// for, the CONNECT target it gave a proxy, and last the DNS question that gave it the server's address.
func (e *Engine) nameConn(c *conn, r *result.Record) {
	a := c.appView()
	if a.transport == result.TransportConnect || a.absoluteURI {
		r.ViaProxy = true
		r.ProxyStatus = a.httpStatus
		if a.connectPort != 0 {
			r.Port = a.connectPort
		}
	}
	switch {
	case usableName(a.sni):
		r.Name, r.NameSource, r.NameFrame = a.sni, result.NameFromSNI, a.helloFrame
	case usableName(a.httpHost):
		r.Name, r.NameSource, r.NameFrame = a.httpHost, result.NameFromHTTPHost, a.httpFrame
	case usableName(a.connectHost):
		r.Name, r.NameSource, r.NameFrame = a.connectHost, result.NameFromConnect, a.connectFrame
	case c.name != nil && !r.ViaProxy:
		r.Name, r.NameSource, r.NameFrame = c.name.name, c.name.source, c.name.frame
		r.DNSChain = c.name.dnsChain
	}
	if r.ViaProxy && a.absoluteURI && a.httpPort != 0 {
		r.Port = a.httpPort
	}
	r.Name = strings.TrimSuffix(r.Name, ".")
}

// usableName reports whether a name read from a packet can name a connection: not empty and not an address
// literal (a Host header of "198.18.0.1" says nothing a rule could match; the server address already says it).
func usableName(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err != nil
}

// frameFields fills the fields every record has from its first and last frame.
func (e *Engine) frameFields(r *result.Record, first, last frameRef, t0, t1 time.Time, vlan [2]uint16) {
	r.FirstFrame, r.LastFrame, r.Order = first.number, last.number, first.seq
	if len(e.opts.Files) > 1 && first.file < len(e.opts.Files) {
		r.File = e.opts.Files[first.file]
	}
	r.Start = t0.UTC().Format(time.RFC3339Nano)
	r.Duration = t1.Sub(t0).Seconds()
	for _, v := range vlan {
		if v != 0 {
			r.VLAN = append(r.VLAN, int(v))
		}
	}
}

// noteQuality counts what limited the evidence of a connection.
func (e *Engine) noteQuality(c *conn) {
	if c.key.proto() != protoTCP {
		return
	}
	if c.midstream {
		e.facts.midstream++
	}
	clientWentOn := c.clientSentData || c.clientSeenAfterSyn // more than SYNs: the client got an answer
	clientSeen := c.synSeen || clientWentOn
	if (clientWentOn && !c.serverSeen) || (c.serverSeen && !clientSeen) {
		e.facts.oneSided++
	}
}

// finishDNS reports one DNS exchange. A failed lookup of a listed name is held back while a successful lookup
// of the same name by the same client may still turn up.
func (e *Engine) finishDNS(x *dnsExchange) {
	e.facts.dnsExchanges++
	r := e.dnsRecord(x)
	clientName := x.key.client.String() + " " + strings.ToLower(x.question)
	if x.answered && x.rcode == 0 && x.opcode == 0 {
		e.resolved.add(clientName)
		e.emit(&r)
		e.releaseName(clientName)
		return
	}
	if r.Verdict == rules.Blocked {
		if e.resolved.has(clientName) {
			forgiveDNS(&r)
		} else if e.held.hold(clientName, r, x.lastTime, e.opts.MaxHeldDNS) {
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
		Client:     x.key.client.String(),
		ClientPort: x.key.clientPort,
		Server:     x.key.server.String(),
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
	} else {
		o = outcome{rules.Blocked, result.StageAfterQuery, "no answer came back"}
	}
	if x.opcode != 0 { // an update or notify, not a lookup: nothing a device needs for Intune
		m, _ := e.opts.Matcher.Judge(x.question, rules.UDP, 0)
		describe(&r, m)
		r.Verdict = rules.Other
		return r
	}
	m, v := e.judge(x.question, endpoint{x.key.server, x.key.serverPort}, rules.UDP, 0, false, o)
	describe(&r, m)
	r.Verdict = v
	if v == rules.Blocked {
		r.Stage, r.Reason = o.stage, o.reason
	}
	if x.partial {
		r.Warning = "the answer was cut short in the capture (snaplen)"
	}
	return r
}

// releaseName reports the failed lookups held for clientName as warnings: a retry succeeded.
func (e *Engine) releaseName(clientName string) {
	for _, r := range e.held.take(clientName) {
		forgiveDNS(&r)
		e.emit(&r)
	}
}

// releaseHeld reports held failures older than before (all of them when before is zero) as blocked.
func (e *Engine) releaseHeld(before time.Time) {
	for _, r := range e.held.expire(before) {
		e.emit(&r)
	}
}
