package analyze

import (
	"fmt"
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

// dnsChain is the question and CNAME targets of one answer, shared by every address the answer gave: an
// answer with many CNAMEs and many addresses is kept once, not once per address. refs counts the cache
// entries that point to it, so its bytes are charged to the cache once and given back with its last entry.
type dnsChain struct {
	names []string // the question, then at most maxChainCNAMEs targets
	more  int      // CNAME targets beyond maxChainCNAMEs, left out
	bytes int
	refs  int
	alone [1]string // names of a chain without CNAMEs: the chain is then one allocation, not two
}

// maxChainCNAMEs bounds the CNAME targets a chain keeps (resolvers give up after 8 to 16 links; an answer of
// thousands is hostile). The rest are counted, and the record's dns_chain says how many were left out.
const maxChainCNAMEs = 16

// dnsEntryBytes is what one cache entry costs besides its chain: the map slot (two 24-byte addresses and a
// pointer), the evidence it points to (shared with the connections it names) and its place in the eviction
// queue.
const dnsEntryBytes = 160

// dnsChainBytes is what a chain costs besides its names' bytes: the slice, the struct and a string header
// per name.
func dnsChainBytes(names []string) int {
	n := 64 + 16*len(names)
	for _, s := range names {
		n += len(s)
	}
	return n
}

// DefaultMaxDNSBytes bounds the bytes one engine's DNS answer cache holds (entries and the chains they share).
// Every engine reads every DNS answer, so every engine holds the same cache whatever the number of workers:
// the bound is per engine, not split between them, and names come out the same for any --workers.
const DefaultMaxDNSBytes = 32 << 20

// dnsCache remembers, per client and server address, the name the client asked for when a DNS answer gave it
// that address. It is bounded by entries and by bytes: when either is full, the oldest entries are forgotten
// first (their insertion order; a refreshed entry keeps its place).
type dnsCache struct {
	entries  map[hostKey]*nameEvidence // never changed in place: connections share what get returned
	order    []hostKey                 // insertion order; order[head:] are live or stale keys
	head     int
	limit    int // entries
	maxBytes int
	bytes    int
	evicted  uint64 // entries forgotten to make room
}

func newDNSCache(limit, maxBytes int) *dnsCache {
	return &dnsCache{entries: make(map[hostKey]*nameEvidence), limit: limit, maxBytes: maxBytes}
}

// put files ev under k, with the other names the entry it replaces gave the same address while unexpired at
// nowNs (nameEvidence.withCandidates). ev.chain must already be counted by the caller's newChain.
func (c *dnsCache) put(k hostKey, ev nameEvidence, nowNs int64) {
	if old, ok := c.entries[k]; ok {
		ev = ev.withCandidates(*old, nowNs)
		c.release(old.chain)
	} else {
		c.order = append(c.order, k)
		c.bytes += dnsEntryBytes
	}
	c.hold(ev.chain)
	c.entries[k] = &ev
	for len(c.entries) > c.limit || c.bytes > c.maxBytes && len(c.entries) > 1 {
		c.evictOldest()
	}
	if c.head > 1024 && c.head > len(c.order)/2 {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
}

func (c *dnsCache) hold(ch *dnsChain) {
	if ch == nil {
		return
	}
	if ch.refs == 0 {
		c.bytes += ch.bytes
	}
	ch.refs++
}

func (c *dnsCache) release(ch *dnsChain) {
	if ch == nil {
		return
	}
	ch.refs--
	if ch.refs == 0 {
		c.bytes -= ch.bytes
	}
}

func (c *dnsCache) evictOldest() {
	k := c.order[c.head]
	c.order[c.head] = hostKey{}
	c.head++
	if ev, ok := c.entries[k]; ok {
		c.release(ev.chain)
		delete(c.entries, k)
		c.bytes -= dnsEntryBytes
		c.evicted++
	}
}

// get returns the evidence filed under k. It is shared: the caller must not change it.
func (c *dnsCache) get(k hostKey) (*nameEvidence, bool) {
	ev, ok := c.entries[k]
	return ev, ok
}

// learnAnswer files every address of a NOERROR answer to client under the question it asked, following the
// CNAME chain so that a connection is named by the question, not by a CDN's target. The chain is built once
// per answer and shared by its addresses.
func (e *Engine) learnAnswer(client netip.Addr, m *dnsmsg.Message, ref frameRef) {
	if len(m.Questions) == 0 {
		return
	}
	question := trimDot(m.Questions[0].Name)
	var chain *dnsChain
	for i := range m.Answers {
		rr := &m.Answers[i]
		if !rr.Addr.IsValid() {
			continue
		}
		if chain == nil {
			chain = newChain(question, m.Answers)
		}
		ev := nameEvidence{name: question, source: result.NameFromDNS, frame: ref.number, file: ref.file,
			chain: chain, addr: rr.Addr, expiresNs: e.nowNs + int64(rr.TTL)*int64(time.Second)}
		e.names.put(hostKey{client: client, server: rr.Addr.Unmap()}, ev, e.nowNs)
	}
}

// newChain builds the chain of an answer to question: the question and its CNAME targets, capped.
func newChain(question string, answers []dnsmsg.RR) *dnsChain {
	ch := &dnsChain{alone: [1]string{question}}
	ch.names = ch.alone[:]
	for j := range answers {
		if t := answers[j].Target; t != "" {
			if len(ch.names) > maxChainCNAMEs {
				ch.more++
				continue
			}
			ch.names = append(ch.names, trimDot(t))
		}
	}
	ch.bytes = dnsChainBytes(ch.names)
	return ch
}

// dnsChainOf is the chain a record shows for a name from DNS: the question, the CNAME targets, the address.
func (ev *nameEvidence) dnsChainOf() []string {
	if ev.chain == nil {
		return nil
	}
	out := make([]string, 0, len(ev.chain.names)+2)
	out = append(out, ev.chain.names...)
	if ev.chain.more > 0 {
		out = append(out, fmt.Sprintf("… %d more", ev.chain.more))
	}
	return append(out, ev.addr.String())
}
