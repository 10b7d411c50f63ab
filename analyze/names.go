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
		r.DNSChain = c.name.dnsChainOf()
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
