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
	ns int64 // capture time, Unix nanoseconds
}

// seen reports whether p repeats a packet seen within dupWindow, and remembers p.
func (d *dedup) seen(p *decode.Packet, ts time.Time) bool {
	h, ns := fingerprintOf(p), ts.UnixNano()
	for i := range d.ring {
		f := &d.ring[i]
		if f.h == h && f.ns != 0 && ns-f.ns <= int64(dupWindow) && f.ns-ns <= int64(dupWindow) {
			return true
		}
	}
	d.ring[d.next] = fingerprint{h: h, ns: ns}
	d.next = (d.next + 1) % len(d.ring)
	return false
}

// fingerprintOf mixes the fields that tell packets apart into 64 bits.
func fingerprintOf(p *decode.Packet) uint64 {
	a, b := packetWords(p)
	h := mix(a[0]^b[0]<<1, a[1]^b[1]<<1)
	h = mix(h, uint64(p.SrcPort)|uint64(p.DstPort)<<16|uint64(p.IPProto)<<32|uint64(p.TCPFlags)<<40)
	h = mix(h, uint64(p.Seq)|uint64(p.Ack)<<32)
	h = mix(h, uint64(p.VLAN[0])|uint64(p.VLAN[1])<<16|uint64(p.IPID)<<32|uint64(p.PayloadWireLen)<<48)
	var w [16]byte
	copy(w[:], p.Payload)
	return mix(mix(h, le64(w[:8])), le64(w[8:]))
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}
