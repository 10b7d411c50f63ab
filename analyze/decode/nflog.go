package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// nflogPayloadType is NFULA_PAYLOAD, the TLV holding the packet.
const nflogPayloadType = 9

// nflogLayer reads LINKTYPE_NFLOG (239): a 4-byte header (address family, version, resource id) then TLVs
// whose length and type are in the capturing host's byte order, each padded to 4 bytes. gopacket has no
// decoder for it.
type nflogLayer struct {
	next    gopacket.LayerType
	payload []byte
}

func (l *nflogLayer) CanDecode() gopacket.LayerClass    { return layerTypeNFLOG }
func (l *nflogLayer) NextLayerType() gopacket.LayerType { return l.next }
func (l *nflogLayer) LayerPayload() []byte              { return l.payload }

func (l *nflogLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return ErrTruncated
	}
	switch data[0] {
	case 2: // AF_INET
		l.next = layers.LayerTypeIPv4
	case 10: // AF_INET6
		l.next = layers.LayerTypeIPv6
	default:
		return ErrNotIP
	}
	for rest := data[4:]; len(rest) >= 4; {
		n, typ := nflogTLV(rest)
		if n < 4 || n > len(rest) {
			df.SetTruncated()
			return ErrTruncated
		}
		if typ == nflogPayloadType {
			l.payload = rest[4:n]
			return nil
		}
		n = (n + 3) &^ 3
		if n >= len(rest) {
			break
		}
		rest = rest[n:]
	}
	return ErrNotIP
}

// nflogTLV returns a TLV's length and type, guessing the host byte order: little-endian first (nearly every
// capturing host), big-endian when that length makes no sense.
func nflogTLV(b []byte) (n int, typ uint16) {
	n = int(binary.LittleEndian.Uint16(b[0:2]))
	typ = binary.LittleEndian.Uint16(b[2:4])
	if n < 4 || n > len(b) {
		n = int(binary.BigEndian.Uint16(b[0:2]))
		typ = binary.BigEndian.Uint16(b[2:4])
	}
	return n, typ & 0x3fff // the top bits are netlink flags
}
