package analyze

import (
	"net/netip"
	"strings"

	"github.com/intunecap/intunecap/result"
)

// nameEvidence is a connection's one name with where it came from.
type nameEvidence struct {
	name   string
	source result.NameSource
	frame  uint64
	file   int
	chain  *dnsChain  // for a name from DNS: the answer's question and CNAMEs, shared with its other addresses
	addr   netip.Addr // for a name from DNS: the address the answer gave

	// For a name from DNS: when the answer's TTL ran out (Unix nanoseconds, capture time), and the names this
	// client had resolved to the same address while their answers were fresh, this one last (at most
	// maxNameCandidates; nil when it was the only one).
	expiresNs  int64
	candidates []string
}

// maxNameCandidates bounds the names kept for an address several names resolved to.
const maxNameCandidates = 8

// withCandidates returns ev, learnt at nowNs, with the names of old, the entry it replaces, as candidates when
// old's answer was still fresh and named something else.
func (ev nameEvidence) withCandidates(old nameEvidence, nowNs int64) nameEvidence {
	if old.expiresNs < nowNs || strings.EqualFold(old.name, ev.name) && len(old.candidates) == 0 {
		return ev
	}
	cands := old.candidates
	if len(cands) == 0 {
		cands = []string{old.name}
	}
	out := make([]string, 0, min(len(cands)+1, maxNameCandidates))
	for _, n := range cands {
		if !strings.EqualFold(n, ev.name) && len(out) < maxNameCandidates-1 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return ev
	}
	ev.candidates = append(out, ev.name)
	return ev
}

// confidence says how sure a DNS name is for a connection that began at startNs.
func (ev *nameEvidence) confidence(startNs int64) result.NameConfidence {
	switch {
	case len(ev.candidates) > 1:
		return result.ConfidenceAmbiguous
	case ev.expiresNs != 0 && startNs > ev.expiresNs:
		return result.ConfidenceStale
	}
	return result.ConfidenceSingle
}

// nameConn picks the connection's one name, in order of strength: the SNI the client sent, the Host it asked
// for, the CONNECT or SOCKS target it gave a proxy, and last the DNS question that gave it the server's address.
func (e *Engine) nameConn(c *conn, r *result.Record) {
	a := c.appView()
	if a.transport == result.TransportConnect || a.absoluteURI {
		r.ViaProxy = true
		r.ProxyStatus = a.httpStatus
		if a.connectPort != 0 {
			r.Port = a.connectPort
		}
	} else if a.httpStatus == 407 { // no server sends 407 of its own: a proxy on the path intercepted the request
		r.ProxyStatus = 407
	}
	if r.ProxyStatus == 407 {
		r.ProxyAuth = a.authSchemes
	}
	r.ProxyVia = a.via
	if a.transport == result.TransportSOCKS {
		socksFields(a, r)
	}
	switch {
	case usableName(a.sni):
		r.Name, r.NameSource, r.NameFrame = a.sni, result.NameFromSNI, a.helloFrame
	case usableName(a.httpHost):
		r.Name, r.NameSource, r.NameFrame = a.httpHost, result.NameFromHTTPHost, a.httpFrame
	case usableName(a.connectHost):
		r.Name, r.NameSource, r.NameFrame = a.connectHost, result.NameFromConnect, a.connectFrame
	case a.transport == result.TransportSOCKS:
		nameSOCKS(a, r, c.firstNs)
	case c.name != nil && !r.ViaProxy:
		r.Name, r.NameSource, r.NameFrame = c.name.name, c.name.source, c.name.frame
		r.DNSChain = c.name.dnsChainOf()
		r.NameConfidence = c.name.confidence(c.firstNs)
		if r.NameConfidence == result.ConfidenceAmbiguous {
			r.NameCandidates = c.name.candidates
		}
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
	t := strings.Trim(s, "[]")
	if !strings.Contains(t, ":") && strings.ContainsFunc(t, notDigitOrDot) {
		return true // not IPv6 (no colon), not IPv4 (only digits and dots): ParseAddr would fail, and allocate
	}
	_, err := netip.ParseAddr(t)
	return err != nil
}

// notDigitOrDot reports whether r is a character no IPv4 address has.
func notDigitOrDot(r rune) bool { return (r < '0' || r > '9') && r != '.' }
