package result

import "strconv"

// SOCKS is what a connection to a SOCKS proxy said before its tunnel (docs/report.md, "SOCKS"): the version the
// client spoke, what it asked for, how the proxy authenticated it and the proxy's reply to the request.
type SOCKS struct {
	Version string `json:"version"`           // "4", "4a" or "5"
	Command string `json:"command,omitempty"` // "connect", "bind" or "udp-associate"; empty when no request was read
	// Reply is the proxy's reply code: SOCKS5's REP (0 succeeded, 1..8 failures), SOCKS4's CD (90 granted,
	// 91..93 rejected). Nil when no reply was seen.
	Reply *int `json:"reply,omitempty"`
	// Auth is the SOCKS5 method the proxy chose: "none", "username" (RFC 1929), "gssapi", "no-acceptable" (it
	// accepted none of those offered), or "0x03"-style hex for the others. Empty for SOCKS4 and when unseen.
	Auth string `json:"auth,omitempty"`
}

// The reply codes that open the tunnel.
const (
	SOCKS5Succeeded = 0  // SOCKS5 REP: succeeded
	SOCKS4Granted   = 90 // SOCKS4 CD: request granted
)

// Refused reports whether the proxy answered the request with a failure code.
func (s *SOCKS) Refused() bool {
	return s != nil && s.Reply != nil && *s.Reply != SOCKS5Succeeded && *s.Reply != SOCKS4Granted
}

// RefusalReason is the sentence a refused request's reason gives, naming the reply: "the SOCKS proxy refused
// the request (reply 2: connection not allowed by ruleset)". Empty when the request was not refused.
func (s *SOCKS) RefusalReason() string {
	if !s.Refused() {
		return ""
	}
	text := socksReplyText(*s.Reply)
	if text != "" {
		text = ": " + text
	}
	return "the SOCKS proxy refused the request (reply " + strconv.Itoa(*s.Reply) + text + ")"
}

// socksReplyText is RFC 1928 section 6's words for a SOCKS5 REP, and the SOCKS4 protocol's for a CD. The two
// ranges do not overlap.
func socksReplyText(code int) string {
	switch code {
	case 1:
		return "general SOCKS server failure"
	case 2:
		return "connection not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	case 91:
		return "request rejected or failed"
	case 92:
		return "the proxy could not reach identd on the client"
	case 93:
		return "identd reported another user id"
	}
	return ""
}
