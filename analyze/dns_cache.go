package analyze

import (
	"net/netip"
	"time"

	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/result"
)

// hostKey pairs a client with a server address: the key of the DNS answer cache, which names a connection
// by what this same client resolved to reach that address.
type hostKey struct {
	client, server netip.Addr
}

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

// learnAnswer files every address of a NOERROR answer to client under the question it asked, following the
// CNAME chain so that a connection is named by the question, not by a CDN's target. The addresses of one
// answer share its chain; a record that uses one spells it out (nameEvidence.dnsChain).
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
			chain: chain, answer: rr.Addr, expiresNs: e.nowNs + int64(rr.TTL)*int64(time.Second)}
		k := hostKey{client: client, server: rr.Addr.Unmap()}
		if old, ok := e.names.get(k); ok {
			ev = ev.withCandidates(old, e.nowNs)
		}
		e.names.put(k, ev)
	}
}
