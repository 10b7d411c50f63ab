package report

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// appendSafeJSON appends encoded JSON to dst with DEL and every non-printable rune (C1 controls, bidi overrides,
// zero-width characters) written as a \u escape. encoding/json already escapes C0 controls such as ESC; this
// covers the rest, so `cat report.jsonl` on a terminal is as safe as the text report, while any JSON decoder
// still reads back exactly the same strings. Such runes can only occur inside JSON strings, where \u is valid.
func appendSafeJSON(dst, src []byte) []byte {
	for len(src) > 0 {
		n := plainPrefix(src)
		dst = append(dst, src[:n]...)
		if src = src[n:]; len(src) == 0 {
			break
		}
		r, size := utf8.DecodeRune(src)
		if src[0] != 0x7f && r != utf8.RuneError && strconv.IsPrint(r) {
			dst = append(dst, src[:size]...)
		} else {
			dst = appendRuneEscape(dst, r)
		}
		src = src[size:]
	}
	return dst
}

// plainPrefix is the length of the run of bytes below 0x7f at the start of b, found eight bytes at a time: a
// byte of 0x7f or more has its top bit set in itself or in itself plus one (smaller bytes carry nothing over).
func plainPrefix(b []byte) int {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if w := binary.LittleEndian.Uint64(b[i:]); (w|(w+ones))&tops != 0 {
			break
		}
	}
	for i < len(b) && b[i] < 0x7f {
		i++
	}
	return i
}

// appendRuneEscape writes r as JSON \u escapes, a surrogate pair above the BMP.
func appendRuneEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return appendRuneEscape(appendRuneEscape(dst, hi), lo)
	}
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
