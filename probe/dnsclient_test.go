package probe

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// answer builds a response to a question for name with the given records.
func answer(t testing.TB, id uint16, name string, qtype dnsmessage.Type, rcode dnsmessage.RCode, rrs ...dnsmessage.Resource) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RCode: rcode})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: qtype, Class: dnsmessage.ClassINET})
	b.StartAnswers()
	for _, rr := range rrs {
		switch body := rr.Body.(type) {
		case *dnsmessage.AResource:
			b.AResource(rr.Header, *body)
		case *dnsmessage.AAAAResource:
			b.AAAAResource(rr.Header, *body)
		case *dnsmessage.CNAMEResource:
			b.CNAMEResource(rr.Header, *body)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func rrA(name string, a [4]byte) dnsmessage.Resource {
	return dnsmessage.Resource{Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA,
		Class: dnsmessage.ClassINET, TTL: 60}, Body: &dnsmessage.AResource{A: a}}
}

func rrCNAME(name, target string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeCNAME,
		Class: dnsmessage.ClassINET, TTL: 60}, Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)}}
}

func TestParseAnswer(t *testing.T) {
	const name = "c.microsoft.com."
	tests := []struct {
		desc  string
		msg   []byte
		match bool
		addrs []string
		rcode string
	}{
		{"a record", answer(t, 7, name, dnsmessage.TypeA, dnsmessage.RCodeSuccess, rrA(name, [4]byte{198, 18, 1, 18})),
			true, []string{"198.18.1.18"}, ""},
		{"cname chain", answer(t, 7, name, dnsmessage.TypeA, dnsmessage.RCodeSuccess, rrCNAME(name, "x.trafficmanager.net."),
			rrA("x.trafficmanager.net.", [4]byte{198, 18, 1, 19})), true, []string{"198.18.1.19"}, ""},
		{"nxdomain", answer(t, 7, name, dnsmessage.TypeA, dnsmessage.RCodeNameError), true, nil, "NXDOMAIN"},
		{"nodata", answer(t, 7, name, dnsmessage.TypeA, dnsmessage.RCodeSuccess), true, nil, ""},
		{"other id", answer(t, 8, name, dnsmessage.TypeA, dnsmessage.RCodeSuccess, rrA(name, [4]byte{1, 2, 3, 4})), false, nil, ""},
		{"other question", answer(t, 7, "evil.example.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, rrA("evil.example.", [4]byte{1, 2, 3, 4})),
			false, nil, ""},
		{"other type", answer(t, 7, name, dnsmessage.TypeAAAA, dnsmessage.RCodeSuccess), false, nil, ""},
		{"garbage", []byte{0, 7, 0x80}, false, nil, ""},
	}
	for _, tt := range tests {
		addrs, match, err := parseAnswer(tt.msg, 7, "C.microsoft.com", dnsmessage.TypeA)
		var got []string
		for _, a := range addrs {
			got = append(got, a.String())
		}
		var rc *RcodeError
		rcode := ""
		if errors.As(err, &rc) {
			rcode = rcodeName(rc.Rcode)
		}
		if match != tt.match || !slices.Equal(got, tt.addrs) || rcode != tt.rcode {
			t.Errorf("%s: got %v match %v err %v, want %v match %v rcode %q", tt.desc, got, match, err, tt.addrs, tt.match, tt.rcode)
		}
	}
}

func TestBuildQuery(t *testing.T) {
	msg, id, err := buildQuery("enrollment.manage.microsoft.com", dnsmessage.TypeAAAA)
	if err != nil {
		t.Fatal(err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(msg); err != nil {
		t.Fatal(err)
	}
	if m.ID != id || !m.RecursionDesired || len(m.Questions) != 1 ||
		m.Questions[0].Name.String() != "enrollment.manage.microsoft.com." || m.Questions[0].Type != dnsmessage.TypeAAAA {
		t.Errorf("query %+v", m)
	}
	if _, _, err := buildQuery(string(make([]byte, 300)), dnsmessage.TypeA); err == nil {
		t.Errorf("a 300-byte name was accepted")
	}
}

func FuzzParseAnswer(f *testing.F) {
	name := "c.microsoft.com."
	f.Add(answer(f, 7, name, dnsmessage.TypeA, dnsmessage.RCodeSuccess, rrCNAME(name, "x.trafficmanager.net."),
		rrA("x.trafficmanager.net.", [4]byte{198, 18, 1, 19})))
	f.Add(answer(f, 7, name, dnsmessage.TypeA, dnsmessage.RCodeServerFailure))
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, match, err := parseAnswer(b, 7, name, dnsmessage.TypeA)
		if !match && (addrs != nil || err != nil) {
			t.Fatalf("no match but %v %v", addrs, err)
		}
		for _, a := range addrs {
			if !a.Is4() || a == (netip.Addr{}) {
				t.Fatalf("A answer gave %v", a)
			}
		}
	})
}
