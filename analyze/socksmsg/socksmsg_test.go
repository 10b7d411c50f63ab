package socksmsg

import (
	"encoding/hex"
	"strings"
	"testing"
)

// The streams below are real bytes: curl 7.88 against dante 1.4 (testdata/pcaps/socks.pcap, frames named), and
// an IPv6 SOCKS5 exchange from nDPI's tls_heur__shadowsocks-tcp.pcapng (shared capture
// ndpi-sll-pcapng-shadowsocks-ipv6.pcapng, frames 4-13). The others are built from RFC 1928/1929 and the
// SOCKS4/4a protocol texts, as noted.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	// curl --socks5-hostname: greeting (frame 6) and request (frame 10) for enrollment.manage.microsoft.com:443.
	curl5Greeting = "05 02 00 01"
	curl5Request  = "05 01 00 03 1f 656e726f6c6c6d656e742e6d616e6167652e6d6963726f736f66742e636f6d 01bb"
	// dante's method choice (frame 8) and reply (frame 12): succeeded, bound to 198.18.0.1:46146.
	dante5Method = "05 00"
	dante5Reply  = "05 00 00 01 c6120001 b442"
	// curl --socks5 with an address (frame 52): 198.18.1.20:80.
	curl5IPv4 = "05 01 00 01 c6120114 0050"
	// curl --socks4 (frame 62): 198.18.1.13:443, empty user id; dante's reply (frame 64): granted.
	curl4Request = "04 01 01bb c612010d 00"
	dante4Reply  = "00 5a e448 c6120001"
	// dante refusing wustat.microsoft.com:443 by its socks block rule (frame 84): REP 2.
	dante5Refused = "05 02 00 03 14 7775737461742e6d6963726f736f66742e636f6d 01bb"
	// nDPI: a SOCKS5 CONNECT to [2a00:1450:4002:416::200e]:443 and its reply.
	ndpi5IPv6Request = "05 01 00 04 2a00145040020416000000000000200e 01bb"
	ndpi5IPv6Reply   = "05 00 00 01 7f000001 0438"
	// RFC 1929: username "intune", password "s3cret!" after the greeting offered method 2.
	userPassGreeting = "05 02 00 02"
	userPassMsg      = "01 06 696e74756e65 07 73336372657421"
	// SOCKS4a: 0.0.0.1 then user "bob" and the host name.
	socks4aRequest = "04 01 01bb 00000001 626f6200 656e726f6c6c6d656e742e6d616e6167652e6d6963726f736f66742e636f6d 00"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name        string
		stream      string
		st          Status
		version     Version
		cmd         Command
		host        string
		addr        string
		port        uint16
		userPassMsg bool
		len         int // 0: the whole stream
	}{
		{"curl socks5-hostname", curl5Greeting + curl5Request, Complete, V5, Connect, "enrollment.manage.microsoft.com", "", 443, false, 0},
		{"curl socks5-hostname, tunnel bytes follow", curl5Greeting + curl5Request + "16 0301", Complete, V5, Connect, "enrollment.manage.microsoft.com", "", 443, false, 42},
		{"curl socks5 address", curl5Greeting + curl5IPv4, Complete, V5, Connect, "", "198.18.1.20", 80, false, 0},
		{"ndpi socks5 IPv6", "05020001" + ndpi5IPv6Request, Complete, V5, Connect, "", "2a00:1450:4002:416::200e", 443, false, 0},
		{"curl socks4", curl4Request, Complete, V4, Connect, "", "198.18.1.13", 443, false, 0},
		{"socks4a", socks4aRequest, Complete, V4a, Connect, "enrollment.manage.microsoft.com", "", 443, false, 0},
		{"username and password", userPassGreeting + userPassMsg + curl5Request, Complete, V5, Connect, "enrollment.manage.microsoft.com", "", 443, true, 0},
		{"bind", "050100 05020001 c6120114 0050", Complete, V5, Bind, "", "198.18.1.20", 80, false, 0},
		{"udp associate", "050100 05030001 00000000 0000", Complete, V5, UDPAssociate, "", "0.0.0.0", 0, false, 0},
		{"greeting only", curl5Greeting, NeedMore, V5, 0, "", "", 0, false, -1},
		{"request cut in the host", curl5Greeting + "05010003 1f 656e726f6c6c", NeedMore, V5, 0, "", "", 0, false, -1},
		{"zero methods", "0500", Invalid, V5, 0, "", "", 0, false, -1},
		{"method offered twice", "05020000", Invalid, V5, 0, "", "", 0, false, -1},
		{"no-acceptable offered", "0501ff", Invalid, V5, 0, "", "", 0, false, -1},
		{"unassigned method", "050140", Invalid, V5, 0, "", "", 0, false, -1},
		{"sub-negotiation without offering it", curl5Greeting + "01 01 61 01 62", Invalid, V5, 0, "", "", 0, false, -1},
		{"bad command", "050100 05040001 c6120114 0050", Invalid, V5, 0, "", "", 0, false, -1},
		{"reserved byte set", "050100 05010101 c6120114 0050", Invalid, V5, 0, "", "", 0, false, -1},
		{"bad address type", "050100 05010002 c6120114 0050", Invalid, V5, 0, "", "", 0, false, -1},
		{"empty domain", "050100 0501000300 0050", Invalid, V5, 0, "", "", 0, false, -1},
		{"socks4 bad command", "04 03 01bb c612010d 00", Invalid, V4, 0, "", "", 0, false, -1},
		{"socks4 port 0", "04 01 0000 c612010d 00", Invalid, V4, 0, "", "", 0, false, -1},
		{"socks4 control byte in user id", "04 01 01bb c612010d 0a00", Invalid, V4, 0, "", "", 0, false, -1},
		{"socks4a empty host", "04 01 01bb 00000001 00 00", Invalid, V4a, 0, "", "", 0, false, -1},
		{"not socks", "16 0301", Invalid, 0, 0, "", "", 0, false, -1},
		{"empty", "", NeedMore, 0, 0, "", "", 0, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.stream)
			var r Request
			st := ParseRequest(b, &r)
			if st != tt.st {
				t.Fatalf("status %v, want %v (%+v)", st, tt.st, r)
			}
			if st != Complete {
				return
			}
			want := tt.len
			if want == 0 {
				want = len(b)
			}
			var addr string
			if r.Addr.IsValid() {
				addr = r.Addr.String()
			}
			if r.Version != tt.version || r.Command != tt.cmd || string(r.Host) != tt.host || addr != tt.addr ||
				r.Port != tt.port || r.UserPass != tt.userPassMsg || r.Len != want {
				t.Errorf("got %v %v host %q addr %q port %d userpass %v len %d; want %v %v %q %q %d %v %d", r.Version,
					r.Command, r.Host, addr, r.Port, r.UserPass, r.Len, tt.version, tt.cmd, tt.host, tt.addr, tt.port,
					tt.userPassMsg, want)
			}
		})
	}
}

// TestNameCaps holds the SOCKS4 fields to MaxName: 255 bytes and a NUL parse, 256 are Invalid even before the
// NUL arrives.
func TestNameCaps(t *testing.T) {
	head := unhex(t, "04 01 01bb 00000001")
	name := strings.Repeat("a", MaxName)
	var r Request
	if st := ParseRequest(append(append(append([]byte{}, head...), 0), name+"\x00"...), &r); st != Complete || len(r.Host) != MaxName {
		t.Errorf("255-byte host: %v, %d bytes", st, len(r.Host))
	}
	if st := ParseRequest(append(append(append([]byte{}, head...), 0), name+"a"...), &r); st != Invalid {
		t.Errorf("256-byte host without NUL: %v, want invalid", st)
	}
	if st := ParseRequest(append(append([]byte{}, head...), name+"a\x00"...), &r); st != Invalid {
		t.Errorf("256-byte user id: %v, want invalid", st)
	}
	if st := ParseRequest(append(append([]byte{}, head...), name...), &r); st != NeedMore {
		t.Errorf("255-byte user id, no NUL yet: %v, want need-more", st)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		stream string
		want   Status
	}{
		{curl5Greeting, Complete},
		{curl5Greeting + "05", Complete},
		{curl5Greeting + curl5Request, Complete},
		{"05", NeedMore},
		{"0502", NeedMore},
		{"050200", NeedMore},
		{curl5Greeting + "16", Invalid},        // a greeting followed by neither a request nor a sub-negotiation
		{"05 01 00 01 c6120114 0050", Invalid}, // a SOCKS5 request without a greeting
		{curl4Request, Complete},
		{curl4Request[:10], NeedMore},
		{socks4aRequest, Complete},
		{"0500", Invalid},
		{"05 03 ff ff ff", Invalid},
		{"16 03 01 02 00", Invalid}, // TLS
		{"474554202f", Invalid},     // "GET /"
		{"", NeedMore},
	}
	for _, tt := range tests {
		if got := Sniff(unhex(t, tt.stream)); got != tt.want {
			t.Errorf("Sniff(%s) = %v, want %v", tt.stream, got, tt.want)
		}
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		name       string
		stream     string
		v          Version
		st         Status
		method     int // -1: not seen
		authStatus int // -1: not seen
		code       int // -1: not replied
		succeeded  bool
		len        int
	}{
		{"dante succeeded", dante5Method + dante5Reply, V5, Complete, 0, -1, 0, true, 12},
		{"dante succeeded, tunnel bytes follow", dante5Method + dante5Reply + "160303", V5, Complete, 0, -1, 0, true, 12},
		{"dante refused by ruleset", dante5Method + dante5Refused, V5, Complete, 0, -1, 2, false, 29},
		{"ndpi IPv6", dante5Method + ndpi5IPv6Reply, V5, Complete, 0, -1, 0, true, 12},
		{"IPv6 bound address", "0500 05000004 00000000000000000000000000000001 0438", V5, Complete, 0, -1, 0, true, 24},
		{"method only", dante5Method, V5, NeedMore, 0, -1, -1, false, 2},
		{"reply cut", dante5Method + dante5Reply[:8], V5, NeedMore, 0, -1, 0, true, 2},
		{"no acceptable method", "05ff", V5, Complete, 0xff, -1, -1, false, 2},
		{"gssapi is not followed", "0501", V5, Complete, 1, -1, -1, false, 2},
		{"username accepted", "0502 0100" + dante5Reply, V5, Complete, 2, 0, 0, true, 14},
		{"username rejected", "0502 0101", V5, Complete, 2, 1, -1, false, 4},
		{"failure reply with zeroed type", "0500 05050000", V5, Complete, 0, -1, 5, false, 6},
		{"reply code out of range", "0500 05090001", V5, Invalid, 0, -1, -1, false, 2},
		{"not socks5", "4854", V5, Invalid, -1, -1, -1, false, 0},
		{"dante granted", dante4Reply, V4, Complete, -1, -1, 90, true, 8},
		{"socks4 rejected", "005b 0000 00000000", V4a, Complete, -1, -1, 91, false, 8},
		{"socks4 bad code", "0001", V4, Invalid, -1, -1, -1, false, 0},
		{"socks4 cut", "005a00", V4, NeedMore, -1, -1, 90, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reply
			st := ParseReply(unhex(t, tt.stream), tt.v, &r)
			method, auth, code := -1, -1, -1
			if r.MethodSeen {
				method = int(r.Method)
			}
			if r.AuthSeen {
				auth = int(r.AuthStatus)
			}
			if r.Replied {
				code = int(r.Code)
			}
			if st != tt.st || method != tt.method || auth != tt.authStatus || code != tt.code ||
				r.Succeeded(tt.v) != tt.succeeded || r.Len != tt.len {
				t.Errorf("got %v method %d auth %d code %d succeeded %v len %d; want %v %d %d %d %v %d", st, method,
					auth, code, r.Succeeded(tt.v), r.Len, tt.st, tt.method, tt.authStatus, tt.code, tt.succeeded, tt.len)
			}
		})
	}
}

// TestEveryPrefix checks that each proper prefix of a whole request or reply is NeedMore, never a wrong
// Complete or Invalid.
func TestEveryPrefix(t *testing.T) {
	for _, s := range []string{curl5Greeting + curl5Request, userPassGreeting + userPassMsg + curl5IPv4, curl4Request,
		socks4aRequest, "05020001" + ndpi5IPv6Request} {
		b := unhex(t, s)
		for n := range len(b) {
			var r Request
			if st := ParseRequest(b[:n], &r); st != NeedMore {
				t.Errorf("request %s cut at %d: %v", s, n, st)
			}
		}
	}
	for _, c := range []struct {
		s string
		v Version
	}{{dante5Method + dante5Reply, V5}, {"0502 0100" + dante5Refused, V5}, {dante4Reply, V4}} {
		b := unhex(t, c.s)
		for n := range len(b) {
			var r Reply
			if st := ParseReply(b[:n], c.v, &r); st != NeedMore {
				t.Errorf("reply %s cut at %d: %v", c.s, n, st)
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	req := unhex(t, userPassGreeting+userPassMsg+curl5Request)
	rep := unhex(t, "0502 0100"+dante5Reply)
	var r Request
	var p Reply
	if n := testing.AllocsPerRun(100, func() {
		Sniff(req)
		ParseRequest(req, &r)
		ParseReply(rep, V5, &p)
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func TestMethodName(t *testing.T) {
	for m, want := range map[uint8]string{0: "none", 1: "gssapi", 2: "username", 0xff: "no-acceptable", 3: "0x03", 0x80: "0x80"} {
		if got := MethodName(m); got != want {
			t.Errorf("MethodName(%d) = %q, want %q", m, got, want)
		}
	}
}

func TestVersionString(t *testing.T) {
	if V4.String() != "4" || V4a.String() != "4a" || V5.String() != "5" || Version(0).String() != "" {
		t.Error("version spellings")
	}
}
