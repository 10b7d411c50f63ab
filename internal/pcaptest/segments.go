package pcaptest

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/capture"
)

// Segment is one TCP or UDP payload with where it came from.
type Segment struct {
	Frame    int  // 1-based frame number in the capture; for a reassembled IP datagram, its last fragment
	TCP      bool // TCP (true) or UDP (false)
	Src, Dst netip.AddrPort
	SYN, ACK bool   // TCP flags
	Seq      uint32 // TCP sequence number
	Payload  []byte
}

// ReadSegments decodes every packet of a capture file (read with the capture package: pcap, pcapng, either
// gzip-compressed) into transport payloads, in capture order. IPv4 and IPv6 fragment trains are reassembled;
// ICMP, whose quoted headers would look like traffic, and everything that is not TCP or UDP over IP are left
// out. A read error fails the test; reader warnings (a truncated file) are logged and what was read is kept.
// The engine has its own decoder and reassembly; this is the simplest thing that yields real bytes to check
// the parsers against.
func ReadSegments(t testing.TB, path string) []Segment {
	t.Helper()
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Segment
	frags := defrag{}
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// gopacket.Default copies f.Data, which the reader reuses on the next call.
		pkt := gopacket.NewPacket(f.Data, f.LinkType, gopacket.Default)
		if s, ok := frags.toSegment(pkt); ok {
			s.Frame = int(f.Number)
			out = append(out, s)
		}
	}
	for _, w := range r.Warnings() {
		t.Logf("%s: %v", path, w)
	}
	return out
}

// defrag reassembles IPv4 and IPv6 fragment trains (tests only: no timeouts, no overlap policy). A first
// fragment cut by the snaplen can never be completed, so it is decoded on its own, as tshark does.
type defrag map[string][]fragment

type fragment struct {
	off  int
	more bool
	data []byte
}

// add files one fragment; it returns the whole datagram payload once every piece is there.
func (d defrag) add(key string, f fragment) ([]byte, bool) {
	d[key] = append(d[key], fragment{f.off, f.more, append([]byte(nil), f.data...)})
	frags := d[key]
	sort.SliceStable(frags, func(i, j int) bool { return frags[i].off < frags[j].off })
	var out []byte
	for _, g := range frags {
		if g.off > len(out) {
			return nil, false
		}
		if end := g.off + len(g.data); end > len(out) {
			out = append(out, g.data[len(out)-g.off:]...)
		}
		if !g.more {
			delete(d, key)
			return out, true
		}
	}
	return nil, false
}

func (d defrag) toSegment(pkt gopacket.Packet) (Segment, bool) {
	if pkt.Layer(layers.LayerTypeICMPv4) != nil || pkt.Layer(layers.LayerTypeICMPv6) != nil {
		return Segment{}, false
	}
	var srcIP, dstIP netip.Addr
	tr := pkt.TransportLayer()
	switch n := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		srcIP, _ = netip.AddrFromSlice(n.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(n.DstIP.To4())
		if n.Flags&layers.IPv4MoreFragments != 0 || n.FragOffset != 0 {
			cut := len(n.Payload) < int(n.Length)-int(n.IHL)*4
			tr = d.transport(fmt.Sprint(n.SrcIP, n.DstIP, n.Id, n.Protocol), n.Protocol,
				fragment{int(n.FragOffset) * 8, n.Flags&layers.IPv4MoreFragments != 0, n.Payload}, cut)
		}
	case *layers.IPv6:
		srcIP, _ = netip.AddrFromSlice(n.SrcIP)
		dstIP, _ = netip.AddrFromSlice(n.DstIP)
		if fl, ok := pkt.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
			cut := pkt.Metadata().Truncated
			tr = d.transport(fmt.Sprint(n.SrcIP, n.DstIP, fl.Identification), fl.NextHeader,
				fragment{int(fl.FragmentOffset) * 8, fl.MoreFragments, fl.Payload}, cut)
		}
	default:
		return Segment{}, false
	}
	switch tr := tr.(type) {
	case *layers.TCP:
		return Segment{TCP: true, Src: netip.AddrPortFrom(srcIP, uint16(tr.SrcPort)), Dst: netip.AddrPortFrom(dstIP, uint16(tr.DstPort)),
			SYN: tr.SYN, ACK: tr.ACK, Seq: tr.Seq, Payload: tr.Payload}, true
	case *layers.UDP:
		return Segment{Src: netip.AddrPortFrom(srcIP, uint16(tr.SrcPort)), Dst: netip.AddrPortFrom(dstIP, uint16(tr.DstPort)),
			Payload: tr.Payload}, true
	}
	return Segment{}, false
}

func (d defrag) transport(key string, proto layers.IPProtocol, f fragment, cut bool) gopacket.TransportLayer {
	data, ok := f.data, f.off == 0 && cut
	if !ok {
		data, ok = d.add(key, f)
	}
	if !ok {
		return nil
	}
	var lt gopacket.LayerType
	switch proto {
	case layers.IPProtocolUDP:
		lt = layers.LayerTypeUDP
	case layers.IPProtocolTCP:
		lt = layers.LayerTypeTCP
	default:
		return nil
	}
	return gopacket.NewPacket(data, lt, gopacket.Default).TransportLayer()
}
