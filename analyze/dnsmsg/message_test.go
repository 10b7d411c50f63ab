package dnsmsg

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// espnResponse is frame 4 of cs-dns-espn-cname.pcap (chrissanders/packets, dns.pcap): a1.espncdn.com A,
// answered by two chained CNAMEs and two A records, with compression pointers into earlier names.
const espnResponse = "cabf81800001000400000000026131076573706e63646e03636f6d0000010001c00c0005000100000086001d0161076573706e63646e03" +
	"636f6d09656467657375697465036e657400c02c0005000100002abf001205613135383902673106616b616d6169c044c05500010001" +
	"0000000d000448f63823c055000100010000000d000448f63853"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build assembles a message from a header and raw section bytes, for hand-made cases.
func build(id uint16, flags uint16, qd, an, ns, ar uint16, body ...[]byte) []byte {
	b := []byte{byte(id >> 8), byte(id), byte(flags >> 8), byte(flags), byte(qd >> 8), byte(qd), byte(an >> 8), byte(an),
		byte(ns >> 8), byte(ns), byte(ar >> 8), byte(ar)}
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// name encodes dotted labels without compression.
func name(s string) []byte {
	var b []byte
	if s != "" {
		for _, l := range strings.Split(s, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func rr(owner []byte, typ uint16, ttl uint32, rdata []byte) []byte {
	b := append([]byte{}, owner...)
	b = append(b, u16(typ)...)
	b = append(b, 0, 1, byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl))
	b = append(b, u16(uint16(len(rdata)))...)
	return append(b, rdata...)
}

func TestParse(t *testing.T) {
	q := func(n string, typ uint16) []byte { return append(name(n), append(u16(typ), 0, 1)...) }
	ptr12 := []byte{0xc0, 12}
	tests := []struct {
		name    string
		msg     []byte
		want    Message
		wantErr error
	}{
		{"query", build(7, 0x0100, 1, 0, 0, 0, q("login.microsoftonline.com", TypeA)),
			Message{ID: 7, Questions: []Question{{"login.microsoftonline.com", TypeA, 1}}}, nil},
		{"nxdomain", build(8, 0x8183, 1, 0, 0, 0, q("no.such.host", TypeAAAA)),
			Message{ID: 8, Response: true, Rcode: RcodeNXDomain, Questions: []Question{{"no.such.host", TypeAAAA, 1}}}, nil},
		{"tc bit and opcode update", build(9, 0xaa05, 0, 0, 0, 0),
			Message{ID: 9, Response: true, Opcode: 5, Truncated: true, Rcode: RcodeRefused}, nil},
		{"cname then aaaa, compressed", build(1, 0x8180, 1, 2, 0, 0, q("a.example", TypeAAAA),
			rr(ptr12, TypeCNAME, 60, append([]byte{1, 'b'}, 0xc0, 14)),
			rr([]byte{0xc0, 39}, TypeAAAA, 30, mustHex(t, "20010db8000000000000000000000001"))),
			Message{ID: 1, Response: true, Questions: []Question{{"a.example", TypeAAAA, 1}}, Answers: []RR{
				{Name: "a.example", Type: TypeCNAME, Class: 1, TTL: 60, Target: "b.example"},
				{Name: "b.example", Type: TypeAAAA, Class: 1, TTL: 30, Addr: netip.MustParseAddr("2001:db8::1")}}}, nil},
		{"root name and https type kept", build(2, 0x8180, 1, 1, 0, 0, q("", TypeHTTPS), rr([]byte{0}, TypeHTTPS, 5, []byte{0, 1, 0})),
			Message{ID: 2, Response: true, Questions: []Question{{".", TypeHTTPS, 1}}, Answers: []RR{{Name: ".", Type: TypeHTTPS, Class: 1, TTL: 5}}}, nil},
		{"odd bytes escaped like dig", build(3, 0, 1, 0, 0, 0, append([]byte{5, 'a', '.', ' ', 0x1b, '\\', 1, '@'}, 0, 0, 1, 0, 1)),
			Message{ID: 3, Questions: []Question{{`a\.\032\027\\.\@`, TypeA, 1}}}, nil},
		{"edns extended rcode", build(4, 0x8000, 0, 0, 0, 1, []byte{0, 0, 41, 0x10, 0, 1, 0, 0, 0, 0, 0}),
			Message{ID: 4, Response: true, Rcode: 16}, nil},
		{"cut inside the answer keeps the question", build(5, 0x8180, 1, 1, 0, 0, q("x.example", TypeA), rr(ptr12, TypeA, 1, []byte{1, 2, 3, 4})[:12]),
			Message{ID: 5, Response: true, Questions: []Question{{"x.example", TypeA, 1}}, Partial: true}, nil},
		{"more questions announced than sent", build(6, 0, 3, 0, 0, 0, q("x", TypeA)),
			Message{ID: 6, Questions: []Question{{"x", TypeA, 1}}, Partial: true}, nil},
		{"short header", []byte{1, 2, 3}, Message{ID: 0x0102, Partial: true}, ErrShort},
		{"header cut after the flags", []byte{1, 2, 0x81, 0x82, 0}, Message{ID: 0x0102, Response: true, Rcode: RcodeServFail, Partial: true}, ErrShort},
		{"pointer to itself", build(1, 0, 1, 0, 0, 0, []byte{0xc0, 12, 0, 1, 0, 1}), Message{ID: 1}, ErrMalformed},
		{"forward pointer", build(1, 0, 1, 0, 0, 0, []byte{0xc0, 14, 0, 0, 1, 0, 1}), Message{ID: 1}, ErrMalformed},
		{"loop through two pointers", build(1, 0x8000, 1, 1, 0, 0, []byte{1, 'a', 0xc0, 18, 0, 1, 0, 1}, rr([]byte{0xc0, 12}, TypeA, 0, []byte{1, 2, 3, 4})),
			Message{ID: 1, Response: true}, ErrMalformed},
		{"label type 0x40", build(1, 0, 1, 0, 0, 0, []byte{0x41, 0, 0, 1, 0, 1}), Message{ID: 1}, ErrMalformed},
		{"name over 255 bytes", build(1, 0, 1, 0, 0, 0, q(strings.Repeat(strings.Repeat("x", 63)+".", 4)+"y", TypeA)), Message{ID: 1}, ErrMalformed},
		{"a rdata of 5 bytes", build(1, 0x8000, 1, 1, 0, 0, q("x", TypeA), rr(ptr12, TypeA, 0, []byte{1, 2, 3, 4, 5})),
			Message{ID: 1, Response: true, Questions: []Question{{"x", TypeA, 1}}}, ErrMalformed},
		{"cname target overruns rdata", build(1, 0x8000, 1, 1, 0, 0, q("x", TypeA), rr(ptr12, TypeCNAME, 0, []byte{3, 'a', 'b'})),
			Message{ID: 1, Response: true, Questions: []Question{{"x", TypeA, 1}}}, ErrMalformed},
	}
	var m Message
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Parse(tc.msg)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !equal(&m, &tc.want) {
				t.Errorf("got  %+v\nwant %+v", m, tc.want)
			}
		})
	}
}

func equal(a, b *Message) bool {
	if a.ID != b.ID || a.Response != b.Response || a.Opcode != b.Opcode || a.Rcode != b.Rcode ||
		a.Truncated != b.Truncated || a.Partial != b.Partial || len(a.Questions) != len(b.Questions) || len(a.Answers) != len(b.Answers) {
		return false
	}
	for i := range a.Questions {
		if a.Questions[i] != b.Questions[i] {
			return false
		}
	}
	for i := range a.Answers {
		if a.Answers[i] != b.Answers[i] {
			return false
		}
	}
	return true
}

func TestParseRealResponse(t *testing.T) {
	var m Message
	if err := m.Parse(mustHex(t, espnResponse)); err != nil {
		t.Fatal(err)
	}
	want := Message{ID: 0xcabf, Response: true, Questions: []Question{{"a1.espncdn.com", TypeA, 1}}, Answers: []RR{
		{Name: "a1.espncdn.com", Type: TypeCNAME, Class: 1, TTL: 134, Target: "a.espncdn.com.edgesuite.net"},
		{Name: "a.espncdn.com.edgesuite.net", Type: TypeCNAME, Class: 1, TTL: 10943, Target: "a1589.g1.akamai.net"},
		{Name: "a1589.g1.akamai.net", Type: TypeA, Class: 1, TTL: 13, Addr: netip.MustParseAddr("72.246.56.35")},
		{Name: "a1589.g1.akamai.net", Type: TypeA, Class: 1, TTL: 13, Addr: netip.MustParseAddr("72.246.56.83")}}}
	if !equal(&m, &want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
}

// TestParsePrefixes cuts a real response at every length: never an error past the header, never a record
// that is not in the full parse, and Partial on every cut.
func TestParsePrefixes(t *testing.T) {
	full := mustHex(t, espnResponse)
	var whole, m Message
	if err := whole.Parse(full); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(full); n++ {
		err := m.Parse(full[:n])
		if n < headerLen {
			if !errors.Is(err, ErrShort) {
				t.Fatalf("%d bytes: err = %v, want ErrShort", n, err)
			}
			continue
		}
		if err != nil || !m.Partial {
			t.Fatalf("%d bytes: err = %v, partial = %v", n, err, m.Partial)
		}
		for i, q := range m.Questions {
			if q != whole.Questions[i] {
				t.Fatalf("%d bytes: question %d = %+v", n, i, q)
			}
		}
		for i, a := range m.Answers {
			if a != whole.Answers[i] {
				t.Fatalf("%d bytes: answer %d = %+v", n, i, a)
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	msg := mustHex(t, espnResponse)
	var m Message
	_ = m.Parse(msg)
	// Parsed again by the same Message, every name (the question name, the two CNAME targets; the answer
	// owners repeat them) is one it has made before, and the lists have their room.
	if n := testing.AllocsPerRun(100, func() { _ = m.Parse(msg) }); n != 0 {
		t.Errorf("Parse of a message met before allocates %v times, want 0", n)
	}
}

// TestKnownNamesBounded parses more distinct names than a Message keeps: every name still comes out right,
// and the names it keeps stay within maxKnownNames.
func TestKnownNamesBounded(t *testing.T) {
	var m Message
	for i := range 3 * maxKnownNames {
		name := fmt.Sprintf("host%d.example.com", i%(2*maxKnownNames))
		msg := query(t, name)
		if err := m.Parse(msg); err != nil || len(m.Questions) != 1 || m.Questions[0].Name != name {
			t.Fatalf("%s: %v %+v", name, err, m.Questions)
		}
		if len(m.known) > maxKnownNames {
			t.Fatalf("%d names kept", len(m.known))
		}
	}
}

// query is a DNS query for name (type A, class IN).
func query(t *testing.T, name string) []byte {
	t.Helper()
	msg := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for label := range strings.SplitSeq(name, ".") {
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	return append(msg, 0, 0, 1, 0, 1)
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{RcodeString(0), "NOERROR"}, {RcodeString(2), "SERVFAIL"}, {RcodeString(3), "NXDOMAIN"}, {RcodeString(5), "REFUSED"},
		{RcodeString(4), "NOTIMP"}, {RcodeString(1), "FORMERR"}, {RcodeString(12), "RCODE12"},
		{TypeString(1), "A"}, {TypeString(28), "AAAA"}, {TypeString(5), "CNAME"}, {TypeString(65), "HTTPS"}, {TypeString(999), "TYPE999"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	msg := mustHex(b, espnResponse)
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := m.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustHex(f, espnResponse))
	f.Add(build(1, 0, 1, 0, 0, 0, []byte{0xc0, 12, 0, 1, 0, 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := m.Parse(b)
		if err != nil && !errors.Is(err, ErrShort) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		for _, q := range m.Questions {
			checkPrintable(t, q.Name)
		}
		for _, a := range m.Answers {
			checkPrintable(t, a.Name)
			checkPrintable(t, a.Target)
		}
	})
}

func checkPrintable(t *testing.T, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			t.Fatalf("name %q has an unescaped byte %#x", s, s[i])
		}
	}
	if len(s) > maxEscaped {
		t.Fatalf("name of %d bytes", len(s))
	}
}

// TestCopyTo: a copy equals the message and shares nothing with it, at every cut of a real response (so
// Partial and the section lengths vary), into a copy reused each time.
func TestCopyTo(t *testing.T) {
	full := mustHex(t, espnResponse)
	var m, dst, want Message
	for n := len(full); n >= headerLen; n-- {
		if err := m.Parse(full[:n]); err != nil {
			continue
		}
		if err := want.Parse(full[:n]); err != nil {
			t.Fatal(err)
		}
		m.CopyTo(&dst)
		clear(m.Questions[:cap(m.Questions)]) // whatever m does next, dst must not see it
		clear(m.Answers[:cap(m.Answers)])
		m.ID, m.Rcode = 0, 0
		if !equal(&dst, &want) {
			t.Fatalf("%d bytes: copy %+v, want %+v", n, dst, want)
		}
	}
}
