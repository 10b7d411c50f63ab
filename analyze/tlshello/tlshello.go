// Package tlshello finds the server name and the other facts intunecap keeps from a TLS ClientHello, in the first
// bytes a client sends on a TCP connection. It accepts hellos split over several TCP segments and over several
// TLS records (handshake fragmentation), tells "need more bytes" apart from "not TLS", and never panics.
package tlshello

import (
	"errors"
	"fmt"

	"github.com/dreadl0ck/tlsx"
)

// Status of a client's first bytes.
type Status int

// The outcomes of Parse.
const (
	NeedMore  Status = iota // the bytes so far are a valid start of a ClientHello; call again with more
	NotTLS                  // the first bytes cannot start a TLS handshake record
	Complete                // the whole ClientHello was parsed into the Hello
	Malformed               // TLS-looking bytes that break the format or the size limits
)

func (s Status) String() string {
	switch s {
	case NeedMore:
		return "need-more"
	case NotTLS:
		return "not-tls"
	case Complete:
		return "complete"
	case Malformed:
		return "malformed"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

const (
	// MaxHello is the largest ClientHello handshake message accepted, its 4-byte header included. Real hellos
	// are 0.2–2 KB (post-quantum key shares make ~1.8 KB); 16 KiB leaves room for the padded 11 KB ones seen in
	// the wild and bounds what the engine must buffer per connection.
	MaxHello = 16 << 10
	// MaxStream is what the engine must be ready to buffer: MaxHello plus 5-byte record headers for a hello
	// fragmented over many records. Parse never asks for more, and reports Malformed instead.
	MaxStream = MaxHello + 1024

	recordHeader    = 5
	handshakeHeader = 4
	maxRecord       = 1 << 14 // RFC 8446 5.1: TLSPlaintext.length
)

// Hello is what the engine keeps from a ClientHello. Parse reuses its slices and buffer: copy ALPN, Versions,
// Ciphers, Extensions, Groups, PointFormats and SigAlgs to keep them past the next Parse (the strings are safe
// to keep). The lists hold the values as sent, GREASE (RFC 8701) included and in the client's order: they are
// what TLS fingerprints (JA3, JA4) are computed from. Each is bounded by MaxHello.
type Hello struct {
	// SNI is the first host_name of the server_name extension exactly as sent, "" if absent. It can hold any
	// bytes: check SNIValid, and escape it before printing when it is false.
	SNI string
	// SNIValid reports that SNI is a plausible DNS host name (labels of letters, digits, '-' or '_', 1–63
	// bytes each, at most 253 in all, no trailing dot), so it is safe to print and sensible to match.
	SNIValid bool
	ALPN     []string // application_layer_protocol_negotiation, in the client's order
	Versions []uint16 // supported_versions as sent, GREASE values included; empty for a TLS 1.2-only client
	// ECH reports an encrypted_client_hello (0xfe0d) extension; SNI is then the outer, public name (or a GREASE
	// decoy's real name: a client cannot be told apart from one that only greases ECH).
	ECH     bool
	Length  int // handshake message body length, as in its header (tshark's tls.handshake.length)
	Records int // TLS records that carried the hello: more than 1 means handshake fragmentation

	LegacyVersion uint16   // client_version / legacy_version (0x0303 for TLS 1.2 and 1.3 clients)
	Ciphers       []uint16 // cipher_suites
	Extensions    []uint16 // extension types; an extension sent twice is listed twice
	Groups        []uint16 // supported_groups (0x000a), née elliptic_curves
	PointFormats  []uint8  // ec_point_formats (0x000b)
	SigAlgs       []uint16 // signature_algorithms (0x000d)

	buf []byte // reassembly space: a synthetic record header followed by the handshake message
}

// Parse looks at the start of a client->server TCP byte stream. It returns NeedMore, with how many bytes in
// total it needs before a new call can make progress (never more than MaxStream), until the whole ClientHello
// handshake message is present, even when that message spans several TLS records; NotTLS when the first bytes
// cannot be a TLS handshake record; Complete with h filled; or Malformed with the reason. Bytes after the
// ClientHello are ignored.
func Parse(stream []byte, h *Hello) (Status, int, error) {
	h.resetLists()
	if st := sniff(stream); st != NeedMore {
		return st, 0, nil
	}
	if len(stream) < recordHeader {
		return NeedMore, recordHeader, nil
	}
	record, st, need, err := h.reassemble(stream)
	if st != Complete {
		return st, need, err
	}
	if err := checkTLSX(record); err != nil {
		return Malformed, 0, err
	}
	if err := h.extract(record[recordHeader:]); err != nil {
		return Malformed, 0, err
	}
	return Complete, 0, nil
}

// resetLists empties h for a new parse, keeping the capacity of its slices and buffer.
func (h *Hello) resetLists() {
	*h = Hello{ALPN: h.ALPN[:0], Versions: h.Versions[:0], Ciphers: h.Ciphers[:0], Extensions: h.Extensions[:0],
		Groups: h.Groups[:0], PointFormats: h.PointFormats[:0], SigAlgs: h.SigAlgs[:0], buf: h.buf}
}

// sniff decides from the first up to 3 bytes: a handshake record (22) of SSL 3.0 to TLS 1.3 record version.
func sniff(b []byte) Status {
	switch {
	case len(b) > 0 && b[0] != 22:
		return NotTLS
	case len(b) > 1 && b[1] != 3:
		return NotTLS
	case len(b) > 2 && b[2] > 4:
		return NotTLS
	}
	return NeedMore
}

// reassemble walks the records at the start of stream and gathers the handshake message. It returns one
// record holding exactly the ClientHello, for tlsx: a slice of stream when the hello sat alone in one record,
// else a synthetic record in h.buf.
func (h *Hello) reassemble(stream []byte) ([]byte, Status, int, error) {
	hs := h.buf[:0]
	if cap(hs) < recordHeader {
		hs = make([]byte, 0, 2048)
	}
	hs = append(hs, stream[:recordHeader]...) // header placeholder, rewritten below
	for off := 0; ; {
		if off+recordHeader > len(stream) {
			h.buf = hs
			return nil, NeedMore, off + recordHeader, nil
		}
		recLen, err := recordAt(stream, off)
		if err != nil {
			return nil, Malformed, 0, err
		}
		h.Records++
		before := len(hs) - recordHeader
		end := off + recordHeader + recLen
		hs = append(hs, stream[off+recordHeader:min(end, len(stream))]...)
		msg := hs[recordHeader:]
		want, err := wantLen(msg)
		if err != nil {
			return nil, Malformed, 0, err
		}
		if want > 0 && len(msg) >= want {
			h.buf, h.Length = hs, want-handshakeHeader
			return h.record(stream, hs, want, recLen), Complete, 0, nil
		}
		if end > len(stream) {
			h.buf = hs
			return needMore(off, before, want, end)
		}
		off = end
	}
}

// recordAt checks the record header at off, which must be a handshake record inside a ClientHello.
func recordAt(stream []byte, off int) (int, error) {
	if st := sniff(stream[off:]); st != NeedMore {
		return 0, fmt.Errorf("tls record at %d: type %d version %#04x inside a client hello", off, stream[off], be16(stream[off+1:]))
	}
	n := int(be16(stream[off+3:]))
	if n == 0 || n > maxRecord {
		return 0, fmt.Errorf("tls record at %d: length %d", off, n)
	}
	return n, nil
}

// wantLen returns the full length of the handshake message once its header is known, 0 before.
func wantLen(msg []byte) (int, error) {
	if len(msg) > 0 && msg[0] != 1 {
		return 0, fmt.Errorf("tls handshake type %d, not client_hello", msg[0])
	}
	if len(msg) < handshakeHeader {
		return 0, nil
	}
	n := handshakeHeader + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
	if n > MaxHello {
		return 0, fmt.Errorf("tls client hello of %d bytes, more than %d", n, MaxHello)
	}
	return n, nil
}

// needMore computes the stream length at which the record at off has delivered what the hello still lacks.
func needMore(off, before, want, end int) ([]byte, Status, int, error) {
	if want == 0 {
		want = handshakeHeader
	}
	need := min(end, off+recordHeader+want-before)
	if need > MaxStream {
		return nil, Malformed, 0, fmt.Errorf("tls client hello needs %d bytes of stream, more than %d", need, MaxStream)
	}
	return nil, NeedMore, need, nil
}

// record returns one whole record holding just the hello, with its capacity cut so no reader can see past it.
func (h *Hello) record(stream, hs []byte, want, recLen int) []byte {
	n := recordHeader + want
	if h.Records == 1 && recLen == want {
		return stream[:n:n]
	}
	hs[0], hs[1], hs[2] = stream[0], stream[1], stream[2]
	hs[3], hs[4] = byte(want>>8), byte(want)
	return hs[:n:n]
}

// checkTLSX runs dreadl0ck/tlsx over the record as a second opinion on the hello's structure. tlsx slices
// without checking in places (its SNI loop trusts nameLen before skipping the 3-byte entry header), so a panic
// is turned into an error, and the fields intunecap keeps are read by extract, which checks every length.
func checkTLSX(record []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse tls client hello: %w (recovered: %v)", errTLSX, r)
		}
	}()
	var ch tlsx.ClientHelloBasic
	if e := ch.Unmarshal(record); e != nil {
		return fmt.Errorf("parse tls client hello: %w", e)
	}
	return nil
}

var errTLSX = errors.New("tlsx failed")

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
