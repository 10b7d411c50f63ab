// Package fingerprint computes the TLS fingerprints security teams key on: FoxIO's JA4 (client) and JA4S
// (server), and Salesforce's JA3 (client) and JA3S (server), from the facts of a ClientHello or ServerHello.
// It parses nothing: callers fill ClientFacts (analyze/tlshello does) and ServerFacts from their parsers, with
// every list as sent on the wire, GREASE values (RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa) included. The functions
// never panic, whatever the facts hold, and build their output in small fixed buffers: they run once per
// connection.
//
// # JA4
//
// JA4 (technical_details/JA4.md of github.com/FoxIO-LLC/ja4) is three parts joined by '_', "a_b_c", for
// example t13d1516h2_8daaf6152771_e5627efa2ab1:
//
//   - a, 10 characters: the transport ('t' TLS over TCP, 'q' QUIC, 'd' DTLS); the version, the highest
//     non-GREASE value of supported_versions, or the legacy version when that list has no such value, as "13",
//     "12", "11", "10", "s3", "s2" (0x0002), "d1" (0xfeff), "d2" (0xfefd), "d3" (0xfefc), else "00"; 'd' when a
//     server_name extension (0x0000) is present, else 'i'; the number of cipher suites and of extensions, GREASE
//     not counted, two decimal digits capped at 99 (SNI and ALPN are counted); then two characters from the first
//     ALPN value: its first and last bytes when both are ASCII letters or digits, else the first and last
//     characters of the value's lower-case hex, "00" without ALPN or when the first value is empty (a value of
//     one byte gives that byte twice).
//   - b: the first 12 hex digits of the SHA-256 of the cipher suites without GREASE, sorted, as 4-digit
//     lower-case hex joined by ','; "000000000000" when there is none.
//   - c: the first 12 hex digits of the SHA-256 of the extension types without GREASE, server_name (0x0000)
//     and ALPN (0x0010), sorted, as 4-digit hex joined by ','; followed, when the hello has signature
//     algorithms, by '_' and those (GREASE removed) in the order sent; "000000000000" when the sorted extension
//     list is empty.
//
// JA4Raw returns the same with b and c unhashed (FoxIO's ja4_r). Where FoxIO's own implementations differ
// from the published text, the text wins: GREASE is removed from the signature algorithms too ("ignore GREASE
// values anywhere"), and a one-byte ALPN value gives that character twice.
//
// # JA4S
//
// JA4S (technical_details/JA4S.md) is "a_b_c": a is the transport, the version (selected_version of
// supported_versions, else the legacy version, mapped as for JA4), the number of extensions (GREASE not
// counted, capped at 99) and the two ALPN characters of the protocol the server selected; b the selected cipher
// suite as 4-digit hex; c the first 12 hex digits of the SHA-256 of the extension types in the order sent
// (4-digit hex joined by ','), "000000000000" when there is none. JA4SRaw leaves c unhashed (ja4s_r).
//
// # JA3 and JA3S
//
// JA3 is the lower-case hex MD5 of "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats":
// the legacy version, then each list as decimal values joined by '-', GREASE removed (an empty list is an
// empty field), for example "771,4865-4866,0-23-65281,29-23,0". JA3S is the MD5 of
// "SSLVersion,Cipher,Extensions" of the ServerHello, GREASE removed from the extensions. JA3Full and JA3SFull
// return the strings before hashing, as Wireshark's tls.handshake.ja3_full and ja3s_full do.
package fingerprint

// Transport is the first character of a JA4 or JA4S fingerprint: how the TLS handshake travelled.
type Transport byte

// The transports JA4 names. Any other value gets no fingerprint ("").
const (
	TCP  Transport = 't' // TLS over TCP
	QUIC Transport = 'q' // TLS inside QUIC CRYPTO frames
	DTLS Transport = 'd' // DTLS over UDP
)

func (t Transport) valid() bool { return t == TCP || t == QUIC || t == DTLS }

// ClientFacts is what JA4 and JA3 read from a ClientHello. Every list holds the values as sent, in the
// client's order, GREASE included; the functions drop GREASE themselves. The slices are only read.
type ClientFacts struct {
	LegacyVersion uint16   // client_version / legacy_version of the hello
	Ciphers       []uint16 // cipher_suites
	Extensions    []uint16 // extension types, server_name (0) and ALPN (16) included
	Groups        []uint16 // supported_groups (0x000a), JA3's EllipticCurves
	PointFormats  []uint8  // ec_point_formats (0x000b)
	SigAlgs       []uint16 // signature_algorithms (0x000d)
	Versions      []uint16 // supported_versions (0x002b); empty for a client that does not send it
	ALPN          []string // application_layer_protocol_negotiation values; JA4 reads the first
}

// ServerFacts is what JA4S and JA3S read from a ServerHello.
type ServerFacts struct {
	LegacyVersion   uint16   // legacy_version of the ServerHello (0x0303 for TLS 1.3)
	SelectedVersion uint16   // selected_version of supported_versions; 0 when the extension is absent
	Cipher          uint16   // the cipher suite the server selected
	Extensions      []uint16 // extension types in the order sent
	ALPN            string   // the protocol the server selected, "" when none
}

// IsGREASE reports whether v is one of the 16 reserved GREASE values of RFC 8701 (0x?a?a with equal bytes).
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }
