package analyze

import (
	"encoding/binary"
	"net/netip"

	"github.com/intunecap/intunecap/analyze/decode"
)

// flowKey identifies a connection independent of direction: the two endpoints are stored in a canonical order
// so that both directions of a connection find the same table entry. VLAN ids are part of it, as in Zeek: the
// same 5-tuple on two VLANs is two connections. It is packed into five words with no pointers, so the map
// hashes it with one fast pass: it is looked up for every packet. The network identifier of a VXLAN or GENEVE
// tunnel is part of it too (tunnel.go): two virtual networks may reuse the same addresses.
type flowKey struct {
	lo, hi [2]uint64 // addresses in 16-byte form (IPv4 as ::ffff:a.b.c.d), lo sorts first
	meta   uint64    // lo port 16 | hi port 16 | protocol 8 | outer VLAN 12 | inner VLAN 12
	tun    uint64    // tunnelKey: kind 32 | VNI 32, 0 when not in a VXLAN or GENEVE tunnel
}

// keyOf builds the canonical key of p and reports whether p travels from the lo endpoint to the hi endpoint.
func keyOf(p *decode.Packet) (k flowKey, fromLo bool) {
	src, dst := packetWords(p)
	fromLo = src[0] < dst[0] || src[0] == dst[0] && (src[1] < dst[1] || src[1] == dst[1] && p.SrcPort <= p.DstPort)
	loPort, hiPort := p.SrcPort, p.DstPort
	if fromLo {
		k.lo, k.hi = src, dst
	} else {
		k.lo, k.hi = dst, src
		loPort, hiPort = hiPort, loPort
	}
	k.meta = uint64(loPort)<<48 | uint64(hiPort)<<32 | uint64(p.IPProto)<<24 |
		uint64(p.VLAN[0]&0xfff)<<12 | uint64(p.VLAN[1]&0xfff)
	k.tun = tunnelKey(&p.Tunnel)
	return k, fromLo
}

// eq compares two keys word by word (== on the struct may call a memory compare).
func (k *flowKey) eq(o *flowKey) bool {
	return k.lo[0] == o.lo[0] && k.lo[1] == o.lo[1] && k.hi[0] == o.hi[0] && k.hi[1] == o.hi[1] && k.meta == o.meta &&
		k.tun == o.tun
}

// packetWords returns the packet's addresses as words, computing them for a packet the decoder did not make.
func packetWords(p *decode.Packet) (src, dst [2]uint64) {
	if p.SrcWords == ([2]uint64{}) && p.DstWords == ([2]uint64{}) {
		return addrWords(p.Src), addrWords(p.Dst)
	}
	return p.SrcWords, p.DstWords
}

func addrWords(a netip.Addr) [2]uint64 {
	b := a.As16()
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func wordsAddr(w [2]uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], w[0])
	binary.BigEndian.PutUint64(b[8:], w[1])
	return netip.AddrFrom16(b).Unmap()
}

// loPort and hiPort are the ports of the two endpoints.
func (k flowKey) loPort() uint16 { return uint16(k.meta >> 48) }
func (k flowKey) hiPort() uint16 { return uint16(k.meta >> 32) }

// loEnd and hiEnd are the two endpoints of the key.
func (k flowKey) loEnd() endpoint { return endpoint{wordsAddr(k.lo), uint16(k.meta >> 48)} }
func (k flowKey) hiEnd() endpoint { return endpoint{wordsAddr(k.hi), uint16(k.meta >> 32)} }

// proto is the IP protocol number.
func (k flowKey) proto() uint8 { return uint8(k.meta >> 24) }

// vlan is the outer and inner VLAN id (0 when untagged).
func (k flowKey) vlan() [2]uint16 {
	return [2]uint16{uint16(k.meta>>12) & 0xfff, uint16(k.meta) & 0xfff}
}

// withoutVLAN is the key with the VLAN ids cleared, to find a connection whose directions use different VLANs.
func (k flowKey) withoutVLAN() flowKey {
	k.meta &^= 0xffffff
	return k
}

// tagged reports whether the key carries a VLAN id.
func (k flowKey) tagged() bool { return k.meta&0xffffff != 0 }

// endpoint is one side of a connection.
type endpoint struct {
	addr netip.Addr
	port uint16
}
