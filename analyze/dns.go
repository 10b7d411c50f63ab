package analyze

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
)

// DNS is read over UDP (dns_udp.go) and TCP (dns_tcp.go); both hand whole messages to exchangeMessage here,
// which pairs queries with answers. An answer also names connections (dns_cache.go), and every exchange
// becomes a record (dns_record.go); failed lookups may be held back first (dns_held.go).
//
// With several engines, a DNS packet goes to every engine: the engine that owns its flow reports the exchange
// (exchangeMessage), the others only learn names from it (learnMessage), so every engine names its
// connections as one engine would.

// dnsPort is where DNS is looked for, over UDP and TCP. mDNS and LLMNR carry names of the local network, not
// of Intune's endpoints, and are left alone.
const dnsPort = 53

// dnsState is what an engine keeps of DNS: exchanges waiting for their answer, those done lately, and what
// it read from the DNS that other engines own.
type dnsState struct {
	pending  map[dnsKey]*dnsExchange
	queue    []*dnsExchange      // pending exchanges in the order they began, for expiry
	done     boundedSet[dnsKey]  // exchanges finished lately, so a duplicated answer is not taken for a new one
	learnt   boundedSet[dnsKey]  // answers already read from copies (DNS another engine owns)
	copies   map[flowKey]*tcpDNS // DNS over TCP that another engine owns, read for names only
	held     heldDNS             // failed lookups waiting for a retry that succeeds
	resolved boundedSet[lookup]  // client+name pairs that resolved
	msg      dnsmsg.Message      // the parser's scratch space
}

func newDNSState(maxNames int) dnsState {
	return dnsState{
		pending:  make(map[dnsKey]*dnsExchange),
		copies:   make(map[flowKey]*tcpDNS),
		done:     boundedSet[dnsKey]{limit: 4096},
		learnt:   boundedSet[dnsKey]{limit: 4096},
		resolved: boundedSet[lookup]{limit: maxNames},
	}
}

// lookup is a client and a name it looked up (lower case): a failed lookup is forgiven when the same client
// resolved the same name.
type lookup struct {
	client netip.Addr
	name   string
}

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
	oneAnswer [1]string // answers' first room: most answers hold one address, which then costs no list
	partial   bool      // the capture cut the answer (snaplen)
	badCounts bool      // the answer ends before its header's counts say: false counts, not the capture's doing
	// moreAnswers counts addresses and CNAME targets beyond maxRecordAnswers each, left out of the record
	moreAnswers int
	icmp        *icmpReject    // the first ICMP rejection that quoted the query (icmp.go)
	tunnel      *decode.Tunnel // the encapsulation of its first message (tunnel.go)
}

// parseDNS parses one message into m. It reports whether the message can be used (a message cut before its
// question cannot), and whether the parser panicked on it (contained: the analysis goes on).
func parseDNS(m *dnsmsg.Message, b []byte) (ok, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			ok, panicked = false, true
		}
	}()
	if err := m.Parse(b); err != nil && len(m.Questions) == 0 {
		return false, false
	}
	return true, false
}

// exchangeMessage processes one DNS message this engine reports, seen from src to dst over proto. The
// message's QR bit tells which side is the client, so an answer finds its query whatever the transport.
// cut says the capture holds less of the message than was sent (snaplen): a message that ends before its
// header's counts do is then blamed on the capture, otherwise on its sender (false counts). pre, when not nil,
// is b already parsed by the reading goroutine (prepareDNS).
func (e *Engine) exchangeMessage(b []byte, src, dst endpoint, proto uint8, vlan [2]uint16, ref frameRef, ts time.Time,
	wire int, cut bool, pre *dnsmsg.Message) {
	m := &e.dns.msg
	if pre != nil {
		m = pre
	} else if ok, panicked := parseDNS(m, b); !ok {
		if panicked {
			e.facts.panics++
		} else {
			e.facts.undecodableDNS++
		}
		return
	}
	k := dnsKey{client: src.addr, server: dst.addr, clientPort: src.port, serverPort: dst.port,
		proto: proto, id: m.ID}
	if m.Response {
		k.client, k.server, k.clientPort, k.serverPort = dst.addr, src.addr, dst.port, src.port
	}
	learnt := e.learnFrom(m, k, ref)
	x := e.dns.pending[k]
	if x == nil && len(m.Questions) == 0 {
		e.facts.undecodableDNS++ // cut before its question, and no query to pair it with
		return
	}
	if x == nil {
		if m.Response && e.dns.done.has(k) {
			return // a duplicate answer to an exchange already reported
		}
		x = &dnsExchange{key: k, vlan: vlan, first: ref, firstTime: ts, tunnel: copyTunnel(e.tunnel)}
		if len(m.Questions) > 0 {
			x.question, x.qtype = trimDot(m.Questions[0].Name), m.Questions[0].Type
		}
		x.opcode = m.Opcode
		e.dns.pending[k] = x
		e.dns.queue = append(e.dns.queue, x)
	}
	x.last, x.lastTime = ref, ts
	x.packets++
	x.bytes += int64(wire)
	if !m.Response || x.answered {
		return
	}
	x.answered, x.rcode = true, m.Rcode
	x.partial = m.Partial && cut
	x.badCounts = m.Partial && !cut
	if x.badCounts {
		e.facts.dnsFalseCounts++
	}
	for i := range m.Answers {
		rr := &m.Answers[i]
		switch {
		case rr.Addr.IsValid() && len(x.answers) < maxRecordAnswers:
			if x.answers == nil {
				x.answers = x.oneAnswer[:0]
			}
			x.answers = append(x.answers, e.addrText.of(rr.Addr))
		case rr.Addr.IsValid():
			x.moreAnswers++
		case rr.Target != "" && len(x.cnames) < maxRecordAnswers:
			x.cnames = append(x.cnames, trimDot(rr.Target))
		case rr.Target != "":
			x.moreAnswers++
		}
	}
	delete(e.dns.pending, k)
	e.dns.done.add(k)
	e.finishDNS(x)
	if learnt {
		e.resolve(resolvedBy(m, k))
	}
}

// learnMessage takes names from a successful answer in a DNS message another engine reports, sent from src
// to dst over proto. Like the owner, it takes only the first answer after a query (learnFrom): a duplicated
// answer changes nothing. What went wrong with the message is the owner's to count.
func (e *Engine) learnMessage(b []byte, src, dst endpoint, proto uint8, ref frameRef) {
	m := &e.dns.msg
	if ok, _ := parseDNS(m, b); !ok {
		return
	}
	k := dnsKey{client: src.addr, server: dst.addr, clientPort: src.port, serverPort: dst.port, proto: proto, id: m.ID}
	if m.Response {
		k.client, k.server, k.clientPort, k.serverPort = dst.addr, src.addr, dst.port, src.port
	}
	if e.learnFrom(m, k, ref) {
		e.resolve(resolvedBy(m, k))
	}
}

// resolvedBy is the lookup a successful answer m of exchange k resolves: its client and question. The engine
// that reports the exchange and those that read copies of it take it from the same message (the one
// learnFrom learnt from), so that they hold and forgive the same failed lookups whatever the number of
// workers.
func resolvedBy(m *dnsmsg.Message, k dnsKey) lookup {
	return lookup{client: k.client, name: strings.ToLower(trimDot(m.Questions[0].Name))}
}

// resolve notes that l resolved, and forgives the failed lookups of l held so far.
func (e *Engine) resolve(l lookup) {
	e.dns.resolved.add(l)
	e.releaseName(l)
}

// learnFrom learns names from message m of exchange k, the same way in every engine: from the first answer
// after each query (a query reopens its key, so a query id reused on the same ports is learnt again), never
// from a duplicated answer, and only from a successful lookup. The owner of an exchange and the engines that
// read copies of it see the same messages in the same order, so they learn the same names whatever the
// number of workers. It reports whether it learnt from m.
func (e *Engine) learnFrom(m *dnsmsg.Message, k dnsKey, ref frameRef) bool {
	if !m.Response {
		e.dns.learnt.remove(k)
		return false
	}
	if !e.dns.learnt.add(k) {
		return false
	}
	if m.Rcode != 0 || m.Opcode != 0 || len(m.Questions) == 0 {
		return false
	}
	e.learnAnswer(k.client, m, ref)
	return true
}

// maxRecordAnswers bounds the addresses, and separately the CNAME targets, a DNS record lists; the rest are
// counted in its warning.
const maxRecordAnswers = 64

// trimDot drops one trailing dot, as names are compared without it.
func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// expireDNS reports queries that waited longer than the DNS timeout since their last packet (all of them when
// all is set) as unanswered. Every pending query is looked at: a retransmitted query waits from its last copy,
// so the queue is not in expiry order.
func (e *Engine) expireDNS(now time.Time, all bool) {
	d := &e.dns
	keep := d.queue[:0]
	for _, x := range d.queue {
		switch {
		case x.answered:
		case all || now.Sub(x.lastTime) >= e.opts.DNSTimeout:
			delete(d.pending, x.key)
			e.finishDNS(x)
		default:
			keep = append(keep, x)
		}
	}
	clear(d.queue[len(keep):])
	d.queue = keep
	if cap(d.queue) > 1024 && len(d.queue) < cap(d.queue)/4 {
		d.queue = slices.Clone(d.queue)
	}
}
