package dnsmsg

import "fmt"

// MaxBuffer bounds a Stream's buffer: one unfinished message of the largest size (2 + 65535 bytes) plus one
// TCP segment of the largest size. That is twice the "64 KiB + 2" of a single message because a segment can
// complete one message and start the next; with it, a caller that drains Next after every Write never loses
// bytes, whatever the segment sizes.
const MaxBuffer = 2 * (2 + 65535)

// Stream splits one direction of a DNS-over-TCP connection into messages (RFC 1035 4.2.2: each message is
// preceded by a 2-byte length; several may share a segment and one may span several). The zero value is ready
// to use. The buffer grows only as far as the messages need, so an idle stream costs a few hundred bytes.
type Stream struct {
	buf     []byte
	off     int // start of the bytes Next has not returned
	dropped int // bytes thrown away after an overflow; the stream is then out of step and stops
}

// Write appends the next bytes of the stream, in TCP order (the engine handles ordering and retransmission).
// Call Next until it reports false after each Write. If the bytes would overflow MaxBuffer, they are dropped
// and the stream stops: Err says so.
func (s *Stream) Write(b []byte) {
	if s.dropped > 0 {
		s.dropped += len(b)
		return
	}
	if s.off > 0 {
		n := copy(s.buf, s.buf[s.off:])
		s.buf, s.off = s.buf[:n], 0
	}
	if len(s.buf)+len(b) > MaxBuffer {
		s.dropped = len(b)
		return
	}
	s.buf = append(s.buf, b...)
}

// Next returns the next complete message without its length prefix. The slice aliases the Stream's buffer and
// is valid until the next Write or Next.
func (s *Stream) Next() ([]byte, bool) {
	if s.dropped > 0 {
		return nil, false
	}
	rest := s.buf[s.off:]
	if len(rest) < 2 {
		return nil, false
	}
	n := 2 + int(be16(rest))
	if len(rest) < n {
		return nil, false
	}
	s.off += n
	return rest[2:n:n], true
}

// Pending reports how many bytes wait for the rest of their message; a non-zero value when the connection
// ends means the last message was cut.
func (s *Stream) Pending() int { return len(s.buf) - s.off }

// Err reports an overflow: the caller wrote more than MaxBuffer bytes without draining Next.
func (s *Stream) Err() error {
	if s.dropped == 0 {
		return nil
	}
	return fmt.Errorf("dns over tcp: buffer of %d bytes full, %d bytes dropped", MaxBuffer, s.dropped)
}

// Reset empties the stream for reuse on another connection, keeping its buffer.
func (s *Stream) Reset() { s.buf, s.off, s.dropped = s.buf[:0], 0, 0 }
