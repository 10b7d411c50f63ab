package analyze

import (
	"time"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// connRecord builds the record of a finished connection: its name with evidence, its outcome and its verdict.
func (e *Engine) connRecord(c *conn) result.Record {
	r := result.Record{
		Type:       "flow",
		Proto:      "tcp",
		Client:     e.addrText.of(c.cli().addr),
		ClientPort: c.cli().port,
		Server:     e.addrText.of(c.srv().addr),
		ServerPort: c.srv().port,
		Port:       c.srv().port,
		Transport:  c.transport(),
		ECH:        c.appView().ech,
		History:    c.hist.String(),
		State:      c.wireState(),
		ICMP:       c.icmp.record(),
		Tunnel:     tunnelField(c.tunnel),
	}
	proto := rules.TCP
	if c.key.proto() == protoUDP {
		r.Proto, proto, r.History = "udp", rules.UDP, ""
	}
	e.frameFields(&r, c.first, c.last, time.Unix(0, c.firstNs), time.Unix(0, c.lastNs), c.key.vlan())
	r.Packets, r.Bytes = c.packets, c.bytes
	e.nameConn(c, &r)
	tlsFields(c.appView().tls, &r)
	if !invalidName(&r) { // name_check.go: a name that is not a host name is not judged
		o := c.outcome()
		m, v := e.judge(r.Name, c.srv(), proto, r.Port, true, o)
		if c.quic != nil && v == rules.PortNotAllowed {
			m, v = e.judge(r.Name, c.srv(), rules.TCP, r.Port, true, o) // HTTP/3 is HTTPS: the rule's TCP 443 allows it
		}
		e.describe(&r, m)
		r.Verdict = v
		if v == rules.Blocked || v == rules.Reset {
			r.Stage = o.stage
			if f := c.decidingFrame(o); f != r.LastFrame {
				r.VerdictFrame = f
			}
		}
		if v == rules.Intercepted {
			o.reason = interceptionReason(&r, m)
		}
		r.Reason = reasonFor(v, &r, o)
		explainRejection(&r, o)
	}
	if c.quic != nil {
		c.quicFields(&r)
	}
	distrustOverlap(c, &r)
	if c.parserPanic {
		r.Warning = "a payload parser failed on this connection; its name may be missing"
	}
	return r
}

// decidingFrame is the frame that settled a failing outcome: the proxy's answer, the server side's RST, else
// the last frame (the last unanswered SYN, the last datagram).
func (c *conn) decidingFrame(o outcome) uint64 {
	switch {
	case (o.stage == result.StageAfterConnect || o.stage == result.StageAfterRequest) && c.app != nil &&
		c.app.respFrame != 0 && c.app.httpStatus >= 400:
		return c.app.respFrame
	case o.stage == result.StageAfterSOCKS && c.app != nil && c.app.respFrame != 0 && !c.app.socksTunnelOpen():
		return c.app.respFrame
	case c.serverRST && c.rstFrame != 0:
		return c.rstFrame
	}
	return c.last.number
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
	e.noteCaptureLoss(c)
	if c.midstream {
		e.facts.midstream++
	}
	clientWentOn := c.clientSentData || c.clientSeenAfterSyn // more than SYNs: the client got an answer
	clientSeen := c.synSeen || clientWentOn
	if (clientWentOn && !c.serverSeen) || (c.serverSeen && !clientSeen) {
		e.facts.oneSided++
	}
}
