package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Layer types of the decoding layers gopacket lacks. They are deliberately not registered with gopacket
// (registration is global state); DecodingLayerParser only needs them as map keys.
const (
	layerTypeRawIP gopacket.LayerType = 1<<20 + iota
	layerTypeNFLOG
	layerTypeMPLS
)

// Limits on repeated headers, so a hostile frame of stacked tags cannot make the parser loop for long.
const (
	maxVLANTags   = 8
	maxExtHeaders = 16
)

// etherNext maps an EtherType to the next decoding layer: only what leads to IP is followed (MPLS included). Besides 802.1Q
// (0x8100) and 802.1ad (0x88a8), the pre-standard QinQ tags 0x9100/0x9200/0x9300 are accepted.
func etherNext(t layers.EthernetType) gopacket.LayerType {
	switch t {
	case layers.EthernetTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.EthernetTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200, 0x9300:
		return layers.LayerTypeDot1Q
	case layers.EthernetTypePPPoESession:
		return layers.LayerTypePPPoE
	case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		return layerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

// etherLayer is Ethernet with etherNext's wider idea of what follows.
type etherLayer struct{ layers.Ethernet }

func (l *etherLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EthernetType) }

// sllLayer is Linux cooked capture v1 (tcpdump -i any).
type sllLayer struct{ layers.LinuxSLL }

func (l *sllLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EthernetType) }

// sll2Layer is Linux cooked capture v2.
type sll2Layer struct{ layers.LinuxSLL2 }

func (l *sll2Layer) NextLayerType() gopacket.LayerType { return etherNext(l.ProtocolType) }

// vlanLayer records each 802.1Q tag it decodes: the parser reuses one struct for stacked tags, so the outer id
// would otherwise be lost, and VLAN ids are part of the flow key.
type vlanLayer struct {
	layers.Dot1Q
	ids [2]uint16
	n   int
}

func (l *vlanLayer) reset() { l.ids, l.n = [2]uint16{}, 0 }

func (l *vlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if l.n >= maxVLANTags {
		return ErrNotIP
	}
	if err := l.Dot1Q.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if l.n < len(l.ids) {
		l.ids[l.n] = l.VLANIdentifier
	}
	l.n++
	return nil
}

func (l *vlanLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Type) }

// pppoeLayer is a PPPoE session frame with its PPP protocol field (gopacket's PPPoE and PPP layers are not
// DecodingLayers).
type pppoeLayer struct {
	next    gopacket.LayerType
	payload []byte
}

func (l *pppoeLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (l *pppoeLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *pppoeLayer) LayerPayload() []byte              { return l.payload }

func (l *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return ErrTruncated
	}
	if data[0] != 0x11 || data[1] != 0 { // version 1 type 1, code 0 = session data
		return ErrNotIP
	}
	end := 6 + int(binary.BigEndian.Uint16(data[4:6]))
	if end < 8 {
		return ErrMalformed
	}
	if end > len(data) {
		df.SetTruncated()
		end = len(data)
	}
	switch binary.BigEndian.Uint16(data[6:8]) {
	case 0x0021:
		l.next = layers.LayerTypeIPv4
	case 0x0057:
		l.next = layers.LayerTypeIPv6
	default:
		l.next = gopacket.LayerTypeZero
	}
	l.payload = data[8:end]
	return nil
}

// rawIPLayer reads the IP version nibble, for link types that carry bare IPv4 or IPv6.
type rawIPLayer struct {
	next    gopacket.LayerType
	payload []byte
}

func (l *rawIPLayer) CanDecode() gopacket.LayerClass    { return layerTypeRawIP }
func (l *rawIPLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *rawIPLayer) LayerPayload() []byte              { return l.payload }

func (l *rawIPLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) == 0 {
		df.SetTruncated()
		return ErrTruncated
	}
	switch data[0] >> 4 {
	case 4:
		l.next = layers.LayerTypeIPv4
	case 6:
		l.next = layers.LayerTypeIPv6
	default:
		return ErrNotIP
	}
	l.payload = data
	return nil
}
