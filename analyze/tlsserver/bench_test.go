package tlsserver

import "testing"

// BenchmarkServerHello reads a TLS 1.3 ServerHello with a reused Flight: the engine's steady state.
func BenchmarkServerHello(b *testing.B) {
	data := record(22, serverHello(0x0303, 0x1301, versionsExt(0x0304), ext{51, make([]byte, 36)}))
	var f Flight
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f.Reset()
		f.Feed(data)
	}
}

// BenchmarkFlight12 reads a TLS 1.2 flight with a two-certificate chain in 1460-byte segments.
func BenchmarkFlight12(b *testing.B) {
	data := cat(record(22, serverHello(0x0303, 0xc02f, alpnExt("h2"))), record(22, certificateMsg(leafDER, caDER)),
		record(22, message(12, make([]byte, 300))), record(22, helloDone))
	var f Flight
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f.Reset()
		for d := data; len(d) > 0; {
			n := min(1460, len(d))
			f.Feed(d[:n])
			d = d[n:]
		}
	}
}
