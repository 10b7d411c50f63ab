package main

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

const testZone = `
# comment
a.example.  A 198.18.1.1
a.example   AAAA 2001:2:0:1::1
alias.example CNAME mid.example   # chain of two
mid.example   CNAME a.example
partial.example A 198.18.1.2
partial.example RCODE REFUSED AAAA
nx.example RCODE NXDOMAIN
fail.example RCODE servfail *
quiet.example DROP
half.example A 198.18.1.3
half.example DROP AAAA
loop1.example CNAME loop2.example
loop2.example CNAME loop1.example
`

func mustZone(t testing.TB) *zone {
	t.Helper()
	z, err := parseZone(strings.NewReader(testZone))
	if err != nil {
		t.Fatalf("parseZone: %v", err)
	}
	return z
}

func TestParseZoneErrors(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"short", "a.example", "want NAME TYPE"},
		{"bad type", "a.example MX x", "unknown type"},
		{"v6 in A", "a.example A 2001:2::1", "bad A address"},
		{"v4 in AAAA", "a.example AAAA 198.18.0.1", "bad AAAA address"},
		{"no target", "a.example CNAME", "CNAME wants one target"},
		{"bad rcode", "a.example RCODE NOPE", "unknown rcode"},
		{"bad qtype", "a.example DROP BOGUS", "unknown query type"},
		{"two qtypes", "a.example DROP A AAAA", "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseZone(strings.NewReader(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "line 1") {
				t.Fatalf("err = %v, want %q on line 1", err, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	z := mustZone(t)
	A, AAAA := dnsmessage.TypeA, dnsmessage.TypeAAAA
	tests := []struct {
		name   string
		q      string
		typ    dnsmessage.Type
		rcode  dnsmessage.RCode
		drop   bool
		owners string
	}{
		{"a", "a.example.", A, dnsmessage.RCodeSuccess, false, "a.example"},
		{"case and dot", "A.Example", AAAA, dnsmessage.RCodeSuccess, false, "a.example"},
		{"nodata", "partial.example.", dnsmessage.TypeTXT, dnsmessage.RCodeSuccess, false, ""},
		{"cname chain", "alias.example.", A, dnsmessage.RCodeSuccess, false, "alias.example mid.example a.example"},
		{"per-type refused", "partial.example.", AAAA, dnsmessage.RCodeRefused, false, ""},
		{"other type fine", "partial.example.", A, dnsmessage.RCodeSuccess, false, "partial.example"},
		{"nxdomain", "nx.example.", A, dnsmessage.RCodeNameError, false, ""},
		{"unknown is nxdomain", "nowhere.example.", A, dnsmessage.RCodeNameError, false, ""},
		{"servfail any type", "fail.example.", AAAA, dnsmessage.RCodeServerFailure, false, ""},
		{"drop", "quiet.example.", A, 0, true, ""},
		{"drop one type", "half.example.", AAAA, 0, true, ""},
		{"drop not other type", "half.example.", A, dnsmessage.RCodeSuccess, false, "half.example"},
		{"cname loop ends", "loop1.example.", A, dnsmessage.RCodeSuccess, false,
			"loop1.example loop2.example loop1.example loop2.example loop1.example loop2.example loop1.example loop2.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := z.lookup(tt.q, tt.typ)
			if got.drop != tt.drop || got.rcode != tt.rcode || strings.Join(got.owners, " ") != tt.owners {
				t.Fatalf("lookup(%s, %v) = drop %v rcode %v owners %q; want %v %v %q",
					tt.q, tt.typ, got.drop, got.rcode, got.owners, tt.drop, tt.rcode, tt.owners)
			}
		})
	}
}

func query(t testing.TB, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0x1234, RecursionDesired: true})
	_ = b.StartQuestions()
	_ = b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestRespond(t *testing.T) {
	z := mustZone(t)
	reply, ok := respond(z, query(t, "alias.example.", dnsmessage.TypeA))
	if !ok {
		t.Fatal("no reply")
	}
	var m dnsmessage.Message
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	if m.ID != 0x1234 || !m.Response || !m.Authoritative || len(m.Questions) != 1 || len(m.Answers) != 3 {
		t.Fatalf("reply header/sections wrong: %+v", m)
	}
	a, isA := m.Answers[2].Body.(*dnsmessage.AResource)
	if !isA || netip.AddrFrom4(a.A) != netip.MustParseAddr("198.18.1.1") {
		t.Fatalf("last answer = %v, want A 198.18.1.1", m.Answers[2].Body)
	}
	if _, ok := respond(z, query(t, "quiet.example.", dnsmessage.TypeA)); ok {
		t.Fatal("DROP name answered")
	}
	if _, ok := respond(z, []byte{1, 2, 3}); ok {
		t.Fatal("garbage answered")
	}
	reply, ok = respond(z, query(t, "a.example.", dnsmessage.TypeA)[:12]) // header only, no question
	if !ok || len(reply) < 4 || reply[3]&0x0f != byte(dnsmessage.RCodeFormatError) {
		t.Fatalf("header-only query: ok %v reply %x, want FORMERR", ok, reply)
	}
}

func FuzzRespond(f *testing.F) {
	z := mustZone(f)
	f.Add(query(f, "alias.example.", dnsmessage.TypeA))
	f.Add(query(f, "partial.example.", dnsmessage.TypeAAAA))
	f.Add([]byte{0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		reply, ok := respond(z, msg)
		if ok && reply != nil {
			var p dnsmessage.Parser
			if _, err := p.Start(reply); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
		}
	})
}

func FuzzParseZone(f *testing.F) {
	f.Add(testZone)
	f.Add("x A 1.2.3.4\nx RCODE REFUSED AAAA\n")
	f.Fuzz(func(t *testing.T, text string) {
		z, err := parseZone(strings.NewReader(text))
		if err != nil {
			return
		}
		for name := range z.records {
			z.lookup(name, dnsmessage.TypeA)
		}
	})
}

func BenchmarkRespond(b *testing.B) {
	z := mustZone(b)
	q := query(b, "alias.example.", dnsmessage.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		respond(z, q)
	}
}
