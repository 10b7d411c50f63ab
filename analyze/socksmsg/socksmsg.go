// Package socksmsg reads the SOCKS messages at the start of a TCP connection to a SOCKS proxy: the client's
// SOCKS4 and SOCKS4a requests, its SOCKS5 greeting (RFC 1928), username/password sub-negotiation (RFC 1929)
// and request, and the proxy's answers to them. It reads byte slices as the engine reassembles them, never
// allocates, never reads past what it is given, and tells "need more bytes" apart from "not SOCKS".
//
// A SOCKS request names where the client wants to go (a host name or an address and a port); the proxy's reply
// says whether it opened the tunnel. Credentials are skipped over, never kept.
package socksmsg

import "fmt"

// Status of a stream's first bytes.
type Status int

// The outcomes of Sniff, ParseRequest and ParseReply.
const (
	NeedMore Status = iota // a valid start so far; call again with more bytes
	Complete               // parsed; the struct is filled
	Invalid                // the bytes break the protocol or one of its length caps
)

func (s Status) String() string {
	switch s {
	case NeedMore:
		return "need-more"
	case Complete:
		return "complete"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Version is the SOCKS version of a request.
type Version uint8

// The versions. SOCKS4a is SOCKS4 with a host name after the user id, flagged by the address 0.0.0.x (x != 0).
const (
	V4  Version = iota + 1 // SOCKS4: an IPv4 address target
	V4a                    // SOCKS4a: a host name target
	V5                     // SOCKS5 (RFC 1928)
)

// String is the version as the record's socks.version spells it: "4", "4a", "5".
func (v Version) String() string {
	switch v {
	case V4:
		return "4"
	case V4a:
		return "4a"
	case V5:
		return "5"
	}
	return ""
}

// Command is a request's CMD: what the client asks the proxy to do.
type Command uint8

// The commands of SOCKS4 (CONNECT and BIND) and SOCKS5 (also UDP ASSOCIATE), with their wire values.
const (
	Connect      Command = 1 // open a TCP connection to the target: the tunnel the engine reads
	Bind         Command = 2 // accept one inbound connection (FTP-style data channels)
	UDPAssociate Command = 3 // relay UDP datagrams (SOCKS5 only)
)

// Method values a SOCKS5 client offers and the proxy chooses (RFC 1928 section 3).
const (
	MethodNone         = 0x00 // no authentication
	MethodGSSAPI       = 0x01 // RFC 1961
	MethodUserPass     = 0x02 // RFC 1929 username/password
	MethodNoAcceptable = 0xFF // the proxy accepts none of the offered methods
)

// MaxName is the longest name field read: a SOCKS5 domain name (its length is one byte), and the cap on a
// SOCKS4 user id and SOCKS4a host name, which the protocol ends with a NUL instead of a length. A SOCKS4 field
// longer than this is Invalid.
const MaxName = 255

// MethodName spells a SOCKS5 method as the record's socks.auth does: "none", "gssapi", "username",
// "no-acceptable", and "0x03"-style hex for the others (IANA-assigned and private methods).
func MethodName(m uint8) string {
	switch m {
	case MethodNone:
		return "none"
	case MethodGSSAPI:
		return "gssapi"
	case MethodUserPass:
		return "username"
	case MethodNoAcceptable:
		return "no-acceptable"
	}
	const hex = "0123456789abcdef"
	return string([]byte{'0', 'x', hex[m>>4], hex[m&15]})
}
