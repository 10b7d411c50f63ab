package decode

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// extLayer skips IPv6 hop-by-hop (after the first), routing and destination-options headers without
// allocating, and bounds how many it follows.
type extLayer struct {
	layers.IPv6ExtensionSkipper
	n     int
	class gopacket.LayerClass
}

func (l *extLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if l.n++; l.n > maxExtHeaders {
		return ErrMalformed
	}
	return l.IPv6ExtensionSkipper.DecodeFromBytes(data, df)
}

func (l *extLayer) NextLayerType() gopacket.LayerType { return ipNext(l.NextHeader) }

// CanDecode leaves the fragment header to fragLayer.
func (l *extLayer) CanDecode() gopacket.LayerClass { return l.class }

// fragLayer is the IPv6 fragment header. A fragment stops the parser: the Decoder holds it for reassembly. An
// atomic fragment (offset 0, no more fragments; RFC 6946) is a whole datagram and the parser goes on.
type fragLayer struct {
	layers.IPv6Fragment
}

// fragmented tells a real fragment from an atomic one.
func (l *fragLayer) fragmented() bool { return l.FragmentOffset != 0 || l.MoreFragments }

func (l *fragLayer) NextLayerType() gopacket.LayerType {
	if l.fragmented() {
		return gopacket.LayerTypeZero
	}
	return ipNext(l.NextHeader)
}

// ipNext follows only what the parser registers after an IPv6 header: extension headers and tunnelled IP.
// Transport headers are decoded by the Decoder itself.
func ipNext(p layers.IPProtocol) gopacket.LayerType {
	switch p {
	case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination,
		layers.IPProtocolIPv6Fragment:
		return p.LayerType()
	}
	return gopacket.LayerTypeZero
}

// ip6Layer is IPv6 with ipNext: the transport layer is not left to the parser.
type ip6Layer struct{ layers.IPv6 }

func (l *ip6Layer) NextLayerType() gopacket.LayerType {
	if l.HopByHop != nil {
		return ipNext(l.HopByHop.NextHeader)
	}
	return ipNext(l.NextHeader)
}

// ip4Layer is IPv4 stopping at its payload: transport is decoded by the Decoder, fragments go to the
// defragmenter.
type ip4Layer struct{ layers.IPv4 }

func (l *ip4Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }
