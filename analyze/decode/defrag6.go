package decode

import (
	"fmt"
	"slices"
	"time"
)

// IPv6 reassembly follows RFC 8200 section 4.5: fragments belong together by source, destination and
// identification; the next header is the first fragment's; a datagram longer than 65535 bytes is dropped; and,
// per RFC 5722, fragments that overlap drop the whole datagram, and the datagram's later fragments are
// discarded until it times out. Exact duplicates (same offset and length) are ignored, as RFC 8200 allows.

// Errors for IPv6 fragments that are dropped; all wrap ErrMalformed.
var (
	errIPv6FragLength  = fmt.Errorf("%w: ipv6 fragment length not a multiple of 8", ErrMalformed)
	errIPv6FragOverlap = fmt.Errorf("%w: ipv6 overlapping or inconsistent fragments", ErrMalformed)
	errIPv6FragTooBig  = fmt.Errorf("%w: ipv6 fragments beyond 65535 bytes", ErrMalformed)
	errIPv6FragHeaders = fmt.Errorf("%w: ipv6 reassembled datagram with broken extension headers", ErrMalformed)
)

// maxIPv6Payload is the largest payload an IPv6 datagram without a jumbo option can have.
const maxIPv6Payload = 65535

// frag6Key identifies the datagram an IPv6 fragment belongs to.
type frag6Key struct {
	src, dst [16]byte
	id       uint32
}

// piece is one fragment's data at its offset in the fragmentable part.
type piece struct {
	off  int
	data []byte
}

// datagram6 is what is held of one incomplete IPv6 datagram.
type datagram6 struct {
	pieces []piece // sorted by offset, never overlapping
	next   uint8   // the first fragment's next header
	first  bool    // the fragment at offset 0 arrived
	total  int     // length of the fragmentable part, known once the last fragment arrived (else -1)
	bytes  int
	start  time.Time // arrival of the first fragment to arrive: the timeout counts from there
	dead   bool      // dropped for overlap: later fragments are discarded
}

// add6 hands over an IPv6 fragment of datagram key: off is its offset in bytes, more its M flag, next the
// fragment header's next header, data the fragment's bytes (copied). It returns the fragmentable part of the
// datagram and its first header type when this fragment completed it, nil while parts are missing.
func (f *defragmenter) add6(key frag6Key, off int, more bool, next uint8, data []byte, ts time.Time) ([]byte, uint8, error) {
	if f.held6 == nil {
		f.held6 = make(map[frag6Key]*datagram6)
	}
	f.expire(ts)
	dg := f.held6[key]
	if dg != nil && !dg.dead && ts.Sub(dg.start) > f.opts.FragmentTimeout {
		f.drop6(key, &f.stats.DroppedTimeout)
		dg = nil
	}
	if more && len(data)%8 != 0 {
		return nil, 0, errIPv6FragLength
	}
	end := off + len(data)
	if dg == nil {
		dg = &datagram6{total: -1, start: ts}
		f.held6[key] = dg
	}
	switch {
	case dg.dead:
		return nil, 0, errIPv6FragOverlap
	case end > maxIPv6Payload:
		f.kill6(key, dg)
		return nil, 0, errIPv6FragTooBig
	}
	i, dup, ok := dg.slot(off, end, more)
	if !ok {
		f.kill6(key, dg)
		return nil, 0, errIPv6FragOverlap
	}
	if dup {
		return nil, 0, nil
	}
	if !more {
		dg.total = end
	}
	if off == 0 {
		dg.first, dg.next = true, next
	}
	dg.pieces = slices.Insert(dg.pieces, i, piece{off, append([]byte(nil), data...)})
	if whole := dg.assemble(); whole != nil {
		f.forget6(key)
		f.stats.Reassembled++
		return whole, dg.next, nil
	}
	f.stats.FragmentsHeld++
	dg.bytes += len(data)
	f.bytes += len(data)
	f.checkCaps()
	return nil, 0, nil
}

// slot finds where the fragment [off, end) goes among the pieces. dup: it is an exact duplicate of one held.
// ok is false when it overlaps a piece without being its duplicate, or contradicts the datagram's known end.
func (dg *datagram6) slot(off, end int, more bool) (i int, dup, ok bool) {
	if dg.total >= 0 && (end > dg.total || !more && end != dg.total) {
		return 0, false, false
	}
	i, _ = slices.BinarySearchFunc(dg.pieces, off, func(p piece, off int) int { return p.off - off })
	if i < len(dg.pieces) && dg.pieces[i].off == off && len(dg.pieces[i].data) == end-off {
		return i, true, true
	}
	if i > 0 {
		prev := dg.pieces[i-1]
		if prev.off+len(prev.data) > off {
			return 0, false, false
		}
	}
	if i < len(dg.pieces) && dg.pieces[i].off < end {
		return 0, false, false
	}
	if !more && len(dg.pieces) > 0 && i < len(dg.pieces) { // the last fragment must end after every other
		return 0, false, false
	}
	return i, false, true
}

// assemble returns the whole fragmentable part when the pieces cover it, in a new buffer that no later
// fragment reuses, nil otherwise.
func (dg *datagram6) assemble() []byte {
	if !dg.first || dg.total < 0 {
		return nil
	}
	at := 0
	for _, p := range dg.pieces {
		if p.off != at {
			return nil
		}
		at += len(p.data)
	}
	if at != dg.total {
		return nil
	}
	whole := make([]byte, 0, dg.total)
	for _, p := range dg.pieces {
		whole = append(whole, p.data...)
	}
	return whole
}

// kill6 drops a datagram for inconsistent fragments and keeps its key, empty, so that its later fragments are
// discarded until it times out.
func (f *defragmenter) kill6(key frag6Key, dg *datagram6) {
	f.bytes -= dg.bytes
	*dg = datagram6{dead: true, start: dg.start}
	f.stats.FragmentsDropped++
	f.stats.DroppedInvalid++
	f.checkCaps() // the key stays: it counts against MaxFragmentDatagrams
}

// drop6 drops an incomplete datagram, counting it under reason (besides FragmentsDropped).
func (f *defragmenter) drop6(key frag6Key, reason *uint64) {
	if dg := f.held6[key]; dg != nil && !dg.dead {
		f.stats.FragmentsDropped++
		*reason++
	}
	f.forget6(key)
}

func (f *defragmenter) forget6(key frag6Key) {
	if dg := f.held6[key]; dg != nil {
		f.bytes -= dg.bytes
		delete(f.held6, key)
	}
}
