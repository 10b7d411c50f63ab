package analyze_test

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/rules"
)

// FuzzEngine feeds the engine packet sequences made from the fuzzer's bytes: any order of flags, sequence
// numbers, payloads (TLS, HTTP, DNS or garbage) on a few ports, in both directions. The engine must never panic,
// and every record must carry a known verdict.
//
// Each packet takes: 1 byte (bit 0: from the server; bits 1-2: which port pair; bit 3: UDP), 1 byte TCP
// flags, 2 bytes sequence offset, 1 byte payload length, then the payload.
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
	f.Add(seed(pkt(8, 0, 0, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})))
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
		w := newWire(t, analyze.Options{Matcher: matcher, Verifier: verifier})
		for len(data) >= 5 {
			meta, flags, off, n := data[0], data[1], binary.BigEndian.Uint16(data[2:4]), int(data[4])
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
			w.send(p)
		}
		for _, r := range w.finish() {
			if !slices.Contains(rules.Verdicts(), r.Verdict) {
				t.Errorf("record with verdict %q: %+v", r.Verdict, r)
			}
		}
	})
}
