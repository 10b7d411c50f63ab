package socksmsg

// Reply is what the proxy's first bytes say. Fields are filled as far as they were read, whatever the status.
type Reply struct {
	// SOCKS5: the method the proxy chose (MethodNoAcceptable: none), once MethodSeen.
	Method     uint8
	MethodSeen bool
	// SOCKS5 username/password: the sub-negotiation's status (0 is success), once AuthSeen.
	AuthStatus uint8
	AuthSeen   bool
	// Code is the reply to the request, once Replied: SOCKS5's REP (0 succeeded, 1..8 failures) or SOCKS4's
	// CD (90 granted, 91..93 rejected).
	Code    uint8
	Replied bool
	Len     int // the length of the proxy's SOCKS messages through the last one read: the tunnel's bytes follow
}

// Succeeded reports whether the reply opened the tunnel.
func (r *Reply) Succeeded(v Version) bool {
	if !r.Replied {
		return false
	}
	if v == V5 {
		return r.Code == 0
	}
	return r.Code == 90
}

// ParseReply reads the proxy's answers to a client that spoke version v: for SOCKS5 the method choice, the
// username/password status when that method was chosen, then the reply to the request; for SOCKS4 and 4a the
// 8-byte reply. It returns Complete once the proxy has said all it says before the tunnel (the reply, or a
// refusal of every method or of the credentials, or a method this package does not follow: GSSAPI and private
// methods), NeedMore before that, and Invalid for bytes that are not a SOCKS answer.
func ParseReply(stream []byte, v Version, r *Reply) Status {
	*r = Reply{}
	if v != V5 {
		return reply4(stream, r)
	}
	if len(stream) < 2 {
		return needOr(stream, 5)
	}
	if stream[0] != 5 {
		return Invalid
	}
	r.Method, r.MethodSeen, r.Len = stream[1], true, 2
	switch r.Method {
	case MethodNone:
	case MethodUserPass:
		if len(stream) < 4 {
			return needOr(stream[2:], 1, 5)
		}
		if stream[2] != 1 && stream[2] != 5 { // RFC 1929 says 1; some proxies echo SOCKS's 5
			return Invalid
		}
		r.AuthStatus, r.AuthSeen, r.Len = stream[3], true, 4
		if r.AuthStatus != 0 {
			return Complete
		}
	default:
		return Complete
	}
	return reply5(stream, r)
}

// needOr is NeedMore when b is empty or starts with one of the versions, else Invalid.
func needOr(b []byte, versions ...byte) Status {
	if len(b) == 0 {
		return NeedMore
	}
	for _, v := range versions {
		if b[0] == v {
			return NeedMore
		}
	}
	return Invalid
}

// reply5 reads VER=5 REP RSV ATYP BND.ADDR BND.PORT after the method and authentication messages.
func reply5(stream []byte, r *Reply) Status {
	off := r.Len
	h := stream[off:]
	if len(h) >= 1 && h[0] != 5 || len(h) >= 2 && h[1] > 8 {
		return Invalid
	}
	if len(h) < 2 {
		return NeedMore
	}
	r.Code, r.Replied = h[1], true
	if len(h) < 4 {
		return NeedMore
	}
	var n int
	switch h[3] {
	case 1:
		n = 4 + 4 + 2
	case 3:
		if len(h) < 5 {
			return NeedMore
		}
		n = 5 + int(h[4]) + 2
	case 4:
		n = 4 + 16 + 2
	default:
		if r.Code != 0 {
			// Some proxies send a failure reply with a zeroed address type and nothing after: the code counts.
			r.Len = off + 4
			return Complete
		}
		return Invalid
	}
	if len(h) < n {
		return NeedMore
	}
	r.Len = off + n
	return Complete
}

// reply4 reads VN=0 CD DSTPORT DSTIP.
func reply4(stream []byte, r *Reply) Status {
	if len(stream) >= 1 && stream[0] != 0 && stream[0] != 4 {
		return Invalid
	}
	if len(stream) >= 2 && (stream[1] < 90 || stream[1] > 93) {
		return Invalid
	}
	if len(stream) < 2 {
		return NeedMore
	}
	r.Code, r.Replied = stream[1], true
	if len(stream) < 8 {
		return NeedMore
	}
	r.Len = 8
	return Complete
}
