package probe

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Proxy says which HTTP proxy, if any, each probe goes through.
type Proxy struct {
	HTTPS   *url.URL // for TLS and plain TCP probes (CONNECT); nil: direct
	HTTP    *url.URL // for HTTP probes (absolute-URI requests); nil: direct
	NoProxy []string // NO_PROXY entries, lower case, without leading dots
	Source  string   // "--proxy", "environment" or "" (none)
	// Warnings are settings the probe ignored, e.g. credentials in a proxy URL: it never sends any.
	Warnings []string
}

// ProxyFromFlag reads --proxy: "none" ignores the environment, a URL is used for every probe (NO_PROXY
// still applies), and "" reads the environment with env.
func ProxyFromFlag(flag string, env func(string) string) (*Proxy, error) {
	switch flag {
	case "none":
		return &Proxy{}, nil
	case "":
		return ProxyFromEnv(env)
	}
	p := &Proxy{Source: "--proxy"}
	u, err := p.parseURL(flag, "--proxy")
	if err != nil {
		return nil, err
	}
	p.HTTPS, p.HTTP = u, u
	p.NoProxy = parseNoProxy(first(env, "no_proxy", "NO_PROXY"))
	return p, nil
}

// ProxyFromEnv reads the variables as curl does: https_proxy or HTTPS_PROXY for TLS, http_proxy (lower
// case only: curl ignores HTTP_PROXY, which a CGI request header can set) for HTTP, all_proxy or ALL_PROXY
// for either when unset, and no_proxy or NO_PROXY; lower case wins where both are set.
func ProxyFromEnv(env func(string) string) (*Proxy, error) {
	p := &Proxy{}
	all := first(env, "all_proxy", "ALL_PROXY")
	for _, v := range []struct {
		dst   **url.URL
		value string
		name  string
	}{
		{&p.HTTPS, first(env, "https_proxy", "HTTPS_PROXY"), "HTTPS_PROXY"},
		{&p.HTTP, env("http_proxy"), "http_proxy"},
	} {
		value, name := v.value, v.name
		if value == "" {
			value, name = all, "ALL_PROXY"
		}
		if value == "" {
			continue
		}
		u, err := p.parseURL(value, name)
		if err != nil {
			return nil, err
		}
		*v.dst = u
		p.Source = "environment"
	}
	p.NoProxy = parseNoProxy(first(env, "no_proxy", "NO_PROXY"))
	return p, nil
}

func first(env func(string) string, names ...string) string {
	for _, n := range names {
		if v := env(n); v != "" {
			return v
		}
	}
	return ""
}

// parseURL reads a proxy URL; a bare "host:port" is http://, as curl takes it. Only plain HTTP proxies are
// spoken; credentials are dropped with a warning.
func (p *Proxy) parseURL(s, from string) (*url.URL, error) {
	raw := s
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: bad proxy URL %q: %w", from, raw, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: proxy scheme %q not supported (only http:// proxies)", from, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s: proxy URL %q has no host", from, raw)
	}
	if u.User != nil {
		p.Warnings = append(p.Warnings, from+": credentials in the proxy URL are ignored: the probe never sends any (Intune needs unauthenticated access)")
		u.User = nil
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "1080")
	}
	return &url.URL{Scheme: "http", Host: u.Host}, nil
}

// parseNoProxy splits NO_PROXY at commas and blanks.
func parseNoProxy(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		f = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(f, "."), "."))
		if strings.HasPrefix(f, "*.") {
			f = f[2:]
		}
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// For returns the proxy a probe of host with method goes through, or nil for a direct connection. NTP never
// goes through an HTTP proxy.
func (p *Proxy) For(host string, m Method) *url.URL {
	var u *url.URL
	switch m {
	case MethodHTTP:
		u = p.HTTP
	case MethodTLS, MethodConnect:
		u = p.HTTPS
	}
	if u == nil || p.bypass(host) {
		return nil
	}
	return u
}

// bypass applies NO_PROXY as curl does: "*" matches every host; a name matches itself and the names below
// it; an address matches itself, and a CIDR the addresses inside.
func (p *Proxy) bypass(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	addr, addrErr := netip.ParseAddr(host)
	for _, e := range p.NoProxy {
		switch {
		case e == "*":
			return true
		case addrErr == nil:
			if pfx, err := netip.ParsePrefix(e); err == nil && pfx.Contains(addr) {
				return true
			}
			if a, err := netip.ParseAddr(e); err == nil && a == addr {
				return true
			}
		case host == e || strings.HasSuffix(host, "."+e):
			return true
		}
	}
	return false
}

// Describe is the proxy for a report, e.g. "http://198.18.0.1:3128 (environment)"; "" when there is none.
func (p *Proxy) Describe() string {
	var parts []string
	if p.HTTPS != nil {
		parts = append(parts, "https: "+p.HTTPS.String())
	}
	if p.HTTP != nil && (p.HTTPS == nil || p.HTTP.String() != p.HTTPS.String()) {
		parts = append(parts, "http: "+p.HTTP.String())
	}
	if len(parts) == 0 {
		return ""
	}
	if p.HTTPS != nil && p.HTTP != nil && p.HTTP.String() == p.HTTPS.String() {
		parts = []string{p.HTTP.String()}
	}
	return strings.Join(parts, ", ") + " (" + p.Source + ")"
}
