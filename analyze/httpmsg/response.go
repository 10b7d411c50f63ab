package httpmsg

import (
	"bytes"
	"fmt"
	"strings"
)

// maxStatusLine bounds the status line; real ones are under 100 bytes.
const maxStatusLine = 1024

// Response is a status line: for a proxy's answer to CONNECT, the status is what the verdict needs.
type Response struct {
	Version string
	Status  int
	Reason  string
	HeadLen int // bytes of the whole head when its empty line was within the bytes given, else 0
	// AuthSchemes lists the schemes of the Proxy-Authenticate challenges among the header lines given
	// ("Basic", "NTLM, Negotiate"), in order, each once; "" when there is none.
	AuthSchemes string
	// Via reports a Via header among the header lines given: a proxy handled the answer.
	Via bool
}

// ParseResponse reads the status line at the start of stream; the rest of the head is not needed. It returns
// NeedMore until the line has ended, NotHTTP when stream does not start with "HTTP/", Malformed for a bad line,
// and Complete with r filled.
func ParseResponse(stream []byte, r *Response) (Status, error) {
	*r = Response{}
	const prefix = "HTTP/"
	if n := min(len(stream), len(prefix)); string(stream[:n]) != prefix[:n] {
		return NotHTTP, nil
	}
	l, _, ok := line(stream)
	if !ok {
		if len(stream) > maxStatusLine {
			return Malformed, fmt.Errorf("http status line longer than %d bytes", maxStatusLine)
		}
		return NeedMore, nil
	}
	if err := r.statusLine(l); err != nil {
		return Malformed, err
	}
	r.HeadLen = max(endOfHead(stream), 0)
	r.headers(stream)
	return Complete, nil
}

// maxHeaderScan bounds how far into the head the header lines are read.
const maxHeaderScan = 8 << 10

// headers reads the header lines after the status line that the bytes given hold whole, up to the end of
// the head, for Proxy-Authenticate and Via.
func (r *Response) headers(stream []byte) {
	_, next, _ := line(stream)
	b := stream[next:min(len(stream), maxHeaderScan)]
	for {
		l, n, ok := line(b)
		if !ok || len(l) == 0 {
			return
		}
		b = b[n:]
		name, value, ok := bytes.Cut(l, []byte{':'})
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("Proxy-Authenticate")):
			r.AuthSchemes = addSchemes(r.AuthSchemes, value)
		case bytes.EqualFold(name, []byte("Via")):
			r.Via = true
		}
	}
}

// addSchemes adds the scheme of every challenge in a Proxy-Authenticate value (RFC 9110 11.6.2: challenges
// are comma-separated; a challenge's own parameters are name=value pairs, which are not schemes).
func addSchemes(have string, value []byte) string {
	for _, part := range splitOutsideQuotes(value) {
		tok, _, _ := bytes.Cut(bytes.TrimSpace(part), []byte{' '})
		if len(tok) == 0 || bytes.ContainsAny(tok, "=\"") || len(tok) > 32 {
			continue
		}
		name := schemeName(tok)
		if !containsScheme(have, name) {
			if have != "" {
				have += ", "
			}
			have += name
		}
	}
	return have
}

// schemeName interns the common schemes in their usual spelling.
func schemeName(tok []byte) string {
	for _, s := range []string{"Basic", "Digest", "NTLM", "Negotiate", "Kerberos", "Bearer"} {
		if bytes.EqualFold(tok, []byte(s)) {
			return s
		}
	}
	return string(tok)
}

func containsScheme(list, name string) bool {
	for list != "" {
		var s string
		s, list, _ = strings.Cut(list, ", ")
		if s == name {
			return true
		}
	}
	return false
}

// splitOutsideQuotes splits at commas that are not inside a quoted string.
func splitOutsideQuotes(b []byte) [][]byte {
	var out [][]byte
	quoted, start := false, 0
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, b[start:i])
			start = i + 1
		}
	}
	return append(out, b[start:])
}

// statusLine parses "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 4); a missing space before an empty reason is
// accepted, as browsers do.
func (r *Response) statusLine(l []byte) error {
	v, ok := version(l[:min(8, len(l))])
	rest := l[min(8, len(l)):]
	if !ok || len(rest) < 4 || rest[0] != ' ' || (len(rest) > 4 && rest[4] != ' ') {
		return fmt.Errorf("http status line %.60q: not HTTP/1.x and a 3-digit code", l)
	}
	code := 0
	for _, c := range rest[1:4] {
		if c < '0' || c > '9' {
			return fmt.Errorf("http status line %.60q: code is not 3 digits", l)
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return fmt.Errorf("http status line %.60q: code %d", l, code)
	}
	r.Version, r.Status = v, code
	if len(rest) > 5 {
		r.Reason = string(bytes.TrimSpace(rest[5:]))
	}
	return nil
}
