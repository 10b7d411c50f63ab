package httpmsg

import (
	"bytes"
	"fmt"
)

// maxStatusLine bounds the status line; real ones are under 100 bytes.
const maxStatusLine = 1024

// Response is a status line: for a proxy's answer to CONNECT, the status is what the verdict needs.
type Response struct {
	Version string
	Status  int
	Reason  string
	HeadLen int // bytes of the whole head when its empty line was within the bytes given, else 0
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
	return Complete, nil
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
