package socksmsg

import "net/netip"

// Request is what a client's first bytes say. Fields are filled as far as they were read, whatever the status.
type Request struct {
	Version Version
	Command Command // 0 until the request itself was read
	// Offered lists, for SOCKS5, whether the greeting offered each method (indexed by method value in 0..9;
	// private methods 0x80-0xFE set Private instead).
	Offered  [10]bool
	Private  bool
	UserPass bool       // an RFC 1929 username/password sub-negotiation came before the request (not kept)
	Host     []byte     // a host-name target (SOCKS4a, SOCKS5 ATYP 3), aliasing the input
	Addr     netip.Addr // an address target (SOCKS4, SOCKS5 ATYP 1 and 4)
	Port     uint16
	Greeting int // SOCKS5: the length of the greeting (VER NMETHODS METHODS), once read
	Len      int // the length of the client's SOCKS messages through the request: the tunnel's bytes follow
}

// Sniff says whether a client stream starts like SOCKS, strictly enough that no TLS or HTTP stream and few
// others pass: for SOCKS5 a whole greeting (version 5, 1..255 methods, each a known or private method, none
// twice) followed by nothing yet, a request or a sub-negotiation for a method it offered; for SOCKS4 and 4a a
// whole CONNECT or BIND request with a non-zero port and a printable user id. It returns NeedMore while the
// stream is a valid prefix of that, Complete once it is whole, Invalid otherwise.
func Sniff(stream []byte) Status {
	var r Request
	st := ParseRequest(stream, &r)
	if st == NeedMore && r.Greeting != 0 {
		return Complete // a whole SOCKS5 greeting, and what follows it is valid so far
	}
	return st
}

// ParseRequest reads the client's SOCKS messages at the start of stream: a SOCKS4/4a request, or a SOCKS5
// greeting, the optional username/password sub-negotiation and the request. It returns NeedMore until the
// request is whole, Invalid for bytes that break the protocol (including a GSSAPI exchange, which it does not
// follow), and Complete with r filled.
func ParseRequest(stream []byte, r *Request) Status {
	*r = Request{}
	if len(stream) == 0 {
		return NeedMore
	}
	switch stream[0] {
	case 4:
		return parse4(stream, r)
	case 5:
		return parse5(stream, r)
	}
	return Invalid
}

// parse4 reads VN=4 CD DSTPORT DSTIP USERID NUL [HOST NUL].
func parse4(b []byte, r *Request) Status {
	r.Version = V4
	if len(b) < 2 {
		return NeedMore
	}
	if b[1] != byte(Connect) && b[1] != byte(Bind) {
		return Invalid
	}
	if len(b) < 8 {
		return NeedMore
	}
	r.Command, r.Port = Command(b[1]), uint16(b[2])<<8|uint16(b[3])
	if r.Port == 0 && r.Command == Connect {
		return Invalid
	}
	ip := [4]byte{b[4], b[5], b[6], b[7]}
	socks4a := ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0
	if !socks4a {
		r.Addr = netip.AddrFrom4(ip)
	}
	end, st := nulField(b, 8)
	if st != Complete {
		return st
	}
	for _, c := range b[8 : end-1] {
		if c < 0x20 || c > 0x7e {
			return Invalid
		}
	}
	if !socks4a {
		r.Len = end
		return Complete
	}
	r.Version = V4a
	hostEnd, st := nulField(b, end)
	if st != Complete {
		return st
	}
	if hostEnd-1 == end {
		return Invalid // an empty host name
	}
	r.Host, r.Len = b[end:hostEnd-1], hostEnd
	return Complete
}

// nulField finds the NUL that ends a field starting at off, within MaxName bytes. end is just past the NUL.
func nulField(b []byte, off int) (end int, st Status) {
	for i := off; i < len(b); i++ {
		if i-off > MaxName {
			return 0, Invalid
		}
		if b[i] == 0 {
			return i + 1, Complete
		}
	}
	if len(b)-off > MaxName {
		return 0, Invalid
	}
	return 0, NeedMore
}

// parse5 reads the greeting, then an RFC 1929 sub-negotiation if the client offered that method and sends one,
// then the request.
func parse5(b []byte, r *Request) Status {
	r.Version = V5
	if len(b) < 2 {
		return NeedMore
	}
	n := int(b[1])
	if n == 0 {
		return Invalid
	}
	for i := 2; i < len(b) && i < 2+n; i++ {
		switch m := b[i]; {
		case m < byte(len(r.Offered)):
			if r.Offered[m] {
				return Invalid // offered twice: no client does this
			}
			r.Offered[m] = true
		case m >= 0x80 && m != MethodNoAcceptable:
			r.Private = true
		default:
			return Invalid
		}
	}
	if len(b) < 2+n {
		return NeedMore
	}
	r.Greeting = 2 + n
	off := r.Greeting
	if off == len(b) {
		return NeedMore
	}
	if b[off] == 1 {
		if !r.Offered[MethodUserPass] {
			return Invalid // a GSSAPI message (RFC 1961), or not SOCKS
		}
		end, st := userPass(b, off)
		if st != Complete {
			return st
		}
		r.UserPass, off = true, end
	}
	return request5(b, off, r)
}

// userPass skips VER=1 ULEN UNAME PLEN PASSWD starting at off, returning where it ends.
func userPass(b []byte, off int) (int, Status) {
	i := off + 1
	for range 2 { // the user name, then the password: each a length byte and that many bytes
		if i >= len(b) {
			return 0, NeedMore
		}
		i += 1 + int(b[i])
	}
	if i > len(b) {
		return 0, NeedMore
	}
	return i, Complete
}

// request5 reads VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT starting at off.
func request5(b []byte, off int, r *Request) Status {
	h := b[off:]
	if len(h) >= 1 && h[0] != 5 || len(h) >= 2 && (h[1] < byte(Connect) || h[1] > byte(UDPAssociate)) ||
		len(h) >= 3 && h[2] != 0 {
		return Invalid
	}
	if len(h) < 5 {
		if len(h) == 4 && h[3] != 1 && h[3] != 3 && h[3] != 4 {
			return Invalid
		}
		return NeedMore
	}
	r.Command = Command(h[1])
	var addrLen, start int
	switch h[3] {
	case 1:
		addrLen, start = 4, 4
	case 3:
		if h[4] == 0 {
			return Invalid // an empty host name
		}
		addrLen, start = int(h[4]), 5
	case 4:
		addrLen, start = 16, 4
	default:
		return Invalid
	}
	end := start + addrLen + 2
	if len(h) < end {
		return NeedMore
	}
	a := h[start : start+addrLen]
	switch h[3] {
	case 1:
		r.Addr = netip.AddrFrom4([4]byte(a))
	case 3:
		r.Host = a
	case 4:
		r.Addr = netip.AddrFrom16([16]byte(a))
	}
	r.Port = uint16(h[end-2])<<8 | uint16(h[end-1])
	r.Len = off + end
	return Complete
}
