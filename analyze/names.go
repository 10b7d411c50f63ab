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
	chain  []string   // from DNS: the question and the CNAMEs, shared by every address of the answer
	answer netip.Addr // from DNS: the address the answer gave, as it gave it
}

// dnsChain is the evidence of a name from DNS, as a record shows it: the question, the CNAMEs, the address.
// It is built only for a record, not for every address an answer gives.
func (ev *nameEvidence) dnsChain() []string {
	return append(ev.chain[:len(ev.chain):len(ev.chain)], ev.answer.String())
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
	} else if a.httpStatus == 407 { // no server sends 407 of its own: a proxy on the path intercepted the request
		r.ProxyStatus = 407
	}
	if r.ProxyStatus == 407 {
		r.ProxyAuth = a.authSchemes
	}
	r.ProxyVia = a.via
	switch {
	case usableName(a.sni):
		r.Name, r.NameSource, r.NameFrame = a.sni, result.NameFromSNI, a.helloFrame
	case usableName(a.httpHost):
		r.Name, r.NameSource, r.NameFrame = a.httpHost, result.NameFromHTTPHost, a.httpFrame
	case usableName(a.connectHost):
		r.Name, r.NameSource, r.NameFrame = a.connectHost, result.NameFromConnect, a.connectFrame
	case c.name != nil && !r.ViaProxy:
		r.Name, r.NameSource, r.NameFrame = c.name.name, c.name.source, c.name.frame
		r.DNSChain = c.name.dnsChain()
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
