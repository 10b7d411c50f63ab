package report

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// appendSafeJSON appends encoded JSON to dst with DEL and every non-printable rune (C1 controls, bidi overrides,
// zero-width characters) written as a \u escape. encoding/json already escapes C0 controls such as ESC; this
// covers the rest, so `cat report.jsonl` on a terminal is as safe as the text report, while any JSON decoder
// still reads back exactly the same strings. Such runes can only occur inside JSON strings, where \u is valid.
func appendSafeJSON(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0x7f {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if c != 0x7f && r != utf8.RuneError && strconv.IsPrint(r) {
			dst = append(dst, src[i:i+size]...)
		} else {
			dst = appendRuneEscape(dst, r)
		}
		i += size
	}
	return dst
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
