package tlshello

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
)

// goHello returns the first flight of Go's crypto/tls client: with Go 1.26's default X25519MLKEM768 key share
// it is about 1.5–1.8 KB, the size that spans two TCP segments in real captures.
func goHello(t testing.TB, serverName string, alpn ...string) []byte {
	t.Helper()
	c1, c2 := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		cfg := &tls.Config{ServerName: serverName, NextProtos: alpn, InsecureSkipVerify: serverName == ""}
		_ = tls.Client(c1, cfg).Handshake()
		c1.Close()
	}()
	var stream []byte
	var h Hello
	buf := make([]byte, 4096)
	for {
		n, err := c2.Read(buf)
		stream = append(stream, buf[:n]...)
		if st, _, _ := Parse(stream, &h); st != NeedMore || err != nil {
			break
		}
	}
	c2.Close()
	<-done
	return stream
}

// refragment re-cuts the handshake message of a one-record hello into records of at most size bytes.
func refragment(rec []byte, size int) []byte {
	msg := rec[5:]
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, 22, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func TestGoClientHello(t *testing.T) {
	rec := goHello(t, "login.microsoftonline.com", "h2", "http/1.1")
	if len(rec) < 1200 {
		t.Fatalf("hello of %d bytes: no post-quantum key share?", len(rec))
	}
	tests := []struct {
		name    string
		stream  []byte
		records int
	}{
		{"one record", rec, 1},
		{"one record, data after it", append(slices.Clip(rec), 23, 3, 3, 0, 1, 0), 1},
		{"records of 1000 bytes", refragment(rec, 1000), 2},
		{"records of 100 bytes", refragment(rec, 100), (len(rec) - 5 + 99) / 100},
		{"header split over records", refragment(rec, 3), (len(rec) - 5 + 2) / 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Hello
			st, _, err := Parse(tc.stream, &h)
			if st != Complete || err != nil {
				t.Fatalf("Parse = %v, %v", st, err)
			}
			if h.SNI != "login.microsoftonline.com" || !h.SNIValid || !slices.Equal(h.ALPN, []string{"h2", "http/1.1"}) ||
				!slices.Contains(h.Versions, 0x0304) || h.ECH || h.Length != len(rec)-9 || h.Records != tc.records {
				t.Errorf("got %+v", h)
			}
		})
	}
}

// TestEveryPrefix feeds every prefix of a hello, one record and fragmented: NeedMore each time, with a need
// that grows and never passes the full length, and Complete only at the end.
func TestEveryPrefix(t *testing.T) {
	rec := goHello(t, "enterprise.manage.microsoft.com")
	for _, stream := range [][]byte{rec, refragment(rec, 300)} {
		var h Hello
		last := 0
		for n := 0; n < len(stream); n++ {
			st, need, err := Parse(stream[:n], &h)
			if st != NeedMore || err != nil || need <= n || need > len(stream) || need < last || h.SNI != "" {
				t.Fatalf("prefix %d/%d: %v need %d err %v sni %q", n, len(stream), st, need, err, h.SNI)
			}
			last = need
		}
		if st, _, err := Parse(stream, &h); st != Complete || h.SNI != "enterprise.manage.microsoft.com" {
			t.Fatalf("whole: %v %v %+v", st, err, h)
		}
	}
}

// hello builds a minimal ClientHello handshake message with the given extensions block content.
func hello(exts ...[]byte) []byte {
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0)
	var e []byte
	for _, x := range exts {
		e = append(e, x...)
	}
	if exts != nil {
		body = append(body, byte(len(e)>>8), byte(len(e)))
		body = append(body, e...)
	}
	msg := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func ext(typ uint16, data ...byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(data) >> 8), byte(len(data))}, data...)
}

func sni(name string) []byte {
	n := len(name)
	return ext(extServerName, append([]byte{byte((n + 3) >> 8), byte(n + 3), 0, byte(n >> 8), byte(n)}, name...)...)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		st     Status
		need   int
		want   Hello
	}{
		{"empty", nil, NeedMore, 5, Hello{}},
		{"one byte", []byte{22}, NeedMore, 5, Hello{}},
		{"http", []byte("GET / HTTP/1.1\r\n"), NotTLS, 0, Hello{}},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.6\r\n"), NotTLS, 0, Hello{}},
		{"application data record", []byte{23, 3, 3, 0, 5}, NotTLS, 0, Hello{}},
		{"record version 2", []byte{22, 2}, NotTLS, 0, Hello{}},
		{"record version 3.5", []byte{22, 3, 5}, NotTLS, 0, Hello{}},
		{"sslv2 hello", []byte{0x80, 0x2e, 1, 3, 1}, NotTLS, 0, Hello{}},
		{"header only", []byte{22, 3, 1, 0, 200}, NeedMore, 9, Hello{Records: 1}},
		{"handshake header known", []byte{22, 3, 1, 0, 200, 1, 0, 0, 196}, NeedMore, 205, Hello{Records: 1}},
		{"zero-length record", []byte{22, 3, 1, 0, 0}, Malformed, 0, Hello{Records: 0}},
		{"server hello", []byte{22, 3, 3, 0, 50, 2, 0, 0, 46}, Malformed, 0, Hello{Records: 1}},
		{"too large", []byte{22, 3, 1, 0x40, 0, 1, 0, 0x40, 0}, Malformed, 0, Hello{Records: 1}},
		{"alert inside a fragmented hello", append(refragment(hello(sni("a.example")), 10)[:15], 21, 3, 3, 0, 2), Malformed, 0, Hello{Records: 1}},
		{"no extensions", hello(), Complete, 0, Hello{Length: 41, Records: 1}},
		{"sni, alpn, versions, ech", hello(sni("Portal.Manage.Microsoft.com"), ext(extALPN, 0, 3, 2, 'h', '2'),
			ext(extSupportedVersions, 4, 0x0a, 0x0a, 3, 4), ext(extECH, 0)), Complete, 0,
			Hello{SNI: "Portal.Manage.Microsoft.com", SNIValid: true, ALPN: []string{"h2"}, Versions: []uint16{0x0a0a, 0x0304}, ECH: true, Length: 88, Records: 1}},
		{"sni with control bytes kept, flagged", hello(sni("evil\x1b[2J.example")), Complete, 0,
			Hello{SNI: "evil\x1b[2J.example", Length: 65, Records: 1}},
		{"sni with trailing dot", hello(sni("a.example.")), Complete, 0, Hello{SNI: "a.example.", Length: 58, Records: 1}},
		{"sni longer than its extension", hello(ext(extServerName, 0, 8, 0, 0, 9, 'a', 'b', 'c', 'd', 'e')), Malformed, 0, Hello{Records: 1}},
		{"alpn list overruns", hello(ext(extALPN, 0, 3, 5, 'h', '2')), Malformed, 0, Hello{Records: 1}},
		{"extensions length overruns", hello(ext(1, 1))[:len(hello(ext(1, 1)))-1], NeedMore, len(hello(ext(1, 1))), Hello{Records: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Hello
			st, need, err := Parse(tc.stream, &h)
			if st != tc.st || need != tc.need || (err != nil) != (st == Malformed) {
				t.Fatalf("Parse = %v need %d err %v, want %v need %d", st, need, err, tc.st, tc.need)
			}
			if st == Complete {
				tc.want.Length = len(tc.stream) - 9 // one record: record and handshake headers
			}
			if st == Complete || st == NeedMore {
				h.buf = nil
				if !equal(h, tc.want) {
					t.Errorf("got  %+v\nwant %+v", h, tc.want)
				}
			}
		})
	}
}

func equal(a, b Hello) bool {
	return a.SNI == b.SNI && a.SNIValid == b.SNIValid && slices.Equal(a.ALPN, b.ALPN) && slices.Equal(a.Versions, b.Versions) &&
		a.ECH == b.ECH && a.Length == b.Length && a.Records == b.Records
}

func TestValidHost(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"login.microsoftonline.com", true}, {"_dmarc.example", true}, {"10.0.0.1", true}, {"xn--bcher-kva.example", true},
		{"", false}, {".", false}, {"a..b", false}, {"a.", false}, {".a", false}, {"a b", false}, {"bücher.example", false},
		{strings.Repeat("a", 64), false}, {strings.Repeat("a.", 126) + "a", true}, {strings.Repeat("a.", 127) + "a", false},
	}
	for _, tc := range tests {
		if got := validHost([]byte(tc.name)); got != tc.ok {
			t.Errorf("validHost(%q) = %v", tc.name, got)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	rec := goHello(t, "login.microsoftonline.com", "h2")
	var h Hello
	Parse(rec, &h)
	if n := testing.AllocsPerRun(50, func() { Parse(rec[:1000], &h) }); n != 0 {
		t.Errorf("NeedMore allocates %v times", n)
	}
}

func BenchmarkParse(b *testing.B) {
	rec := goHello(b, "login.microsoftonline.com", "h2", "http/1.1")
	for _, tc := range []struct {
		name   string
		stream []byte
	}{{"one-record", rec}, {"fragmented", refragment(rec, 500)}, {"need-more", rec[:1400]}} {
		b.Run(tc.name, func(b *testing.B) {
			var h Hello
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.stream)))
			for b.Loop() {
				Parse(tc.stream, &h)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	rec := goHello(f, "login.microsoftonline.com", "h2")
	f.Add(rec)
	f.Add(refragment(rec, 700))
	f.Add(hello(sni("a.example"), ext(extECH)))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var h Hello
		st, need, err := Parse(stream, &h)
		switch st {
		case NeedMore:
			if need <= len(stream) || need > MaxStream || err != nil {
				t.Fatalf("NeedMore with need %d for %d bytes, err %v", need, len(stream), err)
			}
		case Complete:
			if h.SNI != "" && !bytes.Contains(stream, []byte(h.SNI)) {
				t.Fatalf("SNI %q is not in the input", h.SNI)
			}
		case Malformed:
			if err == nil {
				t.Fatal("Malformed without an error")
			}
		}
		if errors.Is(err, errTLSX) && st != Malformed {
			t.Fatal("tlsx failure not reported")
		}
	})
}
