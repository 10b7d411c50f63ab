package result

// ProxyRequirementStatus is how a proxy fared against one of the requirements document's proxy rules.
type ProxyRequirementStatus string

// The statuses of a proxy requirement.
const (
	ProxyOK      ProxyRequirementStatus = "ok"       // the capture shows the proxy meeting the requirement
	ProxyFailing ProxyRequirementStatus = "failing"  // the capture shows it failing the requirement
	ProxyNotSeen ProxyRequirementStatus = "not-seen" // nothing in the capture says either way
)

// ProxyTraffic counts one kind of request through a proxy with the proxy's answers.
type ProxyTraffic struct {
	Requests int `json:"requests"`
	// Status counts the answers: "200" (and any other 2xx/3xx code as itself), "403", "407", "5xx", "other"
	// for the remaining 4xx codes, and "no-answer".
	Status map[string]int `json:"status,omitempty"`
}

// ProxyRequirements says, for one proxy, how each proxy requirement fared. A requirement a rule table turned
// off is left empty.
type ProxyRequirements struct {
	HTTP            ProxyRequirementStatus `json:"http,omitempty"`            // plain HTTP requests work
	HTTPS           ProxyRequirementStatus `json:"https,omitempty"`           // CONNECT tunnels work
	Unauthenticated ProxyRequirementStatus `json:"unauthenticated,omitempty"` // no authentication asked
}

// Proxy is one proxy the capture shows clients using (by CONNECT, absolute-URI or SOCKS requests, or by its
// 407 and 403 answers), or an intercepting proxy on a path the clients took directly.
type Proxy struct {
	Address      string       `json:"address"`       // "198.18.0.1:3129"
	Clients      []string     `json:"clients"`       // client addresses that used it, sorted, at most 100
	ClientsTotal int          `json:"clients_total"` // all of them
	HTTP         ProxyTraffic `json:"http"`          // absolute-URI requests (plain HTTP through the proxy)
	HTTPS        ProxyTraffic `json:"https"`         // CONNECT requests (HTTPS through the proxy)
	// SOCKS counts SOCKS requests by the proxy's reply code ("0" succeeded, "2" not allowed by ruleset, ...,
	// "90" granted, "91" rejected; "no-answer"). Left out when there were none. They meet neither the HTTP nor
	// the HTTPS requirement: Intune's clients use HTTP proxies.
	SOCKS        ProxyTraffic      `json:"socks,omitzero"`
	AuthRequired bool              `json:"auth_required"` // the proxy answered 407, or a SOCKS5 proxy chose a method, at least once
	AuthSchemes  []string          `json:"auth_schemes,omitempty"`
	Intercepting bool              `json:"intercepting,omitempty"` // seen only on connections made directly
	Requirements ProxyRequirements `json:"requirements"`
}

// Failing lists the requirements the proxy fails, by name ("http", "https", "unauthenticated").
func (p *Proxy) Failing() []string {
	var out []string
	for _, r := range []struct {
		name string
		st   ProxyRequirementStatus
	}{{"http", p.Requirements.HTTP}, {"https", p.Requirements.HTTPS}, {"unauthenticated", p.Requirements.Unauthenticated}} {
		if r.st == ProxyFailing {
			out = append(out, r.name)
		}
	}
	return out
}
