package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

// linkKind selects the parser for a link type; all parsers share the same layer structs.
type linkKind int

const (
	kindEthernet linkKind = iota
	kindSLL
	kindSLL2
	kindLoop
	kindRaw
	kindIPv4
	kindIPv6
	kindNFLOG
	kindMPLS // no link type: what GRE carries as 0x8847
	numKinds
)

// kindOf maps the link types we read. 12 and 14 are DLT_RAW values that some systems wrote into pcap files
// instead of LINKTYPE_RAW (101).
func kindOf(lt layers.LinkType) (linkKind, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return kindEthernet, true
	case layers.LinkTypeLinuxSLL:
		return kindSLL, true
	case layers.LinkTypeLinuxSLL2:
		return kindSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return kindLoop, true
	case layers.LinkTypeRaw, 12, 14:
		return kindRaw, true
	case layers.LinkTypeIPv4:
		return kindIPv4, true
	case layers.LinkTypeIPv6:
		return kindIPv6, true
	case 239: // LINKTYPE_NFLOG
		return kindNFLOG, true
	}
	return 0, false
}

func (k linkKind) first() gopacket.LayerType {
	switch k {
	case kindSLL:
		return layers.LayerTypeLinuxSLL
	case kindSLL2:
		return layers.LayerTypeLinuxSLL2
	case kindLoop:
		return layers.LayerTypeLoopback
	case kindRaw:
		return layerTypeRawIP
	case kindIPv4:
		return layers.LayerTypeIPv4
	case kindIPv6:
		return layers.LayerTypeIPv6
	case kindNFLOG:
		return layerTypeNFLOG
	case kindMPLS:
		return layerTypeMPLS
	}
	return layers.LayerTypeEthernet
}

// Decoder decodes frames without allocating on the normal path. Use one per goroutine and reuse it: its layer
// structs and fragment buffers carry over between packets.
type Decoder struct {
	eth   etherLayer
	vlan  vlanLayer
	sll   sllLayer
	sll2  sll2Layer
	loop  layers.Loopback
	raw   rawIPLayer
	nflog nflogLayer
	pppoe pppoeLayer
	ip4   ip4Layer
	ip6   ip6Layer
	ext   extLayer
	frag  fragLayer
	mpls  mplsLayer
	udp   layers.UDP
	depth int // tunnels unwrapped in the frame being decoded
	// unverifiable: the IP header being decoded makes its transport checksum unverifiable here (IPv6 extension
	// headers), so transport leaves Packet.Segment nil.
	unverifiable bool

	layers  gopacket.DecodingLayerContainer         // every layer above, for the parsers to share
	parsers [numKinds]*gopacket.DecodingLayerParser // per first layer, made on first use (parser)
	decoded []gopacket.LayerType
	defrag  defragmenter
}

// NewDecoder returns a Decoder; the zero Options give sensible memory bounds.
func NewDecoder(opts Options) *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 16)}
	d.ext.class = gopacket.NewLayerClass([]gopacket.LayerType{
		layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
	})
	d.defrag.opts = opts.withDefaults()
	// Most frames are Ethernet, IP and TCP: those come first in the array the parser searches. An array
	// (a few compares) beats the default map (a hash per layer) at this size.
	d.layers = gopacket.DecodingLayerArray(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.ip4, &d.ip6, &d.vlan, &d.sll2, &d.sll, &d.raw, &d.loop,
		&d.nflog, &d.pppoe, &d.ext, &d.frag, &d.mpls} {
		d.layers = d.layers.Put(l)
	}
	return d
}

// parser returns the layer parser for frames that begin with kind k's layer, made on first use: most
// decoders only ever see one link type, and most of their frames take the fast path (fast.go).
func (d *Decoder) parser(k linkKind) *gopacket.DecodingLayerParser {
	if p := d.parsers[k]; p != nil {
		return p
	}
	p := gopacket.NewDecodingLayerParser(k.first())
	p.SetDecodingLayerContainer(d.layers)
	p.IgnoreUnsupported = true
	d.parsers[k] = p
	return p
}

// Stats reports what happened to IPv4 and IPv6 fragments so far, and how many datagrams are incomplete now.
func (d *Decoder) Stats() Stats {
	st := d.defrag.stats
	st.Incomplete = uint64(d.defrag.incomplete())
	return st
}

// Decode fills p from f. The error says why the frame gives no packet: ErrLinkType, ErrNotIP, ErrTruncated,
// or an error wrapping ErrMalformed (which includes IPv4 and IPv6 fragments dropped as inconsistent, and
// tunnels nested too deep). A fragment held for reassembly gives no error and sets p.Fragment. Checksums are
// not verified here: captures taken on the sender with offload have bad ones, and those packets still happened.
// p.VerifyChecksums verifies them, for the packets a caller looks at closely.
func (d *Decoder) Decode(f *capture.Frame, p *Packet) error {
	if f.LinkType == layers.LinkTypeEthernet {
		if ok, err := d.decodeEthernetFast(f.Data, p); ok {
			return err
		}
	}
	return d.decodeLayers(f, p)
}

// decodeLayers decodes any frame with the layer parser.
func (d *Decoder) decodeLayers(f *capture.Frame, p *Packet) error {
	*p = Packet{}
	k, ok := kindOf(f.LinkType)
	if !ok {
		return ErrLinkType
	}
	d.vlan.reset()
	d.depth = 0
	return d.parse(k, f.Data, len(f.Data) < f.WireLen, f, p)
}

// parse decodes data, a frame or what a tunnel carries, from the layer k starts with; cut says the capture
// cut data short. The VLAN tags are the outermost frame's.
func (d *Decoder) parse(k linkKind, data []byte, cut bool, f *capture.Frame, p *Packet) error {
	d.ext.n = 0
	d.mpls.seen = false
	parser := d.parser(k)
	err := parser.DecodeLayers(data, &d.decoded)
	if d.depth == 0 {
		p.VLAN = d.vlan.ids
	}
	if err != nil {
		return classify(err, parser.Truncated || cut)
	}
	if d.mpls.seen {
		if err := d.enter(p, Tunnel{Kind: TunnelMPLS, ID: d.mpls.label, HasID: true}); err != nil {
			return err
		}
	}
	return d.network(f, p, parser.Truncated || cut)
}

// classify keeps our sentinel errors and turns a layer's complaint into ErrTruncated when the frame was cut,
// else into ErrMalformed with the detail.
func classify(err error, cut bool) error {
	switch {
	case errors.Is(err, ErrNotIP), errors.Is(err, ErrTruncated), errors.Is(err, ErrMalformed):
		return err
	case cut:
		return ErrTruncated
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// network finds the IP layer the parser stopped at and goes on to the transport header.
func (d *Decoder) network(f *capture.Frame, p *Packet, cut bool) error {
	n := len(d.decoded)
	for i := n - 1; i >= 0; i-- {
		switch d.decoded[i] {
		case layers.LayerTypeIPv4:
			return d.fromIPv4(f, p)
		case layers.LayerTypeIPv6:
			return d.fromIPv6(f, p, d.decoded[n-1])
		}
	}
	if cut || (n > 0 && d.wantedIP(d.decoded[n-1])) {
		return ErrTruncated // the frame ended where an IP header should begin
	}
	return ErrNotIP
}

// wantedIP tells whether the last decoded link layer announced IP, so that a frame ending there was cut.
func (d *Decoder) wantedIP(last gopacket.LayerType) bool {
	var next gopacket.LayerType
	switch last {
	case layers.LayerTypeEthernet:
		next = d.eth.NextLayerType()
	case layers.LayerTypeDot1Q:
		next = d.vlan.NextLayerType()
	case layers.LayerTypeLinuxSLL:
		next = d.sll.NextLayerType()
	case layers.LayerTypeLinuxSLL2:
		next = d.sll2.NextLayerType()
	case layers.LayerTypeLoopback:
		next = d.loop.NextLayerType()
	case layers.LayerTypePPPoE:
		next = d.pppoe.NextLayerType()
	case layerTypeNFLOG:
		next = d.nflog.NextLayerType()
	}
	return next == layers.LayerTypeIPv4 || next == layers.LayerTypeIPv6
}

func (d *Decoder) fromIPv4(f *capture.Frame, p *Packet) error {
	ip := &d.ip4.IPv4
	p.Src = netip.AddrFrom4([4]byte(ip.SrcIP))
	p.Dst = netip.AddrFrom4([4]byte(ip.DstIP))
	p.SrcWords = [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip.SrcIP))}
	p.DstWords = [2]uint64{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip.DstIP))}
	p.IPProto = uint8(ip.Protocol)
	p.IPID, p.HasIPID = ip.Id, true
	p.IPv4Header, d.unverifiable = ip.Contents, false
	seg, wire := ip.Payload, int(ip.Length)-int(ip.IHL)*4
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		if len(seg) < wire { // cut by snaplen: never reassembled, but a first fragment still has the ports
			if ip.FragOffset != 0 {
				return ErrTruncated
			}
			return d.upper(f, p, seg, wire)
		}
		whole, err := d.defrag.add(ip, f.Timestamp)
		if err != nil {
			return err
		}
		if whole == nil {
			p.Fragment = true
			return nil
		}
		seg, wire = whole.Payload, len(whole.Payload)
	}
	return d.upper(f, p, seg, wire)
}

func (d *Decoder) fromIPv6(f *capture.Frame, p *Packet, last gopacket.LayerType) error {
	ip := &d.ip6.IPv6
	p.Src = netip.AddrFrom16([16]byte(ip.SrcIP))
	p.Dst = netip.AddrFrom16([16]byte(ip.DstIP))
	p.SrcWords = [2]uint64{binary.BigEndian.Uint64(ip.SrcIP[:8]), binary.BigEndian.Uint64(ip.SrcIP[8:16])}
	p.DstWords = [2]uint64{binary.BigEndian.Uint64(ip.DstIP[:8]), binary.BigEndian.Uint64(ip.DstIP[8:16])}
	proto, seg, wire := ip.NextHeader, ip.Payload, int(ip.Length)
	p.IPv4Header, d.unverifiable = nil, d.ext.n > 0
	if ip.HopByHop != nil {
		proto, wire = ip.HopByHop.NextHeader, wire-ip.HopByHop.ActualLength
	}
	if ip.Length == 0 { // jumbogram: the hop-by-hop option gave the length, the payload is bounded by it
		wire = len(seg)
	}
	rest := seg
	switch last {
	case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
		proto, rest = d.ext.NextHeader, d.ext.Payload
	case layers.LayerTypeIPv6Fragment:
		proto, rest = d.frag.NextHeader, d.frag.Payload
		if d.frag.fragmented() {
			p.IPProto = uint8(proto)
			return d.fromIPv6Fragment(f, p, rest, wire-(len(seg)-len(rest)))
		}
	}
	p.IPProto = uint8(proto)
	return d.upper(f, p, rest, wire-(len(seg)-len(rest)))
}

// fromIPv6Fragment holds a fragment (the bytes after its fragment header, wire long on the wire) for
// reassembly and decodes the datagram it completes. A fragment cut by snaplen is never reassembled; a first
// one still gives its ports and the start of its payload, as with IPv4.
func (d *Decoder) fromIPv6Fragment(f *capture.Frame, p *Packet, rest []byte, wire int) error {
	fh := &d.frag
	if len(rest) < wire {
		if fh.FragmentOffset != 0 {
			return ErrTruncated
		}
		proto, body, _, ok := skipIPv6Ext(uint8(fh.NextHeader), rest, false)
		if !ok {
			return ErrTruncated
		}
		p.IPProto = proto
		return d.upper(f, p, body, wire-(len(rest)-len(body)))
	}
	key := frag6Key{[16]byte(d.ip6.SrcIP), [16]byte(d.ip6.DstIP), fh.Identification}
	whole, next, err := d.defrag.add6(key, int(fh.FragmentOffset)*8, fh.MoreFragments, uint8(fh.NextHeader), rest,
		f.Timestamp)
	if err != nil {
		return err
	}
	if whole == nil {
		p.Fragment = true
		return nil
	}
	proto, body, _, ok := skipIPv6Ext(next, whole, false)
	if !ok {
		return errIPv6FragHeaders
	}
	p.IPProto = proto
	return d.upper(f, p, body, len(body))
}
