package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
)

// JA3 returns the JA3 fingerprint of a ClientHello: the lower-case hex MD5 of JA3Full.
func JA3(c ClientFacts) string {
	var s scratch
	return md5Hex(s.ja3(c))
}

// JA3Full returns the JA3 string before hashing: "SSLVersion,Ciphers,Extensions,EllipticCurves,
// EllipticCurvePointFormats", decimal values joined by '-', GREASE removed.
func JA3Full(c ClientFacts) string {
	var s scratch
	return string(s.ja3(c))
}

func (s *scratch) ja3(c ClientFacts) []byte {
	out := strconv.AppendUint(s.text[:0], uint64(c.LegacyVersion), 10)
	out = append(out, ',')
	out = appendDecList(out, c.Ciphers)
	out = append(out, ',')
	out = appendDecList(out, c.Extensions)
	out = append(out, ',')
	out = appendDecList(out, c.Groups)
	out = append(out, ',')
	for i, f := range c.PointFormats {
		if i > 0 {
			out = append(out, '-')
		}
		out = strconv.AppendUint(out, uint64(f), 10)
	}
	return out
}

// JA3S returns the JA3S fingerprint of a ServerHello: the lower-case hex MD5 of JA3SFull.
func JA3S(s ServerFacts) string {
	var sc scratch
	return md5Hex(sc.ja3s(s))
}

// JA3SFull returns the JA3S string before hashing: "SSLVersion,Cipher,Extensions", decimal, extensions
// joined by '-' with GREASE removed.
func JA3SFull(s ServerFacts) string {
	var sc scratch
	return string(sc.ja3s(s))
}

func (sc *scratch) ja3s(s ServerFacts) []byte {
	out := strconv.AppendUint(sc.text[:0], uint64(s.LegacyVersion), 10)
	out = append(out, ',')
	out = strconv.AppendUint(out, uint64(s.Cipher), 10)
	out = append(out, ',')
	return appendDecList(out, s.Extensions)
}

// appendDecList appends the non-GREASE values in decimal joined by '-'.
func appendDecList(out []byte, vals []uint16) []byte {
	sep := false
	for _, v := range vals {
		if IsGREASE(v) {
			continue
		}
		if sep {
			out = append(out, '-')
		}
		out = strconv.AppendUint(out, uint64(v), 10)
		sep = true
	}
	return out
}

func md5Hex(text []byte) string {
	sum := md5.Sum(text)
	var buf [2 * md5.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}
