package tlshello

import (
	"errors"
	"fmt"

	"github.com/intunecap/intunecap/internal/hostname"
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

var errShort = errors.New("field runs past its container")

// reader consumes length-prefixed fields and fails, rather than panics, when a length runs past the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() int {
	if v := r.take(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (r *reader) u16() int {
	if v := r.take(2); v != nil {
		return int(be16(v))
	}
	return 0
}

// vec8 and vec16 read a vector with a 1- or 2-byte length.
func (r *reader) vec8() []byte  { return r.take(r.u8()) }
func (r *reader) vec16() []byte { return r.take(r.u16()) }

// extract reads the fields Hello keeps from the handshake message msg (header included), checking each length
// against its container (RFC 8446 4.1.2).
func (h *Hello) extract(msg []byte) error {
	r := reader{b: msg[handshakeHeader:]}
	h.LegacyVersion = uint16(r.u16())
	r.take(32) // random
	r.vec8()   // legacy_session_id
	suites := r.vec16()
	r.vec8() // legacy_compression_methods
	if r.err != nil {
		return fmt.Errorf("tls client hello fixed part: %w", r.err)
	}
	if len(suites)%2 != 0 {
		return fmt.Errorf("tls client hello cipher suites: odd length %d", len(suites))
	}
	h.Ciphers = appendU16s(h.Ciphers, suites)
	if len(r.b) == 0 {
		return nil // no extensions: an old client
	}
	exts := reader{b: r.vec16()}
	if r.err != nil || len(r.b) != 0 {
		return fmt.Errorf("tls client hello extensions length: %w", errShort)
	}
	for len(exts.b) > 0 {
		typ := exts.u16()
		data := exts.vec16()
		if exts.err != nil {
			return fmt.Errorf("tls extension %d: %w", typ, exts.err)
		}
		h.Extensions = append(h.Extensions, uint16(typ))
		if err := h.extension(typ, data); err != nil {
			return fmt.Errorf("tls extension %d: %w", typ, err)
		}
	}
	return nil
}

func (h *Hello) extension(typ int, data []byte) error {
	r := reader{b: data}
	switch typ {
	case extServerName:
		h.serverName(&r)
	case extALPN:
		list := reader{b: r.vec16()}
		for len(list.b) > 0 && list.err == nil {
			h.ALPN = append(h.ALPN, protocol(list.vec8()))
		}
		r.err = errors.Join(r.err, list.err)
	case extSupportedVersions:
		list := reader{b: r.vec8()}
		for len(list.b) > 0 && list.err == nil {
			h.Versions = append(h.Versions, uint16(list.u16()))
		}
		r.err = errors.Join(r.err, list.err)
	case extSupportedGroups:
		h.Groups, r.err = u16List(h.Groups, r.vec16(), r.err)
	case extECPointFormats:
		h.PointFormats = append(h.PointFormats, r.vec8()...)
	case extSignatureAlgorithms:
		h.SigAlgs, r.err = u16List(h.SigAlgs, r.vec16(), r.err)
	case extECH:
		h.ECH = true
		return nil
	default:
		return nil
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("bytes after the extension's content")
	}
	return r.err
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
	list := reader{b: r.vec16()}
	for len(list.b) > 0 && list.err == nil {
		typ := list.u8()
		name := list.vec16()
		if typ == 0 && list.err == nil && h.SNI == "" && len(name) > 0 {
			h.SNI, h.SNIValid = string(name), validHost(name)
		}
	}
	if list.err != nil {
		r.err = list.err
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
