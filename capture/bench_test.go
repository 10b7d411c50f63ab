package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// benchFrames is how many frames of 600 bytes the reading benchmarks' files hold.
const benchFrames = 20000

// benchRead reads a capture file through Open and NextFrame, reporting per-frame costs.
func benchRead(b *testing.B, data []byte) {
	path := writeTemp(b, "bench.cap", data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.NextFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != benchFrames {
			b.Fatalf("%d frames", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFrames), "ns/frame")
}

// BenchmarkReadPcap reads a pcap file of 20,000 frames of 600 bytes.
func BenchmarkReadPcap(b *testing.B) { benchRead(b, simplePcap(benchFrames, 600)) }

// BenchmarkReadPcapng reads a pcapng file of 20,000 frames of 600 bytes.
func BenchmarkReadPcapng(b *testing.B) {
	pkts := make([]ngPacket, benchFrames)
	for i := range pkts {
		pkts[i] = ngPacket{ts: time.Unix(int64(1000+i), 0), data: bytes.Repeat([]byte{byte(i)}, 600)}
	}
	benchRead(b, ngSection(b, []layers.LinkType{layers.LinkTypeEthernet}, pkts, 0))
}
