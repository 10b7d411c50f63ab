package analyze

import (
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

// dupWindow is how close in capture time two identical packets must be to count as one packet captured twice
// rather than a retransmission: pktmon records a packet at several points of the Windows stack within
// microseconds, while TCP waits at least 200 ms before it retransmits.
const dupWindow = 2 * time.Millisecond

// dedup recognises a packet captured twice, so it is counted once and does not look like a retransmission.
// It compares a fingerprint of the decoded headers (IPv4 identification included) and the first payload bytes
// with the last few packets.
type dedup struct {
	ring [16]fingerprint
	next int
}

type fingerprint struct {
	h  uint64
	ts time.Time
}

// seen reports whether p repeats a packet seen within dupWindow, and remembers p.
func (d *dedup) seen(p *decode.Packet, ts time.Time) bool {
	h := fingerprintOf(p)
	for i := range d.ring {
		f := &d.ring[i]
		if f.h == h && !f.ts.IsZero() && ts.Sub(f.ts) <= dupWindow && ts.Sub(f.ts) >= -dupWindow {
			return true
		}
	}
	d.ring[d.next] = fingerprint{h: h, ts: ts}
	d.next = (d.next + 1) % len(d.ring)
	return false
}

// fingerprintOf mixes the fields that tell packets apart into 64 bits.
func fingerprintOf(p *decode.Packet) uint64 {
	a, b := p.Src.As16(), p.Dst.As16()
	h := mix(0, le64(a[:8]))
	h = mix(h, le64(a[8:]))
	h = mix(h, le64(b[:8]))
	h = mix(h, le64(b[8:]))
	h = mix(h, uint64(p.SrcPort)|uint64(p.DstPort)<<16|uint64(p.IPProto)<<32|uint64(p.TCPFlags)<<40)
	h = mix(h, uint64(p.Seq)|uint64(p.Ack)<<32)
	h = mix(h, uint64(p.VLAN[0])|uint64(p.VLAN[1])<<16|uint64(p.IPID)<<32|uint64(p.PayloadWireLen)<<48)
	var w [8]byte
	for off := 0; off < 32 && off < len(p.Payload); off += 8 {
		n := copy(w[:], p.Payload[off:])
		clear(w[n:])
		h = mix(h, le64(w[:]))
	}
	return h
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}
