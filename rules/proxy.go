package rules

// ProxyPolicy says which of the requirements document's proxy rules apply to the proxies a capture shows: a
// proxy must carry plain HTTP and HTTPS, because Intune's clients use both, and it must not ask for
// authentication, because Intune supports unauthenticated proxies only. A table file can change each with a
// table-level `proxy:` mapping (require_http, require_https, allow_authentication).
type ProxyPolicy struct {
	RequireHTTP         bool // plain HTTP through the proxy must work
	RequireHTTPS        bool // CONNECT (HTTPS) through the proxy must work
	AllowAuthentication bool // a proxy that asks for authentication is acceptable
}

// DefaultProxyPolicy is the requirements document's: HTTP and HTTPS, no authentication.
func DefaultProxyPolicy() ProxyPolicy { return ProxyPolicy{RequireHTTP: true, RequireHTTPS: true} }

// proxyFields are the keys of a table's `proxy:` mapping.
var proxyFields = []string{"require_http", "require_https", "allow_authentication"}

// proxySetting is what one file said about the proxy policy: only the keys it gave.
type proxySetting struct {
	set   bool
	given map[string]bool
}

// apply overrides p with the keys the file gave.
func (s proxySetting) apply(p ProxyPolicy) ProxyPolicy {
	for k, v := range s.given {
		switch k {
		case "require_http":
			p.RequireHTTP = v
		case "require_https":
			p.RequireHTTPS = v
		case "allow_authentication":
			p.AllowAuthentication = v
		}
	}
	return p
}
