package analyze_test

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// FuzzEngine feeds the engine packet sequences made from the fuzzer's bytes: any order of flags, sequence
// numbers, payloads (TLS, HTTP, DNS or garbage) on a few ports, in both directions. The engine must never panic,
// and every record must carry a known verdict. The engine's caps are made small so the fuzzer reaches them: a
// DNS cache of 8 entries and 2 KiB. A name read from the payload that is not a host name is never judged, and
// a connection whose first bytes were resent with other bytes is never allowed on its payload's name.
//
// Each packet takes: 1 byte (bit 0: from the server; bits 1-2: which port pair; bit 3: UDP; bit 4: the length
// counts 8-byte units, for QUIC Initials of 1200 bytes and more; bit 5: dated a century ahead of the others),
// 1 byte TCP flags, 2 bytes sequence offset, 1 byte payload length, then the payload. The seeds include QUIC:
// RFC 9001's client and server Initials to UDP 443, and the client's alone.
func FuzzEngine(f *testing.F) {
	hello := clientHello(f, "enrollment.manage.microsoft.com")
	seed := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	pkt := func(meta, flags byte, off uint16, payload []byte) []byte {
		b := []byte{meta, flags, byte(off >> 8), byte(off), byte(len(payload))}
		return append(b, payload...)
	}
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack, 1, nil),
		pkt(0, ack|psh, 1, hello[:200]), pkt(0, ack|psh, 201, hello[200:400]), pkt(1, rst, 1, nil)))
	f.Add(seed(pkt(2, syn, 0, nil), pkt(3, syn|ack, 0, nil),
		pkt(2, ack|psh, 1, []byte("CONNECT a.manage.microsoft.com:443 HTTP/1.1\r\n\r\n")),
		pkt(3, ack|psh, 1, []byte("HTTP/1.1 407 Auth\r\n\r\n"))))
	socksReq := []byte{5, 1, 0, 3, 18, 'a', '.', 'm', 'a', 'n', 'a', 'g', 'e', '.', 'm', 'i', 'c', 'r', 'o', 's', 'o', 'f', 't', 1, 187}
	f.Add(seed(pkt(2, syn, 0, nil), pkt(3, syn|ack, 0, nil), pkt(2, ack|psh, 1, []byte{5, 1, 0}),
		pkt(3, ack|psh, 1, []byte{5, 0}), pkt(2, ack|psh, 4, socksReq),
		pkt(3, ack|psh, 3, []byte{5, 0, 0, 1, 198, 18, 0, 1, 4, 56}), pkt(2, ack|psh, uint16(4+len(socksReq)), hello[:200])))
	f.Add(seed(pkt(8, 0, 0, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})))
	long := func(meta byte, payload []byte) []byte { // a UDP payload padded to 8-byte units
		payload = append(payload, make([]byte, (8-len(payload)%8)%8)...)
		b := []byte{meta | 8 | 16, 0, 0, 0, byte(len(payload) / 8)}
		return append(b, payload...)
	}
	clientInitial := quicVector(f, "rfc9001-client-initial.hex")
	serverInitial := quicVector(f, "rfc9001-server-initial.hex")
	f.Add(seed(long(0, clientInitial), long(1, serverInitial), pkt(8, 0, 0, []byte{0x40, 1, 2, 3})))
	f.Add(seed(long(0, clientInitial), long(0, clientInitial)))
	f.Add(seed(long(0, quicVector(f, "rfc9369-client-initial.hex")), long(1, quicVector(f, "rfc9369-server-initial.hex"))))
	// Overlapping retransmissions with other bytes, a hole-ridden hello, a lone far-future frame, an answer
	// with false counts and one with many addresses.
	other := clientHello(f, "abcdefg.attacker.com.example")
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack|psh, 101, hello[100:250]),
		pkt(0, ack|psh, 101, other[100:250]), pkt(32, ack|psh, 1, hello[:100]), pkt(1, ack, 1, nil)))
	holes := []byte{}
	for i := 0; i < 20; i++ {
		holes = append(holes, pkt(0, ack|psh, uint16(1+10+20*i), hello[10+20*i:20+20*i])...)
	}
	f.Add(seed(pkt(0, syn, 0, nil), holes))
	answer := []byte{0, 9, 0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	for i := 0; i < 12; i++ {
		answer = append(answer, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, byte(i))
	}
	f.Add(seed(pkt(9, 0, 0, answer[:60]), pkt(9, 0, 0, answer), pkt(0, syn, 0, nil)))
	// A hello, then the server side's records out of order (a ServerHello head, an alert), then a client alert.
	serverHello := []byte{0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x03}
	f.Add(seed(pkt(0, syn, 0, nil), pkt(1, syn|ack, 0, nil), pkt(0, ack|psh, 1, hello[:250]),
		pkt(0, ack|psh, 251, hello[250:min(len(hello), 500)]), pkt(1, ack|psh, 12, []byte{0x15, 3, 3, 0, 2, 2, 40}),
		pkt(1, ack|psh, 1, serverHello), pkt(0, ack|psh, 501, []byte{0x15, 3, 3, 0, 2, 2, 48}), pkt(1, rst, 19, nil)))
	table, err := rules.Load(nil)
	if err != nil {
		f.Fatal(err)
	}
	matcher := rules.NewMatcher(table)
	public, err := certchain.PublicRoots()
	if err != nil {
		f.Fatal(err)
	}
	verifier := certchain.NewVerifier(public, nil) // built once: engines share it as a run's lanes do
	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWire(t, analyze.Options{Matcher: matcher, MaxDNSNames: 8, MaxDNSBytes: 2048, Verifier: verifier})
		sent := uint64(0)
		for len(data) >= 5 {
			meta, flags, off, n := data[0], data[1], binary.BigEndian.Uint16(data[2:4]), int(data[4])
			if meta&16 != 0 {
				n *= 8
			}
			data = data[5:]
			n = min(n, len(data))
			payload := data[:n]
			data = data[n:]
			ports := [4][2]uint16{{40000, 443}, {40001, 3128}, {40002, 80}, {40003, 53}}[meta>>1&3]
			src, dst, sport, dport := w.client, w.server, ports[0], ports[1]
			if meta&1 != 0 {
				src, dst, sport, dport = dst, src, dport, sport
			}
			p := decode.Packet{Src: src, Dst: dst, IPProto: 6, SrcPort: sport, DstPort: dport, TCPFlags: flags,
				Seq: 1000 + uint32(off), Ack: 1, Payload: payload}
			if meta&8 != 0 {
				p.IPProto, p.TCPFlags = 17, 0
			}
			if meta&32 != 0 {
				now := w.now
				w.now = w.now.Add(100 * 365 * 24 * time.Hour)
				w.send(p)
				w.now = now.Add(10 * time.Millisecond)
			} else {
				w.send(p)
			}
			sent++
		}
		for _, r := range w.finish() {
			if !slices.Contains(rules.Verdicts(), r.Verdict) {
				t.Errorf("record with verdict %q: %+v", r.Verdict, r)
			}
			fromPayload := r.NameSource == result.NameFromSNI || r.NameSource == result.NameFromHTTPHost ||
				r.NameSource == result.NameFromConnect
			if fromPayload && strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c >= 0x7f }) {
				t.Errorf("a name with control or non-ASCII bytes was kept raw: %+v", r)
			}
			if fromPayload && strings.ContainsAny(r.Name, " \\:/@") && r.Verdict != rules.Other {
				t.Errorf("a name that is not a host name was judged: %+v", r)
			}
			if fromPayload && r.OverlapConflict && r.Verdict == rules.Allowed {
				t.Errorf("allowed despite an overlap conflict: %+v", r)
			}
		}
		q := w.out.summary.Capture.Quality
		if q.TimeJumps > sent || q.StreamGapsOverCap > sent || q.OverlapConflicts > sent || q.DNSFalseCounts > sent {
			t.Errorf("quality counts more than the %d packets sent: %+v", sent, q)
		}
	})
}
