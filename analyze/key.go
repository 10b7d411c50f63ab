package analyze

import (
	"net/netip"

	"github.com/intunecap/intunecap/analyze/decode"
)

// flowKey identifies a connection independent of direction: the two endpoints are stored in a canonical order
// so that both directions of a connection find the same table entry. VLAN ids are part of it, as in Zeek: the
// same 5-tuple on two VLANs is two connections.
type flowKey struct {
	loAddr, hiAddr netip.Addr
	loPort, hiPort uint16
	proto          uint8
	vlan           [2]uint16
}

// keyOf builds the canonical key of p and reports whether p travels from the lo endpoint to the hi endpoint.
func keyOf(p *decode.Packet) (k flowKey, fromLo bool) {
	k.proto = p.IPProto
	k.vlan = p.VLAN
	c := p.Src.Compare(p.Dst)
	if c < 0 || (c == 0 && p.SrcPort <= p.DstPort) {
		k.loAddr, k.loPort, k.hiAddr, k.hiPort = p.Src, p.SrcPort, p.Dst, p.DstPort
		return k, true
	}
	k.loAddr, k.loPort, k.hiAddr, k.hiPort = p.Dst, p.DstPort, p.Src, p.SrcPort
	return k, false
}

// withoutVLAN is the key with the VLAN ids cleared, to find a connection whose directions use different VLANs.
func (k flowKey) withoutVLAN() flowKey {
	k.vlan = [2]uint16{}
	return k
}

// endpoint is one side of a connection.
type endpoint struct {
	addr netip.Addr
	port uint16
}

// hostKey pairs a client with a server address: the key of the DNS answer cache, which names a connection
// by what this same client resolved to reach that address.
type hostKey struct {
	client, server netip.Addr
}
