package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

const (
	extServerName = 0x0000
	extALPN       = 0x0010
	maxCount      = 99
	emptyHash     = "000000000000"
)

// scratch is the working space of one fingerprint: enough for every real hello without touching the heap
// (a larger one spills over, correctly, into a heap slice).
type scratch struct {
	nums [128]uint16
	text [1536]byte
	out  [96]byte
}

// JA4 returns the FoxIO JA4 fingerprint of a ClientHello sent over t, "" for an unknown transport.
func JA4(c ClientFacts, t Transport) string {
	var s scratch
	return string(s.ja4(c, t, true))
}

// JA4Raw returns the JA4 fingerprint with its cipher and extension parts unhashed (FoxIO's ja4_r), "" for
// an unknown transport.
func JA4Raw(c ClientFacts, t Transport) string {
	var s scratch
	return string(s.ja4(c, t, false))
}

func (s *scratch) ja4(c ClientFacts, t Transport, hashed bool) []byte {
	if !t.valid() {
		return nil
	}
	out := s.out[:0]
	out = append(out, byte(t))
	out = append(out, versionCode(clientVersion(c))...)
	out = append(out, sniCode(c.Extensions))
	out = appendCount(out, countNonGREASE(c.Ciphers))
	out = appendCount(out, countNonGREASE(c.Extensions))
	out = appendALPN(out, firstALPN(c.ALPN))

	ciphers := s.sorted(c.Ciphers, false)
	out = append(out, '_')
	out = appendPart(out, appendHexList(s.text[:0], ciphers), hashed)

	exts := s.sorted(c.Extensions, true)
	text := appendHexList(s.text[:0], exts)
	if hasNonGREASE(c.SigAlgs) {
		text = append(text, '_')
		text = appendHexList(text, c.SigAlgs)
	}
	out = append(out, '_')
	if len(exts) == 0 && hashed {
		return append(out, emptyHash...)
	}
	return appendPart(out, text, hashed)
}

// appendPart appends text itself, or the first 12 hex digits of its SHA-256 ("000000000000" for no text).
func appendPart(out, text []byte, hashed bool) []byte {
	if !hashed {
		return append(out, text...)
	}
	if len(text) == 0 {
		return append(out, emptyHash...)
	}
	sum := sha256.Sum256(text)
	return hex.AppendEncode(out, sum[:6])
}

// sorted returns vals without GREASE (and, for extensions, without server_name and ALPN), sorted.
func (s *scratch) sorted(vals []uint16, extensions bool) []uint16 {
	out := s.nums[:0]
	for _, v := range vals {
		if IsGREASE(v) || extensions && (v == extServerName || v == extALPN) {
			continue
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// clientVersion is the highest non-GREASE supported_versions value, else the legacy version.
func clientVersion(c ClientFacts) uint16 {
	best := uint16(0)
	found := false
	for _, v := range c.Versions {
		if !IsGREASE(v) && (!found || v > best) {
			best, found = v, true
		}
	}
	if found {
		return best
	}
	return c.LegacyVersion
}

// versionCode is JA4's two-character name of a protocol version.
func versionCode(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func sniCode(exts []uint16) byte {
	if slices.Contains(exts, extServerName) {
		return 'd'
	}
	return 'i'
}

func countNonGREASE(vals []uint16) int {
	n := 0
	for _, v := range vals {
		if !IsGREASE(v) {
			n++
		}
	}
	return n
}

func hasNonGREASE(vals []uint16) bool {
	return slices.ContainsFunc(vals, func(v uint16) bool { return !IsGREASE(v) })
}

// appendCount appends n as two decimal digits, capped at 99.
func appendCount(out []byte, n int) []byte {
	n = min(n, maxCount)
	return append(out, byte('0'+n/10), byte('0'+n%10))
}

func firstALPN(alpn []string) string {
	if len(alpn) == 0 {
		return ""
	}
	return alpn[0]
}

// appendALPN appends JA4's two characters for an ALPN value: its first and last bytes when both are ASCII
// letters or digits, else the first and last characters of its hex; "00" for none.
func appendALPN(out []byte, v string) []byte {
	if v == "" {
		return append(out, '0', '0')
	}
	first, last := v[0], v[len(v)-1]
	if alnum(first) && alnum(last) {
		return append(out, first, last)
	}
	const digits = "0123456789abcdef"
	return append(out, digits[first>>4], digits[last&0x0f])
}

func alnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
}

// appendHexList appends the non-GREASE values as 4-digit lower-case hex joined by ','.
func appendHexList(out []byte, vals []uint16) []byte {
	sep := false
	for _, v := range vals {
		if IsGREASE(v) {
			continue
		}
		if sep {
			out = append(out, ',')
		}
		out = appendHex4(out, v)
		sep = true
	}
	return out
}

// appendHex4 appends v as 4 lower-case hex digits.
func appendHex4(out []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(out, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

// JA4S returns the FoxIO JA4S fingerprint of a ServerHello sent over t, "" for an unknown transport.
func JA4S(s ServerFacts, t Transport) string {
	var sc scratch
	return string(sc.ja4s(s, t, true))
}

// JA4SRaw returns the JA4S fingerprint with its extension part unhashed (FoxIO's ja4s_r), "" for an
// unknown transport.
func JA4SRaw(s ServerFacts, t Transport) string {
	var sc scratch
	return string(sc.ja4s(s, t, false))
}

func (sc *scratch) ja4s(s ServerFacts, t Transport, hashed bool) []byte {
	if !t.valid() {
		return nil
	}
	v := s.LegacyVersion
	if s.SelectedVersion != 0 {
		v = s.SelectedVersion
	}
	out := sc.out[:0]
	out = append(out, byte(t))
	out = append(out, versionCode(v)...)
	out = appendCount(out, countNonGREASE(s.Extensions))
	out = appendALPN(out, s.ALPN)
	out = append(out, '_')
	out = appendHex4(out, s.Cipher)
	out = append(out, '_')
	return appendPart(out, appendHexList(sc.text[:0], s.Extensions), hashed)
}
