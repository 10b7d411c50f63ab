package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/intunecap/intunecap/result"
)

// appendRecordJSON appends r as encoding/json encodes it (compact, HTML characters not escaped), field by
// field instead of through reflection: a record is written for every connection, thousands a second on a busy
// capture. TestRecordJSONMatchesEncodingJSON holds it to encoding/json's bytes for records with every field
// set at random. It reports false, having appended nothing, for a record encoding/json cannot encode either
// (a NaN or infinite duration), so that the caller's encoding/json call gives the error.
func appendRecordJSON(b []byte, r *result.Record) ([]byte, bool) {
	if math.IsNaN(r.Duration) || math.IsInf(r.Duration, 0) {
		return b, false
	}
	b = appendJSONString(append(b, `{"type":`...), r.Type)
	b = appendJSONString(append(b, `,"proto":`...), r.Proto)
	b = optString(b, `,"file":`, r.File)
	if len(r.VLAN) > 0 {
		b = append(b, `,"vlan":[`...)
		for i, v := range r.VLAN {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(v), 10)
		}
		b = append(b, ']')
	}
	b = appendJSONString(append(b, `,"client":`...), r.Client)
	b = strconv.AppendUint(append(b, `,"client_port":`...), uint64(r.ClientPort), 10)
	b = appendJSONString(append(b, `,"server":`...), r.Server)
	b = strconv.AppendUint(append(b, `,"server_port":`...), uint64(r.ServerPort), 10)
	b = strconv.AppendUint(append(b, `,"port":`...), uint64(r.Port), 10)
	b = optString(b, `,"name":`, r.Name)
	b = optString(b, `,"name_source":`, string(r.NameSource))
	if r.NameFrame != 0 {
		b = strconv.AppendUint(append(b, `,"name_frame":`...), r.NameFrame, 10)
	}
	if r.ViaProxy {
		b = append(b, `,"via_proxy":true`...)
	}
	if r.ProxyStatus != 0 {
		b = strconv.AppendInt(append(b, `,"proxy_status":`...), int64(r.ProxyStatus), 10)
	}
	b = optString(b, `,"proxy_auth":`, r.ProxyAuth)
	if r.ProxyVia {
		b = append(b, `,"proxy_via":true`...)
	}
	if s := r.SOCKS; s != nil {
		b = appendJSONString(append(b, `,"socks":{"version":`...), s.Version)
		b = optString(b, `,"command":`, s.Command)
		if s.Reply != nil {
			b = strconv.AppendInt(append(b, `,"reply":`...), int64(*s.Reply), 10)
		}
		b = append(optString(b, `,"auth":`, s.Auth), '}')
	}
	b = optStrings(b, `,"dns_chain":`, r.DNSChain)
	b = optString(b, `,"rule":`, r.Rule)
	b = optString(b, `,"rule_key":`, r.RuleKey)
	b = optString(b, `,"purpose":`, r.Purpose)
	b = appendJSONString(append(b, `,"transport":`...), string(r.Transport))
	if r.ECH {
		b = append(b, `,"ech":true`...)
	}
	b = optString(b, `,"quic_version":`, r.QUICVersion)
	b = optString(b, `,"history":`, r.History)
	b = appendJSONString(append(b, `,"state":`...), string(r.State))
	b = appendJSONString(append(b, `,"verdict":`...), string(r.Verdict))
	b = optString(b, `,"stage":`, string(r.Stage))
	b = optString(b, `,"reason":`, r.Reason)
	b = strconv.AppendUint(append(b, `,"first_frame":`...), r.FirstFrame, 10)
	b = strconv.AppendUint(append(b, `,"last_frame":`...), r.LastFrame, 10)
	if r.VerdictFrame != 0 {
		b = strconv.AppendUint(append(b, `,"verdict_frame":`...), r.VerdictFrame, 10)
	}
	b = optString(b, `,"display_filter":`, r.DisplayFilter)
	b = appendJSONString(append(b, `,"start":`...), r.Start)
	b = appendJSONFloat(append(b, `,"duration":`...), r.Duration)
	b = strconv.AppendInt(append(b, `,"packets":`...), int64(r.Packets), 10)
	b = strconv.AppendInt(append(b, `,"bytes":`...), r.Bytes, 10)
	if m := r.ICMP; m != nil {
		b = strconv.AppendInt(append(b, `,"icmp":{"type":`...), int64(m.Type), 10)
		b = strconv.AppendInt(append(b, `,"code":`...), int64(m.Code), 10)
		b = append(appendJSONString(append(b, `,"from":`...), m.From), '}')
	}
	b = optString(b, `,"tunnel":`, r.Tunnel)
	b = optString(b, `,"name_confidence":`, string(r.NameConfidence))
	b = optStrings(b, `,"name_candidates":`, r.NameCandidates)
	b = appendTLSJSON(b, r)
	b = optString(b, `,"qtype":`, r.QType)
	b = optString(b, `,"rcode":`, r.Rcode)
	b = optStrings(b, `,"answers":`, r.Answers)
	b = optStrings(b, `,"cnames":`, r.CNAMEs)
	b = optString(b, `,"warning":`, r.Warning)
	if r.OverlapConflict {
		b = append(b, `,"overlap_conflict":true`...)
	}
	return append(b, '}'), true
}

// appendTLSJSON appends the TLS fields, all omitempty.
func appendTLSJSON(b []byte, r *result.Record) []byte {
	b = optString(b, `,"tls_version":`, r.TLSVersion)
	b = optString(b, `,"tls_cipher":`, r.TLSCipher)
	b = optStrings(b, `,"alpn":`, r.ALPN)
	b = optString(b, `,"alpn_selected":`, r.ALPNSelected)
	b = optString(b, `,"tls_alert":`, r.TLSAlert)
	b = optString(b, `,"tls_alert_by":`, r.TLSAlertBy)
	b = optString(b, `,"ja4":`, r.JA4)
	b = optString(b, `,"ja4s":`, r.JA4S)
	b = optString(b, `,"ja3":`, r.JA3)
	b = optString(b, `,"ja3s":`, r.JA3S)
	b = optString(b, `,"cert_subject":`, r.CertSubject)
	b = optString(b, `,"cert_issuer":`, r.CertIssuer)
	b = optStrings(b, `,"cert_sans":`, r.CertSANs)
	b = optString(b, `,"cert_not_before":`, r.CertNotBefore)
	b = optString(b, `,"cert_not_after":`, r.CertNotAfter)
	b = optString(b, `,"cert_sha256":`, r.CertSHA256)
	b = optString(b, `,"cert_chain":`, r.CertChain)
	b = optString(b, `,"cert_root":`, r.CertRoot)
	return optString(b, `,"cert_root_store":`, string(r.CertRootStore))
}

// optString appends an omitempty string field.
func optString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

// optStrings appends an omitempty string array field.
func optStrings(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s quoted. Printable ASCII other than the quote and backslash is copied; a string with
// anything else (rare in names: escapes, invalid UTF-8, U+2028) is left to encoding/json, so the escaping is
// always exactly its own.
//
// A string that is not valid UTF-8 is not left to encoding/json, which would turn each bad byte into U+FFFD and
// lose it: it is first escaped reversibly (escapeInvalidUTF8), see docs/report.md.
func appendJSONString(b []byte, s string) []byte {
	if plainJSON(s) { // the common case, checked eight bytes at a time
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	if !utf8.ValidString(s) {
		s = escapeInvalidUTF8(s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			var q bytes.Buffer
			enc := json.NewEncoder(&q)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(q.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON reports whether every byte of s is printable ASCII other than the quote and the backslash: what
// JSON writes as it is. It reads eight bytes at a time (plainJSONWord); a tail shorter than eight is read as
// the last eight bytes of s, overlapping the word before, or byte by byte in a string shorter than eight.
func plainJSON(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainJSONWord(word(s, i)) {
			return false
		}
	}
	if i == len(s) {
		return true
	}
	if len(s) >= 8 {
		return plainJSONWord(word(s, len(s)-8))
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// word is the eight bytes of s from i, little-endian (the compiler reads them with one load).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainJSONWord reports whether none of the eight bytes of w is at or above 0x80, below 0x20, a quote or a
// backslash. Once no byte has its top bit set, (x - ones*n) &^ x & tops is nonzero exactly when some byte of x
// is below n (no borrow crosses a byte that is not), so each test is exact.
func plainJSONWord(w uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	below := func(x uint64, n uint64) uint64 { return (x - ones*n) &^ x & tops }
	return w&tops|below(w, 0x20)|below(w^(ones*'"'), 1)|below(w^(ones*'\\'), 1) == 0
}

// appendJSONFloat formats f as encoding/json does: like ES6 number to string, %f-style between 1e-6 and 1e21,
// exponent form outside with the exponent not padded.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// escapeInvalidUTF8 writes a string holding bytes that are not UTF-8 so that every byte can be read back: each
// such byte as the four characters \xNN (lower-case hex), each backslash doubled, valid characters as they are.
// The engine already escapes names from packets this way (with a reason saying so); this catches any other
// string field.
func escapeInvalidUTF8(s string) string {
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', "0123456789abcdef"[s[i]>>4], "0123456789abcdef"[s[i]&15])
		case s[i] == '\\':
			b = append(b, '\\', '\\')
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
