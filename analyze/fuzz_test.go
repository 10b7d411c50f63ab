package analyze_test

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/rules"
)

// FuzzEngine feeds the engine packet sequences made from the fuzzer's bytes: any order of flags, sequence
// numbers, payloads (TLS, HTTP, DNS or garbage) on a few ports, in both directions. The engine must never panic,
// and every record must carry a known verdict.
//
// Each packet takes: 1 byte (bit 0: from the server; bits 1-2: which port pair; bit 3: UDP; bit 4: an ICMP
// destination unreachable with code flags&15 quoting the pair's client-to-server packet, complete when the
// offset is even; bit 5: in VXLAN, VNI bits 6-7), 1 byte TCP flags, 2 bytes sequence offset, 1 byte payload
// length, then the payload.
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
	query := []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	f.Add(seed(pkt(8, 0, 0, query)))
	f.Add(seed(pkt(0, syn, 0, nil), pkt(0x11, 13, 0, nil), pkt(0, syn, 0, nil), pkt(0x11, 4, 1, nil)))
	f.Add(seed(pkt(14, 0, 0, query), pkt(0x1f, 3, 0, nil), pkt(8, 0, 0, []byte("x")), pkt(0x19, 3, 0, nil)))
	f.Add(seed(pkt(0x20, syn, 0, nil), pkt(0x60, syn, 0, nil), pkt(0x21, syn|ack, 0, nil), pkt(0x71, 10, 0, nil),
		pkt(0x20, ack|psh, 1, hello)))
	table, err := rules.Load(nil)
	if err != nil {
		f.Fatal(err)
	}
	matcher := rules.NewMatcher(table)
	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWire(t, analyze.Options{Matcher: matcher})
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
			if meta&0x10 != 0 {
				p.ICMP = decode.ICMP{Kind: decode.ICMPUnreachable, Type: 3, Code: flags & 15, Proto: p.IPProto,
					Src: w.client, Dst: w.server, SrcPort: ports[0], DstPort: ports[1], Complete: off&1 == 0}
				p.IPProto, p.SrcPort, p.DstPort, p.TCPFlags = 1, 0, 0, 0
			}
			if meta&0x20 != 0 {
				p.Tunnel = decode.Tunnel{Kind: decode.TunnelVXLAN, Src: w.client, Dst: w.server, ID: uint32(meta >> 6),
					HasID: true, Depth: 1}
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
