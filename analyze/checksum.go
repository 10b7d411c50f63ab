package analyze

import (
	"net/netip"
	"slices"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
)

// Checksums are verified only on the packets the engine reads closely, never on bulk data: TCP segments with
// SYN or RST, segments whose payload the engine reads (the first bytes it buffers for a name, DNS over TCP),
// DNS over UDP, and ICMP errors. A snaplen-cut packet is not verified.
//
// A host that captures its own traffic records its outgoing packets before the NIC computes their checksums
// (offload): those carry the pseudo-header sum or 0, and are not damage. Per-sender tallies tell the two
// apart: see offloads.

// maxChecksumSenders bounds the addresses an engine keeps checksum tallies for. Past it, a failing packet from
// an address not yet tallied counts as damage.
const maxChecksumSenders = 1 << 14

// maxSegment is the longest transport segment an Ethernet frame of 1500 bytes carries (IPv4 without options).
// A longer one with an unfinished checksum never crossed a wire so: the capturing host's receive offload
// (GRO, LRO) merged segments and left the pseudo-header sum, or its send offload (TSO) had yet to split it.
// Either way not damage, and not the sender's doing: such a packet is left out of the tallies.
const maxSegment = 1480

// maxOffloadListed bounds the addresses the summary lists in checksum_offload (they are sorted; the packet
// count covers them all).
const maxOffloadListed = 64

// checksumTally counts verified packets per sender and receiver address, for one engine.
type checksumTally struct {
	hosts     map[netip.Addr]*hostChecksums
	untracked uint64 // failing packets from senders past maxChecksumSenders
	// recent caches hosts' entries by a hash of the address: each verified packet looks up two addresses,
	// mostly the same few again and again, and a map lookup hashes the address each time.
	recent *[recentHosts]recentHost
}

// recentHosts is the size of a tally's cache of recent addresses.
const (
	recentHostBits = 6
	recentHosts    = 1 << recentHostBits
)

// recentHost is an entry of checksumTally.recent.
type recentHost struct {
	addr netip.Addr
	h    *hostChecksums
}

// hostChecksums is what one address sent and received, among the verified packets.
type hostChecksums struct {
	sentGood, sentUnfinished, sentBad uint64 // decode.ChecksumGood, ChecksumUnfinished, ChecksumBad
	sentUnfinishedSure                uint64 // of sentUnfinished, SYNs and datagrams: not receive offload's
	recvGood, recvFailing             uint64
}

func (h *hostChecksums) sentFailing() uint64 { return h.sentUnfinished + h.sentBad }

// verifyChecksums verifies the checksums of a packet the engine reads closely and tallies the result. On a
// worker lane the reading goroutine has verified most of them already (checksumAhead).
//
// Not inlined: Engine.tcp calls it for a few packets of a connection, and the profile-guided build would
// put its code among the instructions every packet runs (docs/performance.md, "Cold calls out of line").
//
//go:noinline
func (e *Engine) verifyChecksums(p *decode.Packet) {
	st := decode.ChecksumStatus(e.checksum - 1)
	if e.checksum == 0 {
		st = p.VerifyChecksums()
	}
	if st == decode.ChecksumUnverified || st == decode.ChecksumUnfinished && len(p.Segment) > maxSegment {
		return
	}
	// Receive offload coalesces TCP data segments only: a SYN or a datagram with an unfinished checksum left
	// its sender so.
	sent := st == decode.ChecksumUnfinished && (p.IPProto == protoUDP || p.TCPFlags&flagSYN != 0)
	e.facts.quality.checksums.note(p.Src, p.Dst, st, sent)
}

// note tallies one verified packet from src to dst; sentUnfinished says its unfinished checksum cannot be the
// receiver's doing.
func (t *checksumTally) note(src, dst netip.Addr, st decode.ChecksumStatus, sentUnfinished bool) {
	if s := t.host(src); s != nil {
		if sentUnfinished {
			s.sentUnfinishedSure++
		}
		switch st {
		case decode.ChecksumGood:
			s.sentGood++
		case decode.ChecksumUnfinished:
			s.sentUnfinished++
		default:
			s.sentBad++
		}
	} else if st != decode.ChecksumGood {
		t.untracked++
	}
	if d := t.host(dst); d != nil {
		if st == decode.ChecksumGood {
			d.recvGood++
		} else {
			d.recvFailing++
		}
	}
}

// host returns a's tally, starting one while there is room; nil past the cap.
func (t *checksumTally) host(a netip.Addr) *hostChecksums {
	if t.recent == nil {
		t.recent = new([recentHosts]recentHost)
	}
	slot := &t.recent[addrSlot(a, recentHostBits)]
	if slot.h != nil && slot.addr == a {
		return slot.h
	}
	h := t.hosts[a]
	if h == nil {
		if len(t.hosts) >= maxChecksumSenders {
			return nil
		}
		if t.hosts == nil {
			t.hosts = make(map[netip.Addr]*hostChecksums)
		}
		h = &hostChecksums{}
		t.hosts[a] = h
	}
	slot.addr, slot.h = a, h
	return h
}

// add folds another engine's tallies into t (at the end, with no cap: each engine was bounded).
func (t *checksumTally) add(o *checksumTally) {
	t.untracked += o.untracked
	for a, oh := range o.hosts {
		h, ok := t.hosts[a]
		if !ok {
			if t.hosts == nil {
				t.hosts = make(map[netip.Addr]*hostChecksums)
			}
			h = &hostChecksums{}
			t.hosts[a] = h
		}
		h.sentGood += oh.sentGood
		h.sentUnfinished += oh.sentUnfinished
		h.sentBad += oh.sentBad
		h.sentUnfinishedSure += oh.sentUnfinishedSure
		h.recvGood += oh.recvGood
		h.recvFailing += oh.recvFailing
	}
}

// offloads reports whether h is a capturing host's own traffic whose NIC finishes checksums. Either
//   - at least half the verified packets it sent carry offload's unfinished checksum (pseudo-header sum or 0),
//     which damage does not produce (a chance of 1 in 65,536 for the sum), and either one of them is a SYN or
//     a UDP datagram, or most verified packets sent to it verify. (The capturing host's receive offload, GRO,
//     leaves the same value in TCP data segments of other hosts it merged; those hosts receive the capturing
//     host's own unfinished packets.) Or,
//   - for drivers that leave other values: at least two, and 9 in 10 or more, of the verified packets it sent
//     fail, while those sent to it verify (at least one, and 9 in 10 or more): the NIC checked what it
//     received, and the capture point sat before the NIC on the way out.
//
// Unfinished checksums that do not make their sender an offloading host are not damage either (segments the
// capturing host's receive offload merged), and are counted nowhere. A remote host's damaged packet fails
// alone among good ones, with no particular value.
func (h *hostChecksums) offloads() bool {
	if h.sentUnfinished > 0 && h.sentUnfinished*2 >= h.sentGood+h.sentUnfinished+h.sentBad &&
		(h.sentUnfinishedSure > 0 || h.recvGood > h.recvFailing) {
		return true
	}
	fail := h.sentFailing()
	return h.sentBad >= 2 && h.sentGood*9 <= fail && h.recvGood > 0 && h.recvFailing*9 <= h.recvGood
}

// fill writes the checksum counts into the quality section: the offloading addresses, sorted, with all their
// failing packets, and the other hosts' failing packets without offload's shape as damage.
func (t *checksumTally) fill(q *result.Quality) {
	var offload []netip.Addr
	q.BadChecksums = t.untracked
	for a, h := range t.hosts {
		switch {
		case h.offloads():
			offload = append(offload, a)
			q.ChecksumOffloadPackets += h.sentFailing()
		default:
			q.BadChecksums += h.sentBad
		}
	}
	slices.SortFunc(offload, netip.Addr.Compare)
	for _, a := range offload[:min(len(offload), maxOffloadListed)] {
		q.ChecksumOffload = append(q.ChecksumOffload, a.String())
	}
}

// checksumAhead reports whether the reading goroutine of a worker lane verifies a packet's checksums for the
// engine: the packets it reads closely whatever their connection's state, TCP segments with SYN or RST and DNS
// over UDP. The engine still verifies the rest (first bytes, DNS over TCP, ICMP errors) itself.
func checksumAhead(p *decode.Packet) bool {
	switch p.IPProto {
	case protoTCP:
		return p.TCPFlags&(flagSYN|flagRST) != 0
	case protoUDP:
		return isDNS(p)
	}
	return false
}
