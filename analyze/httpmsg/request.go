package httpmsg

import (
	"bytes"
	"fmt"
	"strconv"
)

// Request is the part of a request head that names where the client wants to go. Fields are filled on
// Complete, and on Malformed for a head over MaxHead (from the lines before the cut), so a name is not lost.
type Request struct {
	Method  string // one of the methods LooksLikeRequest knows
	Target  string // request-target as sent: origin-form, absolute-form or CONNECT's authority-form
	Version string // "HTTP/1.1", "HTTP/1.0"
	// Host is where the request is going without its port: the first Host header (case-insensitive name;
	// obs-folded continuation lines ignored) or, for an absolute-form target, the URI's host, which RFC 9112
	// 3.2.2 says wins over the header. IPv6 literals lose their brackets. When the value cannot be split as
	// host[:port], Host is the whole trimmed value.
	Host     string
	HostPort uint16 // port given with Host (or the URI's scheme default for an absolute-form target), else 0
	// HostValid reports that Host is non-empty, free of spaces, control and non-ASCII bytes, and had a valid
	// port if any. Host is returned as sent either way: the engine escapes it before printing and should not
	// match an invalid one against the rules.
	HostValid bool
	// ConnectHost and ConnectPort are CONNECT's target (host:port, IPv6 as [addr]:port, brackets removed). For
	// CONNECT this, not Host, names the destination: an HTTP/1.0 CONNECT often has no Host header at all. Both
	// are empty when the target is not host:port with a port (e.g. "CONNECT / HTTP/1.1").
	ConnectHost string
	ConnectPort uint16
	AbsoluteURI bool // the target was absolute-form, as sent to a forward proxy
	HeadLen     int  // bytes of the head, through the empty line
}

// LooksLikeRequest reports quickly whether stream can start an HTTP/1.x request: a known method and a space,
// or a prefix of one. Empty input reports false: there is nothing to judge yet. The methods are those of RFC
// 9110 and PATCH; WebDAV and SSDP methods are not names intunecap needs.
func LooksLikeRequest(stream []byte) bool {
	return len(stream) > 0 && (methodOf(stream) != "" || prefixOfMethod(stream))
}

func methods() [9]string {
	return [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
}

// methodOf returns the known method that stream starts with, followed by a space.
func methodOf(stream []byte) string {
	for _, m := range methods() {
		if len(stream) > len(m) && stream[len(m)] == ' ' && string(stream[:len(m)]) == m {
			return m
		}
	}
	return ""
}

// prefixOfMethod reports that stream is shorter than "METHOD " and could still become one.
func prefixOfMethod(stream []byte) bool {
	for _, m := range methods() {
		if len(stream) <= len(m) && string(stream) == m[:len(stream)] {
			return true
		}
	}
	return false
}

// ParseRequest reads the request head at the start of stream. It returns NeedMore until the empty line that
// ends the head (CRLF CRLF or LF LF) is present, NotHTTP when the first bytes are not a known method and a
// space, Malformed for a bad request line or a head over MaxHead, and Complete with r filled.
func ParseRequest(stream []byte, r *Request) (Status, error) {
	*r = Request{}
	method := methodOf(stream)
	if method == "" {
		if len(stream) == 0 || LooksLikeRequest(stream) {
			return NeedMore, nil
		}
		return NotHTTP, nil
	}
	reqLine, next, ok := line(stream)
	if !ok || next > MaxHead {
		return needOrTooLong(stream)
	}
	target, v, err := requestLine(method, reqLine)
	if err != nil {
		return Malformed, err
	}
	end := endOfHead(stream[next-1:])
	if end < 0 && len(stream) < MaxHead {
		return NeedMore, nil
	}
	r.fill(method, target, v)
	if end < 0 {
		r.headers(stream[next:MaxHead])
		return Malformed, fmt.Errorf("http request head longer than %d bytes", MaxHead)
	}
	if r.HeadLen = next - 1 + end; r.HeadLen > MaxHead {
		r.headers(stream[next:MaxHead])
		return Malformed, fmt.Errorf("http request head of %d bytes, more than %d", r.HeadLen, MaxHead)
	}
	r.headers(stream[next:r.HeadLen])
	return Complete, nil
}

func needOrTooLong(stream []byte) (Status, error) {
	if len(stream) >= MaxHead {
		return Malformed, fmt.Errorf("http request line longer than %d bytes", MaxHead)
	}
	return NeedMore, nil
}

// requestLine checks "METHOD SP target SP HTTP/1.x" (RFC 9112 3) and returns the target and the version.
func requestLine(method string, l []byte) ([]byte, string, error) {
	rest := l[len(method)+1:]
	sp := bytes.LastIndexByte(rest, ' ')
	if sp <= 0 {
		return nil, "", fmt.Errorf("http request line %.60q: no version", l)
	}
	v, ok := version(rest[sp+1:])
	target := rest[:sp]
	if !ok || len(target) == 0 || bytes.ContainsAny(target, " \t") {
		return nil, "", fmt.Errorf("http request line %.60q: not method, target and HTTP/1.x", l)
	}
	return target, v, nil
}

// fill sets the request line's fields, and the destination a CONNECT or absolute-form target gives.
func (r *Request) fill(method string, target []byte, v string) {
	r.Method, r.Version, r.Target = method, v, string(target)
	switch {
	case method == "CONNECT":
		// The target of CONNECT is authority-form, host:port (RFC 9110 9.3.6): anything else ("/", a bare
		// host) names no tunnel, and the request is left to its Host header.
		if host, port, ok := splitHostPort(r.Target); ok && port != 0 {
			r.ConnectHost, r.ConnectPort = host, port
		}
	case hasScheme(target):
		r.AbsoluteURI = true
		r.uriHost(target)
	}
}

// headers looks for the first Host header in the header lines of a head. An absolute-form target has already
// set Host and keeps it.
func (r *Request) headers(b []byte) {
	for len(b) > 0 {
		l, next, ok := line(b)
		if !ok {
			return
		}
		b = b[next:]
		if len(l) == 0 || l[0] == ' ' || l[0] == '\t' {
			continue // obs-fold continuation: never part of a Host
		}
		colon := bytes.IndexByte(l, ':')
		if colon != 4 || !bytes.EqualFold(l[:4], []byte("host")) {
			continue
		}
		if !r.AbsoluteURI {
			r.setHost(string(bytes.Trim(l[colon+1:], " \t")))
		}
		return
	}
}

func (r *Request) setHost(v string) {
	host, port, ok := splitHostPort(v)
	if !ok {
		host, port = v, 0
	}
	r.Host, r.HostPort, r.HostValid = host, port, ok && printable(host)
}

// hasScheme reports an absolute-form target: scheme "://" (RFC 3986 3.1).
func hasScheme(t []byte) bool {
	i := bytes.Index(t, []byte("://"))
	if i <= 0 {
		return false
	}
	for j, c := range t[:i] {
		alpha := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !alpha && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// uriHost takes the host of an absolute-form target: the authority without userinfo, the port defaulting to
// the scheme's.
func (r *Request) uriHost(t []byte) {
	i := bytes.Index(t, []byte("://"))
	scheme, auth := t[:i], t[i+3:]
	if j := bytes.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:]
	}
	r.setHost(string(auth))
	if r.HostPort == 0 {
		switch {
		case bytes.EqualFold(scheme, []byte("http")):
			r.HostPort = 80
		case bytes.EqualFold(scheme, []byte("https")):
			r.HostPort = 443
		}
	}
}

// splitHostPort splits host[:port] and [v6]:port; an empty port (RFC 3986 allows "host:") counts as none.
func splitHostPort(s string) (string, uint16, bool) {
	host, port := s, ""
	if len(s) > 0 && s[0] == '[' {
		end := indexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && port[0] != ':' {
			return "", 0, false
		}
	} else if i := lastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i:]
		if indexByte(host, ':') >= 0 {
			return "", 0, false // a bare IPv6 address or junk
		}
	}
	if host == "" {
		return "", 0, false
	}
	if port == "" || port == ":" {
		return host, 0, true
	}
	n, err := strconv.ParseUint(port[1:], 10, 16)
	if err != nil || port[1] == '+' {
		return "", 0, false
	}
	return host, uint16(n), true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func lastIndexByte(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}
