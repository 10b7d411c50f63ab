package httpmsg

import (
	"bytes"
	"strings"
	"testing"
)

func TestLooksLikeRequest(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"", false}, {"G", true}, {"GET", true}, {"GET ", true}, {"CONNECT x:443", true}, {"CONNEC", true},
		{"get / HTTP/1.1", false}, {"GETX", false}, {"\x16\x03\x01", false}, {"SSH-2.0", false}, {"HTTP/1.1 200", false},
	}
	for _, tc := range tests {
		if got := LooksLikeRequest([]byte(tc.in)); got != tc.ok {
			t.Errorf("LooksLikeRequest(%q) = %v", tc.in, got)
		}
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		st   Status
		want Request
	}{
		{"simple", "GET /x HTTP/1.1\r\nHost: enterprise.manage.microsoft.com\r\n\r\nbody", Complete,
			Request{Method: "GET", Target: "/x", Version: "HTTP/1.1", Host: "enterprise.manage.microsoft.com", HostValid: true, HeadLen: 55}},
		{"port stripped, name case kept", "GET / HTTP/1.1\r\nhOsT:  Example.COM:8080 \r\n\r\n", Complete,
			Request{Method: "GET", Target: "/", Version: "HTTP/1.1", Host: "Example.COM", HostPort: 8080, HostValid: true, HeadLen: 44}},
		{"ipv6 literal with port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", Complete,
			Request{Method: "GET", Target: "/", Version: "HTTP/1.1", Host: "::1", HostPort: 8080, HostValid: true, HeadLen: 36}},
		{"first host wins, fold ignored", "GET / HTTP/1.1\nX: a\n b\n Host: fold.example\nHost: first.example\nHost: second.example\n\n", Complete,
			Request{Method: "GET", Target: "/", Version: "HTTP/1.1", Host: "first.example", HostValid: true, HeadLen: 84}},
		{"no host", "GET / HTTP/1.0\r\n\r\n", Complete, Request{Method: "GET", Target: "/", Version: "HTTP/1.0", HeadLen: 18}},
		{"host with space flagged", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Complete,
			Request{Method: "GET", Target: "/", Version: "HTTP/1.1", Host: "a b", HeadLen: 29}},
		{"host with bad port kept whole", "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", Complete,
			Request{Method: "GET", Target: "/", Version: "HTTP/1.1", Host: "a:99999", HeadLen: 33}},
		{"connect http/1.0 without host", "CONNECT ts01-b.cloudsink.net:443 HTTP/1.0\r\n\r\n", Complete,
			Request{Method: "CONNECT", Target: "ts01-b.cloudsink.net:443", Version: "HTTP/1.0", ConnectHost: "ts01-b.cloudsink.net", ConnectPort: 443, HeadLen: 45}},
		{"connect ipv6", "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", Complete,
			Request{Method: "CONNECT", Target: "[2001:db8::1]:443", Version: "HTTP/1.1", Host: "2001:db8::1", HostPort: 443, HostValid: true,
				ConnectHost: "2001:db8::1", ConnectPort: 443, HeadLen: 63}},
		{"absolute uri, no host", "GET http://x.example/a?b HTTP/1.1\r\n\r\n", Complete,
			Request{Method: "GET", Target: "http://x.example/a?b", Version: "HTTP/1.1", Host: "x.example", HostPort: 80, HostValid: true, AbsoluteURI: true, HeadLen: 37}},
		{"absolute uri wins over host", "GET HTTPS://u:p@x.example:8443 HTTP/1.1\r\nHost: other.example\r\n\r\n", Complete,
			Request{Method: "GET", Target: "HTTPS://u:p@x.example:8443", Version: "HTTP/1.1", Host: "x.example", HostPort: 8443, HostValid: true, AbsoluteURI: true, HeadLen: 63}},
		{"prefix of method", "POS", NeedMore, Request{}},
		{"request line unfinished", "GET /index.html HTT", NeedMore, Request{}},
		{"headers unfinished", "GET / HTTP/1.1\r\nHost: a\r\n", NeedMore, Request{}},
		{"not http", "\x16\x03\x01\x02\x00", NotHTTP, Request{}},
		{"lower-case method", "get / HTTP/1.1\r\n\r\n", NotHTTP, Request{}},
		{"http/0.9", "GET /\r\n\r\n", Malformed, Request{}},
		{"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NotHTTP, Request{}},
		{"bad version", "GET / HTTP/2.0\r\n\r\n", Malformed, Request{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			st, err := ParseRequest([]byte(tc.in), &r)
			if st != tc.st || (err != nil) != (st == Malformed) {
				t.Fatalf("status %v err %v, want %v", st, err, tc.st)
			}
			if st == Complete {
				tc.want.HeadLen = headLen(tc.in)
			}
			if st != Malformed && r != tc.want {
				t.Errorf("got  %+v\nwant %+v", r, tc.want)
			}
		})
	}
}

// headLen finds the end of a test head the simple way, as a check on endOfHead.
func headLen(s string) int {
	crlf, lf := strings.Index(s, "\r\n\r\n"), strings.Index(s, "\n\n")
	if crlf >= 0 && (lf < 0 || crlf+2 < lf) {
		return crlf + 4
	}
	return lf + 2
}

func TestParseRequestTooLong(t *testing.T) {
	head := "GET / HTTP/1.1\r\nHost: big.example\r\nCookie: " + strings.Repeat("x", MaxHead)
	var r Request
	if st, err := ParseRequest([]byte(head), &r); st != Malformed || err == nil || r.Host != "big.example" {
		t.Errorf("status %v err %v host %q", st, err, r.Host)
	}
	if st, _ := ParseRequest([]byte(head[:MaxHead-1]), &r); st != NeedMore {
		t.Errorf("under the cap: %v", st)
	}
	long := []byte("GET /" + strings.Repeat("a", MaxHead+10) + " HTTP/1.1\r\n")
	if st, err := ParseRequest(long, &r); st != Malformed || err == nil {
		t.Errorf("long request line: %v %v", st, err)
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in   string
		st   Status
		want Response
	}{
		{"HTTP/1.1 200 Connection established\r\n\r\n", Complete, Response{"HTTP/1.1", 200, "Connection established", 39, "", false}},
		{"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n", Complete, Response{"HTTP/1.0", 407, "Proxy Authentication Required", 0, "Basic", false}},
		{"HTTP/1.1 407 x\r\nproxy-authenticate: NEGOTIATE\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Basic realm=\"a, b\", charset=\"UTF-8\"\r\n\r\n",
			Complete, Response{"HTTP/1.1", 407, "x", 132, "Negotiate, NTLM, Basic", false}},
		{"HTTP/1.1 407 x\r\nProxy-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"n\", Basic realm=\"r\"\r\n\r\n",
			Complete, Response{"HTTP/1.1", 407, "x", 96, "Digest, Basic", false}},
		{"HTTP/1.1 200 OK\r\nVia: 1.1 squid\r\n\r\nProxy-Authenticate: Basic\r\n", Complete, Response{"HTTP/1.1", 200, "OK", 35, "", true}},
		{"HTTP/1.1 407 x\r\nProxy-Authenticate: Basic\r\nProxy-Authenticate: Basic", Complete, Response{"HTTP/1.1", 407, "x", 0, "Basic", false}},
		{"HTTP/1.1 403\r\n\r\n", Complete, Response{"HTTP/1.1", 403, "", 16, "", false}},
		{"HTTP/1.1 503 \n\n", Complete, Response{"HTTP/1.1", 503, "", 15, "", false}},
		{"HTTP/1.1 200 OK", NeedMore, Response{}},
		{"HTT", NeedMore, Response{}},
		{"", NeedMore, Response{}},
		{"SSH-2.0-x\r\n", NotHTTP, Response{}},
		{"HTTP/1.1 20 OK\r\n", Malformed, Response{}},
		{"HTTP/1.1 2000 OK\r\n", Malformed, Response{}},
		{"HTTP/1.1 099 OK\r\n", Malformed, Response{}},
		{"HTTP/2 200\r\n", Malformed, Response{}},
	}
	for _, tc := range tests {
		var r Response
		st, err := ParseResponse([]byte(tc.in), &r)
		if st != tc.st || (err != nil) != (st == Malformed) || r != tc.want {
			t.Errorf("%q: %v %v %+v, want %v %+v", tc.in, st, err, r, tc.st, tc.want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port uint16
		ok   bool
	}{
		{"a.example", "a.example", 0, true}, {"a.example:443", "a.example", 443, true}, {"a.example:", "a.example", 0, true},
		{"[::1]", "::1", 0, true}, {"[::1]:80", "::1", 80, true}, {"::1", "", 0, false}, {"[::1", "", 0, false},
		{"[::1]x", "", 0, false}, {":80", "", 0, false}, {"a:+80", "", 0, false}, {"a:65536", "", 0, false}, {"a:x", "", 0, false},
	}
	for _, tc := range tests {
		h, p, ok := splitHostPort(tc.in)
		if h != tc.host || p != tc.port || ok != tc.ok {
			t.Errorf("splitHostPort(%q) = %q %d %v", tc.in, h, p, ok)
		}
	}
}

// TestEveryPrefix checks that each prefix of a request is NeedMore, never a wrong Complete.
func TestEveryPrefix(t *testing.T) {
	req := []byte("CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\nUser-Agent: x\r\n\r\n")
	var r Request
	for n := 0; n < len(req); n++ {
		if st, _ := ParseRequest(req[:n], &r); st != NeedMore {
			t.Fatalf("prefix %d: %v", n, st)
		}
	}
	if st, _ := ParseRequest(req, &r); st != Complete || r.ConnectHost != "login.microsoftonline.com" {
		t.Fatalf("whole: %v %+v", st, r)
	}
}

func TestParseAllocs(t *testing.T) {
	req := []byte("GET /x HTTP/1.1\r\nHost: enterprise.manage.microsoft.com\r\nAccept: */*\r\n\r\n")
	var r Request
	// Target and Host are new strings; method and version are interned.
	if n := testing.AllocsPerRun(100, func() { ParseRequest(req, &r) }); n > 2 {
		t.Errorf("ParseRequest allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { ParseRequest(req[:40], &r) }); n != 0 {
		t.Errorf("NeedMore allocates %v times", n)
	}
}

func BenchmarkParseRequest(b *testing.B) {
	req := []byte("GET /x HTTP/1.1\r\nHost: enterprise.manage.microsoft.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nCookie: " +
		strings.Repeat("k=v; ", 100) + "\r\n\r\n")
	var r Request
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		ParseRequest(req, &r)
	}
}

func BenchmarkParseResponse(b *testing.B) {
	resp := []byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n\r\n")
	var r Response
	b.ReportAllocs()
	for b.Loop() {
		ParseResponse(resp, &r)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("CONNECT [::1]:443 HTTP/1.0\r\n\r\n"))
	f.Add([]byte("GET http://a.example:8080/ HTTP/1.1\nHost: b\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		st, err := ParseRequest(b, &r)
		if (err != nil) != (st == Malformed) {
			t.Fatalf("status %v with err %v", st, err)
		}
		if st == Complete {
			if r.HeadLen <= 0 || r.HeadLen > len(b) || r.HeadLen > MaxHead {
				t.Fatalf("HeadLen %d of %d", r.HeadLen, len(b))
			}
			if r.Host != "" && !bytes.Contains(b, []byte(r.Host)) {
				t.Fatalf("Host %q not in input", r.Host)
			}
			if st2, _ := ParseRequest(b[:r.HeadLen-1], &Request{}); st2 != NeedMore {
				t.Fatalf("one byte short of the head: %v", st2)
			}
		}
		if len(b) > 0 && LooksLikeRequest(b) != (st != NotHTTP) {
			t.Fatalf("LooksLikeRequest disagrees with status %v", st)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Response
		st, err := ParseResponse(b, &r)
		if (err != nil) != (st == Malformed) || (st == Complete && (r.Status < 100 || r.Status > 999)) {
			t.Fatalf("status %v err %v %+v", st, err, r)
		}
	})
}
