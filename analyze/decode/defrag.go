package decode

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
)

// fragKey identifies the datagram a fragment belongs to (RFC 791: source, destination, protocol, id).
type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    layers.IPProtocol
}

// held is what we know of one incomplete datagram, to bound memory: ip4defrag keeps no byte count of its own.
type held struct {
	bytes int
	last  time.Time
}

// defragmenter reassembles IPv4 datagrams with gopacket's ip4defrag (which applies a receiver's overlap rules)
// and IPv6 datagrams itself (defrag6.go), and bounds what it holds of both together by bytes, datagrams and
// capture time.
type defragmenter struct {
	opts      Options
	d         *ip4defrag.IPv4Defragmenter // created at the first IPv4 fragment
	held      map[fragKey]*held
	held6     map[frag6Key]*datagram6 // created at the first IPv6 fragment
	bytes     int                     // fragment bytes held, IPv4 and IPv6
	lastSweep time.Time
	stats     Stats
}

// add hands a fragment over; it returns the whole datagram when this fragment completed it, nil while parts
// are missing. The fragment is copied: the frame's bytes do not outlive the next read.
func (f *defragmenter) add(ip *layers.IPv4, ts time.Time) (*layers.IPv4, error) {
	if f.d == nil {
		f.d = ip4defrag.NewIPv4Defragmenter()
		f.held = make(map[fragKey]*held)
	}
	f.expire(ts)
	key := fragKey{netip.AddrFrom4([4]byte(ip.SrcIP)), netip.AddrFrom4([4]byte(ip.DstIP)), ip.Id, ip.Protocol}
	whole, err := f.d.DefragIPv4WithTimestamp(cloneIPv4(ip), ts)
	if err != nil {
		f.forget(key)
		f.stats.FragmentsDropped++
		f.stats.DroppedInvalid++
		return nil, fmt.Errorf("%w: ipv4 %w", ErrMalformed, err)
	}
	if whole != nil {
		f.forget(key)
		f.stats.Reassembled++
		return whole, nil
	}
	f.hold(key, len(ip.Payload), ts)
	return nil, nil
}

func (f *defragmenter) hold(key fragKey, n int, ts time.Time) {
	f.stats.FragmentsHeld++
	h := f.held[key]
	if h == nil {
		h = &held{}
		f.held[key] = h
	}
	h.bytes += n
	h.last = ts
	f.bytes += n
	f.checkCaps()
}

// checkCaps drops everything held when the fragments of both families together are over a cap.
func (f *defragmenter) checkCaps() {
	if f.bytes > f.opts.MaxFragmentBytes || len(f.held)+len(f.held6) > f.opts.MaxFragmentDatagrams {
		f.dropAll()
	}
}

func (f *defragmenter) forget(key fragKey) {
	if h := f.held[key]; h != nil {
		f.bytes -= h.bytes
		delete(f.held, key)
	}
}

// expire drops datagrams not completed within the timeout, looking at most twice per timeout period: IPv4
// ones idle for longer than the timeout, IPv6 ones whose first fragment to arrive is older (RFC 8200).
func (f *defragmenter) expire(ts time.Time) {
	if ts.Sub(f.lastSweep) < f.opts.FragmentTimeout/2 {
		return
	}
	f.lastSweep = ts
	limit := ts.Add(-f.opts.FragmentTimeout)
	if f.d != nil {
		f.d.DiscardOlderThan(limit)
	}
	for k, h := range f.held {
		if h.last.Before(limit) {
			f.forget(k)
			f.stats.FragmentsDropped++
			f.stats.DroppedTimeout++
		}
	}
	for k, dg := range f.held6 {
		if dg.start.Before(limit) {
			f.drop6(k, &f.stats.DroppedTimeout)
		}
	}
}

// incomplete counts the datagrams held, waiting for fragments (not those kept only to discard their fragments).
func (f *defragmenter) incomplete() int {
	n := len(f.held)
	for _, dg := range f.held6 {
		if !dg.dead {
			n++
		}
	}
	return n
}

// dropAll is the answer to a flood of fragments that never complete.
func (f *defragmenter) dropAll() {
	n := uint64(f.incomplete())
	f.stats.FragmentsDropped += n
	f.stats.DroppedAtCap += n
	if f.d != nil {
		f.d = ip4defrag.NewIPv4Defragmenter()
	}
	clear(f.held)
	clear(f.held6)
	f.bytes = 0
}

// cloneIPv4 copies the fields ip4defrag keeps, detached from the frame buffer.
func cloneIPv4(ip *layers.IPv4) *layers.IPv4 {
	c := &layers.IPv4{
		Version: ip.Version, IHL: ip.IHL, TOS: ip.TOS, Length: ip.Length, Id: ip.Id, Flags: ip.Flags,
		FragOffset: ip.FragOffset, TTL: ip.TTL, Protocol: ip.Protocol,
	}
	c.SrcIP = append([]byte(nil), ip.SrcIP...)
	c.DstIP = append([]byte(nil), ip.DstIP...)
	c.Payload = append([]byte(nil), ip.Payload...)
	return c
}
