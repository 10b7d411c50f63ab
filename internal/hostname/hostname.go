// Package hostname tells whether bytes from a packet are a host name: what a rules matcher can compare and a
// terminal can show.
package hostname

// Valid reports whether name is a plausible DNS host name: dot-separated labels of ASCII letters, digits, '-'
// and '_' (as in real DNS names), 1–63 bytes each, at most 253 in all, no trailing dot. International names
// are valid in their punycode (xn--) form only.
func Valid[T ~string | ~[]byte](name T) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return label > 0
}
