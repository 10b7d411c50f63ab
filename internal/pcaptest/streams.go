package pcaptest

import (
	"net/netip"
	"sort"
)

// TCPStream is one direction of one TCP connection, reassembled in sequence order.
type TCPStream struct {
	Src, Dst netip.AddrPort
	Data     []byte
	Frames   []int // Frames[i]: the capture frame after which Data[:i+1] was all present
}

type pendingStream struct {
	TCPStream
	base    uint32
	hasBase bool
	segs    []Segment
}

// TCPStreams reassembles every direction of every TCP connection in segs: duplicates and overlaps are
// resolved by the first copy, out-of-order segments are put in place, and a gap ends the stream. A SYN with a
// new sequence number on a direction that already carried data starts a new stream. Directions without data
// are left out; the rest come in the order their first segment appeared.
func TCPStreams(segs []Segment) []TCPStream {
	type key struct{ src, dst netip.AddrPort }
	open := map[key]*pendingStream{}
	var all []*pendingStream
	for _, s := range segs {
		if !s.TCP {
			continue
		}
		k := key{s.Src, s.Dst}
		p := open[k]
		if p == nil || (s.SYN && p.hasBase && s.Seq+1 != p.base && len(p.segs) > 0) {
			p = &pendingStream{TCPStream: TCPStream{Src: s.Src, Dst: s.Dst}}
			open[k] = p
			all = append(all, p)
		}
		if s.SYN {
			p.base, p.hasBase = s.Seq+1, true
			continue
		}
		if len(s.Payload) > 0 {
			p.segs = append(p.segs, s)
		}
	}
	out := make([]TCPStream, 0, len(all))
	for _, p := range all {
		p.assemble()
		if len(p.Data) > 0 {
			out = append(out, p.TCPStream)
		}
	}
	return out
}

func (p *pendingStream) assemble() {
	if len(p.segs) == 0 {
		return
	}
	if !p.hasBase {
		p.base = p.segs[0].Seq
		for _, s := range p.segs {
			if int32(s.Seq-p.base) < 0 {
				p.base = s.Seq
			}
		}
	}
	sort.SliceStable(p.segs, func(i, j int) bool { return int32(p.segs[i].Seq-p.base) < int32(p.segs[j].Seq-p.base) })
	for _, s := range p.segs {
		rel := int(int32(s.Seq - p.base))
		if rel < 0 || rel > len(p.Data) {
			if rel > len(p.Data) {
				break // a gap: the rest is not usable
			}
			continue
		}
		if end := rel + len(s.Payload); end > len(p.Data) {
			p.Data = append(p.Data, s.Payload[len(p.Data)-rel:]...)
			for len(p.Frames) < len(p.Data) {
				p.Frames = append(p.Frames, s.Frame)
			}
		}
	}
	// A byte is available once every earlier byte is: carry the latest frame forward.
	for i := 1; i < len(p.Frames); i++ {
		if p.Frames[i] < p.Frames[i-1] {
			p.Frames[i] = p.Frames[i-1]
		}
	}
}
