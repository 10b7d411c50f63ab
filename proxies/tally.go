// Package proxies judges each proxy a capture shows against the requirements document's proxy rules: a proxy
// must carry both plain HTTP and HTTPS (clients use both), and Intune supports unauthenticated proxies only.
// It reads finished records (result.Record) and knows nothing about packets.
//
// SOCKS requests are counted apart (Proxy.SOCKS) and do not meet the HTTP or HTTPS requirement: Intune's
// clients reach the service through the system's HTTP proxy (WinHTTP on Windows, the platform's proxy on
// phones), which speaks CONNECT and absolute URIs, never SOCKS. A SOCKS tunnel that works says nothing about
// whether they can get through. A SOCKS5 proxy that chose an authentication method does count against the
// unauthenticated requirement.
package proxies

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Caps on what a tally keeps, so a capture with a million proxies or clients cannot grow it without bound.
const (
	MaxProxies         = 1000    // proxies tracked; records through further ones are counted in Tally.Untracked
	MaxClientsPerProxy = 100     // client addresses listed per proxy; the total is still counted
	maxClientSet       = 1 << 16 // distinct clients remembered per proxy; past it the total is a lower bound
)

// Tally collects what the records say about proxies. The zero value is not usable: call New.
type Tally struct {
	byAddr    map[string]*entry
	Untracked int // records through proxies past MaxProxies
}

type entry struct {
	addr         string
	clients      map[string]struct{}
	clientsTotal int // exact when clients did not overflow maxClientSet, else a lower bound
	http, https  result.ProxyTraffic
	socks        result.ProxyTraffic
	auth         bool
	schemes      []string
	direct       bool // seen only as an intercepting proxy on direct connections
	viaProxy     bool
}

// New returns an empty tally.
func New() *Tally { return &Tally{byAddr: make(map[string]*entry)} }

// Add counts one record: a request through a proxy (CONNECT or absolute URI), or a direct connection whose
// answer came from an intercepting proxy (a 407: no server asks for proxy credentials). A Via header alone
// does not make a proxy: content delivery networks add one to their own answers, so it stays evidence on the
// record (proxy_via) and does not name a proxy here.
func (t *Tally) Add(r *result.Record) {
	intercepted := !r.ViaProxy && r.ProxyStatus == 407
	if !r.ViaProxy && !intercepted {
		return
	}
	addr := hostPort(r.Server, r.ServerPort)
	e := t.byAddr[addr]
	if e == nil {
		if len(t.byAddr) >= MaxProxies {
			t.Untracked++
			return
		}
		e = &entry{addr: addr, clients: make(map[string]struct{}), direct: true}
		t.byAddr[addr] = e
	}
	if r.ViaProxy {
		e.viaProxy, e.direct = true, false
	}
	e.addClient(r.Client)
	if r.Transport == result.TransportSOCKS {
		e.addSOCKS(r.SOCKS)
		return
	}
	traffic := &e.http
	if r.Transport == result.TransportConnect || (r.ViaProxy && r.Transport != result.TransportHTTP) {
		traffic = &e.https
	}
	count(traffic, statusKey(r.ProxyStatus))
	if r.ProxyStatus == 407 {
		e.auth = true
		e.addSchemes(r.ProxyAuth)
	}
}

// Merge adds what another tally counted (the engines of a parallel run each keep one). o must not be used
// afterwards: its entries may move into t.
func (t *Tally) Merge(o *Tally) {
	t.Untracked += o.Untracked
	for addr, oe := range o.byAddr {
		e := t.byAddr[addr]
		if e == nil {
			if len(t.byAddr) >= MaxProxies {
				t.Untracked += oe.http.Requests + oe.https.Requests + oe.socks.Requests
				continue
			}
			t.byAddr[addr] = oe
			continue
		}
		for c := range oe.clients {
			e.addClient(c)
		}
		mergeTraffic(&e.http, oe.http)
		mergeTraffic(&e.https, oe.https)
		mergeTraffic(&e.socks, oe.socks)
		e.auth = e.auth || oe.auth
		e.addSchemes(strings.Join(oe.schemes, ", "))
		e.viaProxy = e.viaProxy || oe.viaProxy
		e.direct = e.direct && oe.direct
	}
}

// Proxies returns one entry per proxy, sorted by address, with its requirements judged under p.
func (t *Tally) Proxies(p rules.ProxyPolicy) []result.Proxy {
	out := make([]result.Proxy, 0, len(t.byAddr))
	for _, e := range t.byAddr {
		out = append(out, e.proxy(p))
	}
	slices.SortFunc(out, func(a, b result.Proxy) int { return cmp.Compare(a.Address, b.Address) })
	return out
}

func (e *entry) proxy(p rules.ProxyPolicy) result.Proxy {
	px := result.Proxy{Address: e.addr, ClientsTotal: e.clientsTotal, HTTP: e.http, HTTPS: e.https, SOCKS: e.socks,
		AuthRequired: e.auth, AuthSchemes: slices.Clone(e.schemes), Intercepting: e.direct}
	for c := range e.clients {
		px.Clients = append(px.Clients, c)
	}
	slices.SortFunc(px.Clients, compareAddr)
	if len(px.Clients) > MaxClientsPerProxy {
		px.Clients = px.Clients[:MaxClientsPerProxy]
	}
	if p.RequireHTTP {
		px.Requirements.HTTP = works(e.http)
	}
	if p.RequireHTTPS {
		px.Requirements.HTTPS = works(e.https)
	}
	if !p.AllowAuthentication {
		px.Requirements.Unauthenticated = result.ProxyOK
		if e.auth {
			px.Requirements.Unauthenticated = result.ProxyFailing
		}
	}
	return px
}

// works judges one kind of traffic: ok when any request got a success answer, failing when requests were
// seen and none succeeded, not-seen when there were none.
func works(t result.ProxyTraffic) result.ProxyRequirementStatus {
	if t.Requests == 0 {
		return result.ProxyNotSeen
	}
	for code, n := range t.Status {
		if n > 0 && len(code) == 3 && (code[0] == '2' || code[0] == '3') {
			return result.ProxyOK
		}
	}
	return result.ProxyFailing
}

// count adds one request and its answer's key.
func count(t *result.ProxyTraffic, key string) {
	t.Requests++
	if t.Status == nil {
		t.Status = make(map[string]int)
	}
	t.Status[key]++
}

// addSOCKS counts a SOCKS request by the proxy's reply code ("0", "2", "90", ..., or "no-answer"), and a
// SOCKS5 authentication method other than none as the proxy asking for authentication.
func (e *entry) addSOCKS(s *result.SOCKS) {
	key := "no-answer"
	if s != nil && s.Reply != nil {
		key = strconv.Itoa(*s.Reply)
	}
	count(&e.socks, key)
	if s != nil && (s.Auth == "username" || s.Auth == "gssapi") {
		e.auth = true
		e.addSchemes("SOCKS5 " + s.Auth)
	}
}

// statusKey is how an answer is counted: 2xx and 3xx codes as themselves, 403 and 407 as themselves, other
// 4xx as "other", 5xx together, and no answer.
func statusKey(status int) string {
	switch {
	case status == 0:
		return "no-answer"
	case status >= 200 && status < 400, status == 403, status == 407:
		return strconv.Itoa(status)
	case status >= 500:
		return "5xx"
	}
	return "other"
}

func mergeTraffic(t *result.ProxyTraffic, o result.ProxyTraffic) {
	t.Requests += o.Requests
	for k, n := range o.Status {
		if t.Status == nil {
			t.Status = make(map[string]int)
		}
		t.Status[k] += n
	}
}

func (e *entry) addClient(c string) {
	if _, ok := e.clients[c]; ok {
		return
	}
	e.clientsTotal++
	if len(e.clients) < maxClientSet {
		e.clients[c] = struct{}{}
	}
}

// addSchemes adds the schemes of a "Basic, NTLM" list, each once, in order of first appearance.
func (e *entry) addSchemes(list string) {
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(e.schemes, s) && len(e.schemes) < 8 {
			e.schemes = append(e.schemes, s)
		}
	}
}

func hostPort(host string, port uint16) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(port))
}

// compareAddr orders addresses numerically when they parse, else as text.
func compareAddr(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX == nil && errY == nil {
		return x.Compare(y)
	}
	return cmp.Compare(a, b)
}
