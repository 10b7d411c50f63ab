package quic

import "testing"

// BenchmarkClientInitial is the cost of a flow's first datagram: key derivation, header protection, AES-GCM
// and the frame walk over RFC 9001's 1200-byte client Initial, on a reused Flow.
func BenchmarkClientInitial(b *testing.B) {
	pkt := readHex(b, "rfc9001-client-initial.hex")
	var f Flow
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		f.Reset()
		if f.Client(pkt) != Complete {
			b.Fatal(f.Err())
		}
	}
}

// BenchmarkShortHeader is the cost of every later datagram of a QUIC flow (1-RTT, short header) on both
// sides: one comparison, no allocation.
func BenchmarkShortHeader(b *testing.B) {
	var f Flow
	f.Client(readHex(b, "rfc9001-client-initial.hex"))
	d := make([]byte, 1350)
	d[0] = 0x43
	b.ReportAllocs()
	for b.Loop() {
		f.Client(d)
		f.Server(d)
	}
}
