package probe

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// maxHTTPHead bounds what is read of an HTTP answer's head (status line and headers).
const maxHTTPHead = 64 << 10

// Options are what every attempt shares.
type Options struct {
	Proxy       *Proxy
	Timeout     time.Duration // per target: resolution excluded, connect to answer included
	Concurrency int
	UserAgent   string
	Roots       Roots
	Now         func() time.Time // certificate validity is judged at Now()
}

// attempt makes one target's connection to addr (or through proxy, when not nil) and reports it.
func attempt(ctx context.Context, t *Target, addr netip.Addr, proxy *url.URL, o *Options) Socket {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if t.Method == MethodNTP {
		return ntpAttempt(ctx, netip.AddrPortFrom(addr, t.Port))
	}
	remote := netip.AddrPortFrom(addr, t.Port)
	if proxy != nil {
		pa, err := proxyAddr(ctx, proxy)
		if err != nil {
			s := classify(err, stageAfterSyn)
			s.Outcome, s.Detail = OutcomeProxyError, "proxy "+proxy.Host+": "+s.Detail
			return s
		}
		remote = pa
	}
	conn, local, err := dialPinned(ctx, "tcp", remote)
	s := Socket{Local: addrString(local), Remote: remote.String()}
	if err != nil {
		return s.with(classify(err, stageAfterSyn))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if proxy != nil && t.Method == MethodHTTP {
		return s.with(httpHead(conn, t.Host, true, o.UserAgent))
	}
	if proxy != nil {
		tunnel, res := connectTunnel(conn, t, o.UserAgent)
		if res.Outcome != OutcomeOK || t.Method == MethodConnect {
			return s.with(res)
		}
		res = tlsHandshake(tunnel, t.Host, o)
		res.ProxyStatus = http.StatusOK
		return s.with(res)
	}
	switch t.Method {
	case MethodHTTP:
		return s.with(httpHead(conn, t.Host, false, o.UserAgent))
	case MethodTLS:
		return s.with(tlsHandshake(conn, t.Host, o))
	}
	return s.with(Socket{Outcome: OutcomeOK})
}

// with fills a result's outcome fields into s, which keeps its addresses.
func (s Socket) with(r Socket) Socket {
	r.Local, r.Remote, r.Addresses = s.Local, s.Remote, s.Addresses
	return r
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// proxyAddr resolves the proxy's host with the system resolver, as curl does.
func proxyAddr(ctx context.Context, u *url.URL) (netip.AddrPort, error) {
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("proxy port %q: %w", u.Port(), err)
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	addrs, err := SystemResolver{}.Lookup(ctx, u.Hostname())
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

// ProxyAddrs resolves the proxies p uses, for the capture filter.
func ProxyAddrs(ctx context.Context, p *Proxy) []netip.Addr {
	var out []netip.Addr
	for _, u := range []*url.URL{p.HTTPS, p.HTTP} {
		if u == nil {
			continue
		}
		if ap, err := proxyAddr(ctx, u); err == nil {
			out = append(out, ap.Addr())
		}
	}
	return out
}

// httpHead sends HEAD / (an absolute URI through a proxy) and reads the answer's head. A redirect is
// recorded, never followed.
func httpHead(conn net.Conn, host string, viaProxy bool, ua string) Socket {
	target := "/"
	if viaProxy {
		target = "http://" + host + "/"
	}
	req := "HEAD " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + ua +
		"\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return classify(err, stageAfterRequest)
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(conn, maxHTTPHead)), &http.Request{Method: http.MethodHead})
	if err != nil {
		return classify(err, stageAfterRequest)
	}
	resp.Body.Close()
	s := Socket{Outcome: OutcomeOK, HTTPStatus: resp.StatusCode, Location: resp.Header.Get("Location"),
		Detail: "HTTP " + resp.Status}
	if viaProxy {
		s = proxyAnswer(s, resp.StatusCode, stageAfterRequest)
	}
	return s
}

// connectTunnel asks the proxy for a tunnel to the target and reads its answer.
func connectTunnel(conn net.Conn, t *Target, ua string) (net.Conn, Socket) {
	hostport := net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port)))
	req := "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\nUser-Agent: " + ua + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, classify(err, stageAfterConnect)
	}
	br := bufio.NewReader(io.LimitReader(conn, maxHTTPHead))
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, classify(err, stageAfterConnect)
	}
	s := Socket{Outcome: OutcomeOK, ProxyStatus: resp.StatusCode, Detail: "proxy: HTTP " + resp.Status}
	if resp.StatusCode != http.StatusOK {
		return nil, proxyAnswer(s, resp.StatusCode, stageAfterConnect)
	}
	return &prefixedConn{Conn: conn, r: io.MultiReader(br, conn)}, s
}

// proxyAnswer reads a proxy's status the way the analysis engine does: 407 wants credentials, 403 and 5xx
// refuse.
func proxyAnswer(s Socket, status int, stage string) Socket {
	s.ProxyStatus = status
	switch {
	case status == http.StatusProxyAuthRequired:
		s.Outcome, s.Stage = OutcomeProxyAuth, stage
	case status == http.StatusForbidden || status >= 500:
		s.Outcome, s.Stage = OutcomeProxyDenied, stage
	case stage == stageAfterConnect && status != http.StatusOK:
		s.Outcome, s.Stage = OutcomeProxyError, stage
	}
	return s
}

// tlsHandshake shakes hands with SNI host and keeps the chain whatever it is: it is judged afterwards, so
// an inspection proxy's chain is reported rather than failing the handshake.
func tlsHandshake(conn net.Conn, host string, o *Options) Socket {
	var chain []*x509.Certificate
	conf := &tls.Config{ServerName: host, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			chain = cs.PeerCertificates
			return nil
		}}
	tc := tls.Client(conn, conf)
	if err := tc.Handshake(); err != nil {
		return classify(err, stageAfterHello)
	}
	cs := tc.ConnectionState()
	s := Socket{Outcome: OutcomeOK, TLSVersion: tlsVersion(cs.Version)}
	if len(chain) > 0 {
		leaf := chain[0]
		sum := sha256.Sum256(leaf.Raw)
		s.CertSubject, s.CertSHA256 = leaf.Subject.String(), hex.EncodeToString(sum[:])
		s.CertIssuer = leaf.Issuer.CommonName
		if s.CertIssuer == "" {
			s.CertIssuer = leaf.Issuer.String()
		}
	}
	s.CertChain = o.Roots.judgeChain(chain, host, o.Now())
	tc.Close()
	return s
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// ntpAttempt sends one client request and waits for the matching answer.
func ntpAttempt(ctx context.Context, remote netip.AddrPort) Socket {
	conn, local, err := dialPinned(ctx, "udp", remote)
	s := Socket{Local: addrString(local), Remote: remote.String()}
	if err != nil {
		return s.with(classify(err, stageAfterQuery))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	pkt, cookie := ntpRequest()
	if _, err := conn.Write(pkt[:]); err != nil {
		return s.with(classify(err, stageAfterQuery))
	}
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			r := classify(err, stageAfterQuery)
			if r.Outcome == OutcomeTimeout {
				r.Outcome, r.Detail = OutcomeNoAnswer, "no NTP answer came back"
			}
			return s.with(r)
		}
		a, err := parseNTP(buf[:n], cookie)
		if err != nil {
			continue // not the answer to our request
		}
		r := Socket{Outcome: OutcomeOK, NTPStratum: int(a.Stratum), Detail: fmt.Sprintf("NTP answer, stratum %d", a.Stratum)}
		if a.Stratum == 0 {
			r.Detail = "NTP kiss-o'-death " + a.KissCode + ": the server answers but refuses to serve time"
		}
		return s.with(r)
	}
}
