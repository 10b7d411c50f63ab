package httpmsg

// Helpers that pull transport payloads out of the shared public captures. Tests only: the engine has its own
// decoder and reassembly; this is the simplest thing that yields real bytes to check the parser against.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// sharedPcaps returns the folder of public captures, skipping the test when INTUNECAP_SHARED_PCAPS is unset.
// A relative value is taken relative to the module root, as CI sets it.
func sharedPcaps(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("INTUNECAP_SHARED_PCAPS")
	if dir == "" {
		t.Skip("INTUNECAP_SHARED_PCAPS is not set: skipping the checks against the shared public captures")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(t), dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("INTUNECAP_SHARED_PCAPS=%s: not a readable folder (%v)", dir, err)
	}
	return dir
}

func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// segment is one TCP or UDP payload with where it came from.
type segment struct {
	frame    int
	tcp      bool
	src, dst netip.AddrPort
	syn, ack bool
	seq      uint32
	payload  []byte
}

// readSegments decodes every packet of a pcap or pcapng file (told apart by magic) into transport payloads.
// pcapgo would pull in golang.org/x/sys (absent from go.sum), so the helper reads the two formats itself.
func readSegments(t testing.TB, path string) []segment {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []segment
	frags := defrag{}
	frame := 0
	each := func(link layers.LinkType, data []byte) {
		frame++
		pkt := gopacket.NewPacket(data, link, gopacket.Default)
		if s, ok := frags.toSegment(pkt); ok {
			s.frame = frame
			out = append(out, s)
		}
	}
	if len(raw) >= 4 && bytes.Equal(raw[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		readPcapng(t, raw, each)
	} else {
		readPcap(t, raw, each)
	}
	return out
}

func readPcap(t testing.TB, raw []byte, each func(layers.LinkType, []byte)) {
	if len(raw) < 24 {
		t.Fatalf("pcap header: %d bytes", len(raw))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(raw); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	link := layers.LinkType(bo.Uint32(raw[20:]) & 0xffff)
	for off := 24; off+16 <= len(raw); {
		incl := int(bo.Uint32(raw[off+8:]))
		if off+16+incl > len(raw) {
			return
		}
		each(link, raw[off+16:off+16+incl])
		off += 16 + incl
	}
}

func readPcapng(t testing.TB, raw []byte, each func(layers.LinkType, []byte)) {
	var bo binary.ByteOrder = binary.LittleEndian
	var links []layers.LinkType
	for off := 0; off+12 <= len(raw); {
		typ := bo.Uint32(raw[off:])
		if typ == 0x0a0d0d0a {
			if binary.BigEndian.Uint32(raw[off+8:]) == 0x1a2b3c4d {
				bo = binary.BigEndian
			} else {
				bo = binary.LittleEndian
			}
			links = links[:0]
		}
		n := int(bo.Uint32(raw[off+4:]))
		if n < 12 || off+n > len(raw) {
			t.Fatalf("pcapng block at %d: length %d", off, n)
		}
		body := raw[off+8 : off+n-4]
		switch typ {
		case 1:
			links = append(links, layers.LinkType(bo.Uint16(body)))
		case 6:
			ifc, capLen := int(bo.Uint32(body)), int(bo.Uint32(body[12:]))
			if ifc < len(links) && 20+capLen <= len(body) {
				each(links[ifc], body[20:20+capLen])
			}
		case 3:
			capLen := min(int(bo.Uint32(body)), len(body)-4)
			if len(links) > 0 {
				each(links[0], body[4:4+capLen])
			}
		}
		off += n
	}
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

func (d defrag) toSegment(pkt gopacket.Packet) (segment, bool) {
	if pkt.Layer(layers.LayerTypeICMPv4) != nil || pkt.Layer(layers.LayerTypeICMPv6) != nil {
		return segment{}, false
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
		return segment{}, false
	}
	switch tr := tr.(type) {
	case *layers.TCP:
		return segment{tcp: true, src: netip.AddrPortFrom(srcIP, uint16(tr.SrcPort)), dst: netip.AddrPortFrom(dstIP, uint16(tr.DstPort)),
			syn: tr.SYN, ack: tr.ACK, seq: tr.Seq, payload: tr.Payload}, true
	case *layers.UDP:
		return segment{src: netip.AddrPortFrom(srcIP, uint16(tr.SrcPort)), dst: netip.AddrPortFrom(dstIP, uint16(tr.DstPort)),
			payload: tr.Payload}, true
	}
	return segment{}, false
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

// tcpStream is one direction of one TCP connection, reassembled in sequence order.
type tcpStream struct {
	src, dst netip.AddrPort
	data     []byte
	frames   []int // frames[i]: the capture frame after which data[:i+1] was all present
}

type pendingStream struct {
	tcpStream
	base    uint32
	hasBase bool
	segs    []segment
}

// tcpStreams reassembles every direction of every TCP connection: duplicates and overlaps are resolved by
// the first copy, out-of-order segments are put in place, and a gap ends the stream.
func tcpStreams(segs []segment) []tcpStream {
	type key struct{ src, dst netip.AddrPort }
	open := map[key]*pendingStream{}
	var all []*pendingStream
	for _, s := range segs {
		if !s.tcp {
			continue
		}
		k := key{s.src, s.dst}
		p := open[k]
		if p == nil || (s.syn && p.hasBase && s.seq+1 != p.base && len(p.segs) > 0) {
			p = &pendingStream{tcpStream: tcpStream{src: s.src, dst: s.dst}}
			open[k] = p
			all = append(all, p)
		}
		if s.syn {
			p.base, p.hasBase = s.seq+1, true
			continue
		}
		if len(s.payload) > 0 {
			p.segs = append(p.segs, s)
		}
	}
	out := make([]tcpStream, 0, len(all))
	for _, p := range all {
		p.assemble()
		if len(p.data) > 0 {
			out = append(out, p.tcpStream)
		}
	}
	return out
}

func (p *pendingStream) assemble() {
	if len(p.segs) == 0 {
		return
	}
	if !p.hasBase {
		p.base = p.segs[0].seq
		for _, s := range p.segs {
			if int32(s.seq-p.base) < 0 {
				p.base = s.seq
			}
		}
	}
	sort.SliceStable(p.segs, func(i, j int) bool { return int32(p.segs[i].seq-p.base) < int32(p.segs[j].seq-p.base) })
	for _, s := range p.segs {
		rel := int(int32(s.seq - p.base))
		if rel < 0 || rel > len(p.data) {
			if rel > len(p.data) {
				break // a gap: the rest is not usable
			}
			continue
		}
		if end := rel + len(s.payload); end > len(p.data) {
			p.data = append(p.data, s.payload[len(p.data)-rel:]...)
			for len(p.frames) < len(p.data) {
				p.frames = append(p.frames, s.frame)
			}
		}
	}
	// A byte is available once every earlier byte is: carry the latest frame forward.
	for i := 1; i < len(p.frames); i++ {
		if p.frames[i] < p.frames[i-1] {
			p.frames[i] = p.frames[i-1]
		}
	}
}
