package quic

import (
	"bytes"
	"errors"
	"fmt"
)

const (
	// MaxCrypto caps the CRYPTO stream kept per flow: the ClientHello must end within it. Real hellos are
	// 0.3–2 KB (post-quantum key shares make them span two Initials); 64 KiB leaves room for padded ones.
	MaxCrypto = 64 << 10
	// maxSpans caps how many separate pieces of the CRYPTO stream are held before the gaps between them fill.
	// Chromium sends its hello as a dozen small CRYPTO frames in shuffled order, which merge as they arrive.
	maxSpans = 64
	// recordHeader is room left in front of the stream for a synthetic TLS record header (see Flow.TLSRecord).
	recordHeader = 5
)

var (
	errCryptoCap = fmt.Errorf("crypto data past %d bytes", MaxCrypto)
	errSpans     = fmt.Errorf("crypto data in more than %d separate pieces", maxSpans)
)

// span is a received range [start, end) of the CRYPTO stream.
type span struct{ start, end int }

// assembler puts CRYPTO frames, received in any order and possibly overlapping, back into one stream (RFC 9000
// 19.6). Where a range arrives twice the first copy is kept; different bytes mark a conflict.
type assembler struct {
	buf      []byte // recordHeader bytes of room, then stream byte i at buf[recordHeader+i]
	spans    [maxSpans]span
	n        int // spans in use, sorted by start, neither overlapping nor touching
	conflict bool
}

func (a *assembler) reset() {
	a.buf, a.n, a.conflict = a.buf[:0], 0, false
}

// add files data at stream offset off.
func (a *assembler) add(off uint64, data []byte) error {
	if off > MaxCrypto || uint64(len(data)) > MaxCrypto-off {
		return errCryptoCap
	}
	if len(data) == 0 {
		return nil
	}
	start, end := int(off), int(off)+len(data)
	if need := recordHeader + end; need > len(a.buf) {
		a.grow(need)
	}
	// Copy into the gaps between the spans already held; compare where they overlap.
	at := start
	for _, s := range a.spans[:a.n] {
		if s.end <= at || s.start >= end {
			continue
		}
		if s.start > at {
			copy(a.buf[recordHeader+at:], data[at-start:s.start-start])
		}
		lo, hi := max(s.start, at), min(s.end, end)
		if !bytes.Equal(a.buf[recordHeader+lo:recordHeader+hi], data[lo-start:hi-start]) {
			a.conflict = true
		}
		at = hi
	}
	if at < end {
		copy(a.buf[recordHeader+at:], data[at-start:])
	}
	return a.merge(span{start, end})
}

// grow extends buf to n bytes, zero-filled, keeping its contents.
func (a *assembler) grow(n int) {
	if n <= cap(a.buf) {
		old := len(a.buf)
		a.buf = a.buf[:n]
		clear(a.buf[old:])
		return
	}
	c := max(2*cap(a.buf), 4096, n)
	c = min(c, recordHeader+MaxCrypto)
	nb := make([]byte, n, c)
	copy(nb, a.buf)
	a.buf = nb
}

// merge inserts s into the span list, joining every span it overlaps or touches.
func (a *assembler) merge(s span) error {
	i := 0
	for i < a.n && a.spans[i].end < s.start {
		i++
	}
	j := i
	for j < a.n && a.spans[j].start <= s.end {
		s.start, s.end = min(s.start, a.spans[j].start), max(s.end, a.spans[j].end)
		j++
	}
	// spans[i:j] collapse into s.
	if i == j {
		if a.n == maxSpans {
			return errSpans
		}
		copy(a.spans[i+1:a.n+1], a.spans[i:a.n])
		a.n++
	} else {
		copy(a.spans[i+1:], a.spans[j:a.n])
		a.n -= j - i - 1
	}
	a.spans[i] = s
	return nil
}

// contiguous is how many bytes from the stream's start have arrived without a gap.
func (a *assembler) contiguous() int {
	if a.n == 0 || a.spans[0].start != 0 {
		return 0
	}
	return a.spans[0].end
}

// stream returns the first n bytes of the stream; n must not exceed contiguous().
func (a *assembler) stream(n int) []byte { return a.buf[recordHeader : recordHeader+n] }

var errNotHello = errors.New("crypto stream does not start with a client_hello")
