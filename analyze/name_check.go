package analyze

import (
	"strconv"
	"unicode/utf8"

	"github.com/intunecap/intunecap/internal/hostname"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Names read from a connection's own bytes (SNI, Host, CONNECT target) are the client's word, and a hostile
// client can send anything: bytes a rule pattern would match once printed ("line1\nFAIL: x.manage.microsoft.com"),
// or one spelling to the server and another to the capture (TCP retransmissions with different bytes). Such a
// name is never matched against the rules nor allowed silently.

// validHostName reports whether s is a host name a rule may be matched against (hostname.Valid, the test
// tlshello.Hello.SNIValid uses too).
func validHostName(s string) bool { return hostname.Valid(s) }

// fromPayload reports whether a name came from the connection's own bytes rather than from DNS.
func fromPayload(src result.NameSource) bool {
	return src == result.NameFromSNI || src == result.NameFromHTTPHost || src == result.NameFromConnect ||
		src == result.NameFromSOCKS
}

// escapeName writes a name that is not a host name so every byte of it can be read back: printable ASCII as
// is, a backslash as \\, anything else as \xNN.
func escapeName(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// invalidName gives a connection named by something that is not a host name verdict other, without asking the
// rules: the name is escaped and the reason says so. It reports whether it did.
func invalidName(r *result.Record) bool {
	if !fromPayload(r.NameSource) || validHostName(r.Name) {
		return false
	}
	what := "not a host name"
	if !utf8.ValidString(r.Name) {
		what = "not a host name (nor valid UTF-8)"
	}
	r.Name = escapeName(r.Name)
	r.DNSChain = nil
	r.Verdict, r.Stage = rules.Other, ""
	r.Reason = "the " + string(r.NameSource) + " name is " + what + " (" + strconv.Itoa(len(r.Name)) +
		" bytes as escaped); it was not matched against the rules"
	return true
}

// distrustOverlap marks a connection whose first bytes were resent with different contents: the name was read
// from the first copy (what most stacks deliver), but the server may have taken the other. Such a connection
// is never allowed on that name: an allowed verdict becomes other, with the reason.
func distrustOverlap(c *conn, r *result.Record) {
	if !c.overlapConflict {
		return
	}
	r.OverlapConflict = true
	if r.Verdict == rules.Allowed && fromPayload(r.NameSource) {
		r.Verdict, r.Stage = rules.Other, ""
		r.Reason = "TCP retransmissions carried different bytes where the name was read (the first copy was kept); " +
			"the server may have seen another name"
	}
}
