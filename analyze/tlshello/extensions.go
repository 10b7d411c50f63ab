package tlshello

import (
	"errors"
	"fmt"

	"github.com/intunecap/intunecap/internal/hostname"
	"github.com/intunecap/intunecap/internal/tlsread"
)

// Extension numbers read by extract.
const (
	extServerName          = 0
	extSupportedGroups     = 10
	extECPointFormats      = 11
	extSignatureAlgorithms = 13
	extALPN                = 16
	extSupportedVersions   = 43
	extECH                 = 0xfe0d
)

// extract reads the fields Hello keeps from the handshake message msg (header included), checking each length
// against its container (RFC 8446 4.1.2).
func (h *Hello) extract(msg []byte) error {
	r := reader{B: msg[handshakeHeader:]}
	h.LegacyVersion = uint16(r.U16())
	r.Take(32) // random
	r.Vec8()   // legacy_session_id
	suites := r.Vec16()
	r.Vec8() // legacy_compression_methods
	if r.Err != nil {
		return fmt.Errorf("tls client hello fixed part: %w", r.Err)
	}
	if len(suites)%2 != 0 {
		return fmt.Errorf("tls client hello cipher suites: odd length %d", len(suites))
	}
	h.Ciphers = appendU16s(h.Ciphers, suites)
	if len(r.B) == 0 {
		return nil // no extensions: an old client
	}
	exts := reader{B: r.Vec16()}
	if r.Err != nil || len(r.B) != 0 {
		return fmt.Errorf("tls client hello extensions length: %w", tlsread.ErrShort)
	}
	for len(exts.B) > 0 {
		typ := exts.U16()
		data := exts.Vec16()
		if exts.Err != nil {
			return fmt.Errorf("tls extension %d: %w", typ, exts.Err)
		}
		h.Extensions = append(h.Extensions, uint16(typ))
		if err := h.extension(typ, data); err != nil {
			return fmt.Errorf("tls extension %d: %w", typ, err)
		}
	}
	return nil
}

func (h *Hello) extension(typ int, data []byte) error {
	r := reader{B: data}
	switch typ {
	case extServerName:
		h.serverName(&r)
	case extALPN:
		list := reader{B: r.Vec16()}
		for len(list.B) > 0 && list.Err == nil {
			h.ALPN = append(h.ALPN, protocol(list.Vec8()))
		}
		r.Err = errors.Join(r.Err, list.Err)
	case extSupportedVersions:
		list := reader{B: r.Vec8()}
		for len(list.B) > 0 && list.Err == nil {
			h.Versions = append(h.Versions, uint16(list.U16()))
		}
		r.Err = errors.Join(r.Err, list.Err)
	case extSupportedGroups:
		h.Groups, r.Err = u16List(h.Groups, r.Vec16(), r.Err)
	case extECPointFormats:
		h.PointFormats = append(h.PointFormats, r.Vec8()...)
	case extSignatureAlgorithms:
		h.SigAlgs, r.Err = u16List(h.SigAlgs, r.Vec16(), r.Err)
	case extECH:
		h.ECH = true
		return nil
	default:
		return nil
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = errors.New("bytes after the extension's content")
	}
	return r.Err
}

// u16List appends a vector of 16-bit values read with err: an odd length breaks the format.
func u16List(dst []uint16, list []byte, err error) ([]uint16, error) {
	if err == nil && len(list)%2 != 0 {
		return dst, errors.New("list of 16-bit values with an odd length")
	}
	return appendU16s(dst, list), err
}

// appendU16s appends the big-endian 16-bit values of b (of even length) to dst.
func appendU16s(dst []uint16, b []byte) []uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, be16(b[i:]))
	}
	return dst
}

// serverName keeps the first host_name entry (RFC 6066 3 allows one per type) and skips other types.
func (h *Hello) serverName(r *reader) {
	list := reader{B: r.Vec16()}
	for len(list.B) > 0 && list.Err == nil {
		typ := list.U8()
		name := list.Vec16()
		if typ == 0 && list.Err == nil && h.SNI == "" && len(name) > 0 {
			h.SNI, h.SNIValid = string(name), validHost(name)
		}
	}
	if list.Err != nil {
		r.Err = list.Err
	}
}

// protocol turns an ALPN id into a string without allocating for the common ones.
func protocol(b []byte) string {
	switch string(b) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "h3":
		return "h3"
	}
	return string(b)
}

// validHost reports whether name is a plausible DNS host name (hostname.Valid).
func validHost(name []byte) bool { return hostname.Valid(name) }

// reader is the shared reader of length-prefixed TLS fields.
type reader = tlsread.Reader
