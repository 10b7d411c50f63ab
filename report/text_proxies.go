package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// maxProxyClients bounds the client addresses listed per proxy in the text report.
const maxProxyClients = 8

// renderProxies writes the "Proxies" section: each proxy the capture shows, what went through it, and how it
// fares against the proxy requirements (HTTP and HTTPS both carried, no authentication asked). Nothing when
// the capture shows no proxy.
func renderProxies(b *bytes.Buffer, s *result.Summary, color bool) {
	if s == nil || len(s.Proxies) == 0 {
		return
	}
	b.WriteString("\nProxies\n")
	for i := range s.Proxies {
		p := &s.Proxies[i]
		head := "  " + safetext.Text(p.Address) + "  " + proxyVerdict(p)
		if len(p.Failing()) > 0 {
			head = paint(color, colorRed, head)
		}
		b.WriteString(head + "\n")
		socks := ""
		if p.SOCKS.Requests > 0 {
			socks = "; SOCKS: " + trafficText(p.SOCKS, "request")
		}
		fmt.Fprintf(b, "    HTTP: %s; HTTPS: %s%s\n", trafficText(p.HTTP, "request"), trafficText(p.HTTPS, "CONNECT"), socks)
		fmt.Fprintf(b, "    requirements: %s\n", requirementsText(p.Requirements))
		shown := p.Clients[:min(len(p.Clients), maxProxyClients)]
		clients := make([]string, len(shown))
		for j, c := range shown {
			clients[j] = safetext.Text(c)
		}
		noun, more := "clients", ""
		if p.ClientsTotal == 1 {
			noun = "client"
		}
		if n := p.ClientsTotal - len(shown); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		fmt.Fprintf(b, "    %s: %s%s\n", noun, strings.Join(clients, ", "), more)
	}
}

// proxyVerdict is the proxy's one-line headline.
func proxyVerdict(p *result.Proxy) string {
	var parts []string
	if p.Intercepting {
		parts = append(parts, "an intercepting proxy on the path the clients took directly")
	}
	if p.SOCKS.Requests > 0 && p.HTTP.Requests == 0 && p.HTTPS.Requests == 0 {
		parts = append(parts, "SOCKS only: Intune's clients use an HTTP proxy (CONNECT), which this capture does not show")
	}
	if p.AuthRequired {
		scheme := ""
		if len(p.AuthSchemes) > 0 {
			scheme = " (" + safetext.Text(strings.Join(p.AuthSchemes, ", ")) + ")"
		}
		parts = append(parts, "requires authentication"+scheme+", which Intune does not support")
	}
	switch r := p.Requirements; {
	case r.HTTPS == result.ProxyOK && r.HTTP == result.ProxyNotSeen:
		parts = append(parts, "HTTPS seen working, plain HTTP never seen")
	case r.HTTP == result.ProxyOK && r.HTTPS == result.ProxyNotSeen:
		parts = append(parts, "plain HTTP seen working, HTTPS never seen")
	}
	if len(parts) == 0 {
		if len(p.Failing()) == 0 {
			return "meets the proxy requirements seen"
		}
		return "fails " + strings.Join(p.Failing(), ", ")
	}
	return strings.Join(parts, "; ")
}

// trafficText is "2 CONNECTs (200: 1, 407: 1)" or "none".
func trafficText(t result.ProxyTraffic, noun string) string {
	if t.Requests == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(t.Status))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, t.Status[k])
	}
	return plural(t.Requests, noun) + " (" + strings.Join(parts, ", ") + ")"
}

// requirementsText is "http ok, https ok, unauthenticated FAILING" for the requirements the policy applies.
func requirementsText(r result.ProxyRequirements) string {
	var parts []string
	for _, q := range []struct {
		name string
		st   result.ProxyRequirementStatus
	}{{"http", r.HTTP}, {"https", r.HTTPS}, {"unauthenticated", r.Unauthenticated}} {
		switch q.st {
		case "":
		case result.ProxyFailing:
			parts = append(parts, q.name+" FAILING")
		default:
			parts = append(parts, q.name+" "+string(q.st))
		}
	}
	if len(parts) == 0 {
		return "none apply (the rule table turned them off)"
	}
	return strings.Join(parts, ", ")
}
