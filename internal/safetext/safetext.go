// Package safetext makes strings taken from packets and rule files safe to print on a terminal.
package safetext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text makes a string taken from a packet (an SNI, a Host header, a DNS name, a reason quoting one) safe to
// print on a terminal. A crafted name could otherwise carry escape sequences that rewrite the screen, or bidi
// overrides that make one name look like another. Control bytes and invalid UTF-8 become \xNN, non-printable
// runes \uNNNN or \UNNNNNNNN, and a backslash is doubled so the result stays unambiguous; ordinary names come
// back unchanged and without quotes. The escapes are Go's, so strconv.Unquote recovers the original.
// Markdown and HTML writers escape the result again for their own syntax.
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		writeSafeRune(&b, s[i], r, size)
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII without a backslash: the common case, returned as is.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// writeSafeRune writes one decoded rune escaped; c is its first byte, which is all an invalid sequence has.
func writeSafeRune(b *strings.Builder, c byte, r rune, size int) {
	switch {
	case size == 1 && (r == utf8.RuneError || r < 0x20 || r == 0x7f):
		b.WriteString(`\x`)
		writeHex(b, uint32(c), 2)
	case r == '\\':
		b.WriteString(`\\`)
	case strconv.IsPrint(r):
		b.WriteRune(r)
	case r <= 0xffff:
		b.WriteString(`\u`)
		writeHex(b, uint32(r), 4)
	default:
		b.WriteString(`\U`)
		writeHex(b, uint32(r), 8)
	}
}

// writeHex writes v as exactly n lower-case hex digits.
func writeHex(b *strings.Builder, v uint32, n int) {
	const hex = "0123456789abcdef"
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hex[(v>>uint(shift))&0xf])
	}
}
