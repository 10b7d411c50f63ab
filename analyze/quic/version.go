package quic

import "fmt"

// Version is the 32-bit QUIC version field of a long header.
type Version uint32

// The versions whose Initial packets this package decrypts, and the one that marks Version Negotiation.
const (
	VersionNegotiation Version = 0x00000000 // RFC 9000 17.2.1: not a version, the server's list of its versions
	Version1           Version = 0x00000001 // RFC 9000
	Version2           Version = 0x6b3343cf // RFC 9369
	VersionDraft29     Version = 0xff00001d // draft-ietf-quic-transport-29, deployed by Chrome and Facebook in 2020
)

// String spells the version as the quic_version field of a record does: "1", "2", "draft-29", else "0x%08x".
func (v Version) String() string {
	switch v {
	case Version1:
		return "1"
	case Version2:
		return "2"
	case VersionDraft29:
		return "draft-29"
	}
	return fmt.Sprintf("0x%08x", uint32(v))
}

// Decryptable reports whether this package knows the Initial salt and labels of v.
func (v Version) Decryptable() bool { return v.params() != nil }

// versionParams is what differs between the versions in Initial packet protection and long header types.
type versionParams struct {
	salt                        [20]byte
	keyLabel, ivLabel, hpLabel  string
	initial, zeroRTT, handshake byte // the two Long Packet Type bits of each packet type
	retry                       byte
}

var (
	// RFC 9001 5.2.
	paramsV1 = versionParams{
		salt:     [20]byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
		keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		initial: 0, zeroRTT: 1, handshake: 2, retry: 3,
	}
	// RFC 9369 3.2 and 3.3.
	paramsV2 = versionParams{
		salt:     [20]byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
		keyLabel: "quicv2 key", ivLabel: "quicv2 iv", hpLabel: "quicv2 hp",
		initial: 1, zeroRTT: 2, handshake: 3, retry: 0,
	}
	// draft-ietf-quic-tls-29 5.2; drafts 30 to 32 kept this salt and the v1 labels.
	paramsDraft29 = versionParams{
		salt:     [20]byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
		keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
		initial: 0, zeroRTT: 1, handshake: 2, retry: 3,
	}
)

// params returns the protection parameters of v, nil for a version this package cannot decrypt. Drafts 29 to
// 32 (0xff00001d-0xff000020) share draft-29's salt and labels.
func (v Version) params() *versionParams {
	switch {
	case v == Version1:
		return &paramsV1
	case v == Version2:
		return &paramsV2
	case v >= VersionDraft29 && v <= 0xff000020:
		return &paramsDraft29
	}
	return nil
}
