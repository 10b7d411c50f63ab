// Package httpmsg reads the head of an HTTP/1.x request or response at the start of a TCP byte stream, for the
// names intunecap needs: the Host header, a CONNECT target and a proxy's status line. It never panics, never
// reads past what it is given, and tells "need more bytes" apart from "not HTTP".
package httpmsg

import (
	"bytes"
	"fmt"
)

// Status of a stream's first bytes.
type Status int

// The outcomes of ParseRequest and ParseResponse.
const (
	NeedMore  Status = iota // a valid start so far; call again with more bytes
	NotHTTP                 // the first bytes cannot start an HTTP/1.x message
	Complete                // parsed; the struct is filled
	Malformed               // HTTP-looking bytes that break the format or the size limit
)

func (s Status) String() string {
	switch s {
	case NeedMore:
		return "need-more"
	case NotHTTP:
		return "not-http"
	case Complete:
		return "complete"
	case Malformed:
		return "malformed"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MaxHead bounds what the engine buffers per connection: a request head (request line and headers) longer than
// this is Malformed. Real heads with cookies reach 4–8 KiB; 16 KiB is what common servers accept by default.
const MaxHead = 16 << 10

// endOfHead returns the length of the head (through the empty line) in b, or -1. Lines may end in CRLF or a
// bare LF (RFC 9112 2.2 lets a recipient accept LF).
func endOfHead(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// line returns the first line of b without its CRLF or LF, and where the next line starts; ok is false when
// the line has not ended yet.
func line(b []byte) (l []byte, next int, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, 0, false
	}
	return bytes.TrimSuffix(b[:i], []byte{'\r'}), i + 1, true
}

// version interns "HTTP/1.1" and "HTTP/1.0" and accepts any HTTP/1.x.
func version(b []byte) (string, bool) {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1", true
	case "HTTP/1.0":
		return "HTTP/1.0", true
	}
	if len(b) == 8 && bytes.HasPrefix(b, []byte("HTTP/1.")) && b[7] >= '0' && b[7] <= '9' {
		return string(b), true
	}
	return "", false
}
