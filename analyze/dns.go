package analyze

import (
	"github.com/intunecap/intunecap/result"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"

	"github.com/intunecap/intunecap/analyze/dnsmsg"
)

// dnsKey identifies one DNS exchange: a query and the answer that carries its id back to the same socket.
type dnsKey struct {
	client, server         netip.Addr
	clientPort, serverPort uint16
	proto                  uint8
	id                     uint16
}

// dnsExchange is a query waiting for its answer, or an answer whose query the capture missed.
type dnsExchange struct {
	key       dnsKey
	vlan      [2]uint16 // of the first message; not part of the key, as a routed exchange may cross VLANs
	question  string
	qtype     uint16
	opcode    uint8
	first     frameRef
	last      frameRef
	firstTime time.Time
	lastTime  time.Time
	packets   int
	bytes     int64
	answered  bool
	rcode     uint16
	answers   []string
	cnames    []string
	partial   bool
}

// dnsPort is where DNS is looked for, over UDP and TCP. mDNS and LLMNR carry names of the local network, not
// of Intune's endpoints, and are left alone.
const dnsPort = 53

// dnsCache remembers, per client and server address, the name the client asked for when a DNS answer gave it
// that address. It is bounded: when full, the oldest entry is forgotten first.
type dnsCache struct {
	entries map[hostKey]nameEvidence
	order   []hostKey // ring of insertion order for eviction
	next    int
	limit   int
}

func newDNSCache(limit int) *dnsCache {
	return &dnsCache{entries: make(map[hostKey]nameEvidence), limit: limit}
}

func (c *dnsCache) put(k hostKey, ev nameEvidence) {
	if _, ok := c.entries[k]; !ok {
		if len(c.order) < c.limit {
			c.order = append(c.order, k)
		} else {
			delete(c.entries, c.order[c.next])
			c.order[c.next] = k
			c.next = (c.next + 1) % c.limit
		}
	}
	c.entries[k] = ev
}

func (c *dnsCache) get(k hostKey) (nameEvidence, bool) {
	ev, ok := c.entries[k]
	return ev, ok
}

// parseDNS parses one message (owner: this engine reports it, and counts what went wrong); a message cut before its question, or one that makes the parser panic (counted:
// the analysis goes on), is skipped.
func (e *Engine) parseDNS(m *dnsmsg.Message, b []byte, owner bool) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if owner {
				e.facts.panics++
			}
			ok = false
		}
	}()
	if err := m.Parse(b); err != nil && len(m.Questions) == 0 {
		if owner {
			e.facts.undecodableDNS++
		}
		return false
	}
	return true
}

// learnAnswer files every address of a NOERROR answer to client under the question it asked, following the
// CNAME chain so that a connection is named by the question, not by a CDN's target.
func (e *Engine) learnAnswer(client netip.Addr, m *dnsmsg.Message, ref frameRef) {
	if len(m.Questions) == 0 {
		return
	}
	question := trimDot(m.Questions[0].Name)
	var chain []string
	for i := range m.Answers {
		rr := &m.Answers[i]
		if !rr.Addr.IsValid() {
			continue
		}
		if chain == nil {
			chain = append(chain, question)
			for j := range m.Answers {
				if t := m.Answers[j].Target; t != "" {
					chain = append(chain, trimDot(t))
				}
			}
		}
		ev := nameEvidence{name: question, source: result.NameFromDNS, frame: ref.number, file: ref.file,
			dnsChain: append(chain[:len(chain):len(chain)], rr.Addr.String())}
		e.names.put(hostKey{client: client, server: rr.Addr.Unmap()}, ev)
	}
}

// learnDNS reads a DNS packet that another engine reports: only what names connections and forgives failed
// lookups is taken from it, so every engine names its connections as a single engine would.
func (e *Engine) learnDNS(p *decode.Packet, ref frameRef, ts time.Time) {
	if len(p.Payload) == 0 {
		return
	}
	if p.IPProto == protoUDP {
		e.learnMessage(p.Payload, p, protoUDP, ref)
		return
	}
	k, _ := keyOf(p)
	d := e.shadowDNS[k]
	if d == nil {
		if len(e.shadowDNS) >= maxShadowDNS {
			clear(e.shadowDNS)
		}
		d = &tcpDNS{}
		e.shadowDNS[k] = d
	}
	dir := &d.dir[0]
	if p.SrcPort == dnsPort {
		dir = &d.dir[1]
	}
	if dir.accept(p.Seq, p.Payload, len(p.Payload) < p.PayloadWireLen) {
		for {
			msg, ok := dir.stream.Next()
			if !ok {
				break
			}
			e.learnMessage(msg, p, protoTCP, ref)
		}
	}
	if p.TCPFlags&(flagFIN|flagRST) != 0 {
		delete(e.shadowDNS, k)
	}
}

// maxShadowDNS bounds the DNS-over-TCP streams an engine follows for names only.
const maxShadowDNS = 4096

// learnMessage takes names from a successful answer sent to client.
// Like the owner, it takes only the first answer of an exchange: a duplicated answer changes nothing.
func (e *Engine) learnMessage(b []byte, p *decode.Packet, proto uint8, ref frameRef) {
	m := &e.dnsMsg
	if !e.parseDNS(m, b, false) || !m.Response {
		return
	}
	client := p.Dst
	k := dnsKey{client: client, server: p.Src, clientPort: p.DstPort, serverPort: p.SrcPort, proto: proto, id: m.ID}
	if e.learnt.has(k) {
		return
	}
	e.learnt.add(k)
	if m.Rcode != 0 || m.Opcode != 0 || len(m.Questions) == 0 {
		return
	}
	e.learnAnswer(client, m, ref)
	clientName := client.String() + " " + strings.ToLower(trimDot(m.Questions[0].Name))
	e.resolved.add(clientName)
	e.releaseName(clientName)
}

// trimDot drops one trailing dot, as names are compared without it.
func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// handleDNSMessage processes one DNS message seen from src to dst over proto. The message's QR bit tells which
// side is the client, so an answer finds its query whatever the transport.
func (e *Engine) handleDNSMessage(b []byte, src, dst endpoint, proto uint8, vlan [2]uint16, ref frameRef, ts time.Time, wire int) {
	m := &e.dnsMsg
	if !e.parseDNS(m, b, true) {
		return
	}
	k := dnsKey{client: src.addr, server: dst.addr, clientPort: src.port, serverPort: dst.port,
		proto: proto, id: m.ID}
	if m.Response {
		k.client, k.server, k.clientPort, k.serverPort = dst.addr, src.addr, dst.port, src.port
	}
	x := e.dnsPending[k]
	if x == nil && len(m.Questions) == 0 {
		e.facts.undecodableDNS++ // cut before its question, and no query to pair it with
		return
	}
	if x == nil {
		if m.Response && e.dnsDone.has(k) {
			return // a duplicate answer to an exchange already reported
		}
		x = &dnsExchange{key: k, vlan: vlan, first: ref, firstTime: ts}
		if len(m.Questions) > 0 {
			x.question, x.qtype = trimDot(m.Questions[0].Name), m.Questions[0].Type
		}
		x.opcode = m.Opcode
		e.dnsPending[k] = x
		e.dnsQueue = append(e.dnsQueue, x)
	}
	x.last, x.lastTime = ref, ts
	x.packets++
	x.bytes += int64(wire)
	if !m.Response || x.answered {
		return
	}
	x.answered, x.rcode, x.partial = true, m.Rcode, m.Partial
	for i := range m.Answers {
		rr := &m.Answers[i]
		switch {
		case rr.Addr.IsValid():
			x.answers = append(x.answers, rr.Addr.String())
		case rr.Target != "":
			x.cnames = append(x.cnames, trimDot(rr.Target))
		}
	}
	if m.Rcode == 0 && m.Opcode == 0 {
		e.learnAnswer(k.client, m, ref)
	}
	delete(e.dnsPending, k)
	e.dnsDone.add(k)
	e.finishDNS(x)
}

// expireDNS reports queries that waited longer than the DNS timeout since their last packet (all of them when
// all is set) as unanswered. Every pending query is looked at: a retransmitted query waits from its last copy,
// so the queue is not in expiry order.
func (e *Engine) expireDNS(now time.Time, all bool) {
	keep := e.dnsQueue[:0]
	for _, x := range e.dnsQueue {
		switch {
		case x.answered:
		case all || now.Sub(x.lastTime) >= e.opts.DNSTimeout:
			delete(e.dnsPending, x.key)
			e.finishDNS(x)
		default:
			keep = append(keep, x)
		}
	}
	clear(e.dnsQueue[len(keep):])
	e.dnsQueue = keep
	if cap(e.dnsQueue) > 1024 && len(e.dnsQueue) < cap(e.dnsQueue)/4 {
		e.dnsQueue = slices.Clone(e.dnsQueue)
	}
}
