package socksmsg

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzSOCKS feeds arbitrary bytes to both sides' parsers and checks what any input must satisfy: no panic,
// lengths inside the input, names inside their caps, and a Complete parse that its own prefix repeats (the
// engine parses a stream again as it grows).
func FuzzSOCKS(f *testing.F) {
	for _, s := range []string{curl5Greeting + curl5Request, curl5Greeting + curl5IPv4, curl4Request, socks4aRequest,
		userPassGreeting + userPassMsg + curl5Request, "05020001" + ndpi5IPv6Request, dante5Method + dante5Reply,
		dante5Method + dante5Refused, dante4Reply, "0502 0100" + dante5Reply, "05ff", "0500"} {
		b, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		st := ParseRequest(b, &r)
		sn := Sniff(b)
		if st == Complete {
			if r.Len <= 0 || r.Len > len(b) || len(r.Host) > MaxName || r.Command == 0 {
				t.Fatalf("complete request with len %d of %d, host %d bytes, command %d", r.Len, len(b), len(r.Host), r.Command)
			}
			if r.Host != nil && r.Addr.IsValid() {
				t.Fatal("both a host and an address")
			}
			var again Request
			if ParseRequest(b[:r.Len], &again) != Complete || again.Len != r.Len || !bytes.Equal(again.Host, r.Host) ||
				again.Port != r.Port || again.Addr != r.Addr {
				t.Fatalf("the request's own bytes parse otherwise: %+v vs %+v", again, r)
			}
			if sn != Complete {
				t.Fatalf("a complete request sniffs as %v", sn)
			}
		}
		if st == Invalid && sn != Invalid {
			t.Fatalf("an invalid request sniffs as %v", sn)
		}
		for _, v := range []Version{V4, V4a, V5} {
			var p Reply
			if ParseReply(b, v, &p) == Complete && (p.Len <= 0 || p.Len > len(b)) {
				t.Fatalf("complete reply with len %d of %d", p.Len, len(b))
			}
		}
	})
}
