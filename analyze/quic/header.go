package quic

import (
	"errors"
	"fmt"
)

// packetType is what a long header's two type bits mean, once read through the version's table.
type packetType int

const (
	typeUnknown packetType = iota // a version this package does not know: only the invariant fields are read
	typeInitial
	typeZeroRTT
	typeHandshake
	typeRetry
	typeVersionNegotiation
)

const (
	headerForm = 0x80 // first byte: long header (RFC 9000 17.2)
	fixedBit   = 0x40 // first byte: always set in v1 and v2 (RFC 9287 greasing starts after the handshake)
	maxCIDLen  = 20   // RFC 9000 17.2: connection IDs of v1 are at most 20 bytes
)

var errTruncated = errors.New("runs past the end of the packet")

// longHeader is a parsed long header. Its slices point into the datagram.
type longHeader struct {
	version  Version
	typ      packetType
	dcid     []byte
	scid     []byte
	token    []byte // Initial only
	pnOffset int    // where the protected packet number starts; Initial, 0-RTT and Handshake only
	end      int    // where the packet ends in the datagram: the start of a coalesced packet, if any
}

// parseLongHeader reads the long header at the start of b (RFC 9000 17.2, RFC 8999 5.1). For a version it does not
// know it reads the invariant fields and takes the packet to run to the end of the datagram.
func parseLongHeader(b []byte) (longHeader, error) {
	var h longHeader
	if len(b) < 7 || b[0]&headerForm == 0 {
		return h, fmt.Errorf("long header: %w", errTruncated)
	}
	h.version = Version(be32(b[1:]))
	r := reader{b: b, off: 5}
	h.dcid = r.vec8()
	h.scid = r.vec8()
	if r.err != nil {
		return h, fmt.Errorf("long header connection ids: %w", r.err)
	}
	h.end = len(b)
	p := h.version.params()
	switch {
	case h.version == VersionNegotiation:
		h.typ = typeVersionNegotiation
		return h, nil
	case p == nil:
		return h, nil
	case len(h.dcid) > maxCIDLen || len(h.scid) > maxCIDLen:
		return h, fmt.Errorf("long header: connection id of %d bytes, more than %d", max(len(h.dcid), len(h.scid)), maxCIDLen)
	case b[0]&fixedBit == 0:
		return h, errors.New("long header: fixed bit is 0")
	}
	switch (b[0] >> 4) & 3 {
	case p.initial:
		h.typ = typeInitial
		h.token = r.take(r.varint())
	case p.zeroRTT:
		h.typ = typeZeroRTT
	case p.handshake:
		h.typ = typeHandshake
	default:
		h.typ = typeRetry // the rest of the datagram: token and integrity tag
		return h, nil
	}
	n := r.varint()
	if r.err != nil {
		return h, fmt.Errorf("long header token and length: %w", r.err)
	}
	if n > uint64(len(b)-r.off) {
		return h, fmt.Errorf("long header length %d: %w (%d bytes left)", n, errTruncated, len(b)-r.off)
	}
	h.pnOffset, h.end = r.off, r.off+int(n)
	return h, nil
}

// reader walks a packet or frame payload. The first error sticks: later reads return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(r.left()) {
		r.err = errTruncated
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) vec8() []byte {
	if r.err != nil || r.left() < 1 {
		r.err = errTruncated
		return nil
	}
	n := r.b[r.off]
	r.off++
	return r.take(uint64(n))
}

// varint reads a variable-length integer (RFC 9000 16).
func (r *reader) varint() uint64 {
	if r.err != nil || r.left() < 1 {
		r.err = errTruncated
		return 0
	}
	n := 1 << (r.b[r.off] >> 6)
	if r.left() < n {
		r.err = errTruncated
		return 0
	}
	v := uint64(r.b[r.off] & 0x3f)
	for _, c := range r.b[r.off+1 : r.off+n] {
		v = v<<8 | uint64(c)
	}
	r.off += n
	return v
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
