package decode

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// BenchmarkReadDecode reads and decodes a real capture; allocs/op must stay near 0 per packet (the reader's
// 1 MiB buffers are per file, not per packet).
func BenchmarkReadDecode(b *testing.B) {
	dir := pcaptest.SharedDir(b)
	path := filepath.Join(dir, "sv-windows-browsing-microsoft.pcap")
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(fi.Size())
	d := NewDecoder(Options{})
	var p Packet
	frames := 0
	for b.Loop() {
		r, err := capture.Open([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			_ = d.Decode(&f, &p)
			frames++
		}
		r.Close()
	}
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}

// BenchmarkDecode decodes real frames already in memory: the per-packet cost alone, 0 allocations.
func BenchmarkDecode(b *testing.B) {
	dir := pcaptest.SharedDir(b)
	r, err := capture.Open([]string{filepath.Join(dir, "sv-windows-browsing-microsoft.pcap")})
	if err != nil {
		b.Fatal(err)
	}
	var frames []capture.Frame
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		f.Data = append([]byte(nil), f.Data...)
		frames = append(frames, f)
	}
	r.Close()
	d := NewDecoder(Options{})
	var p Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = d.Decode(&frames[i%len(frames)], &p)
	}
}

// TestDecodeAllocs guards the zero-allocation promise on hand-built frames of every common shape.
func TestDecodeAllocs(t *testing.T) {
	ip4 := v4(t, data(), hello)
	ip6 := v6(t, data(), hello)
	frames := []struct {
		lt   layers.LinkType
		data []byte
	}{
		{layers.LinkTypeEthernet, ether(0x0800, ip4)},
		{layers.LinkTypeEthernet, ether(0x8100, cat(tag(5, 0x86dd), ip6))},
		{layers.LinkTypeEthernet, ether(0x0806, make([]byte, 28))},
		{layers.LinkTypeLinuxSLL2, sll2(0x86dd, withExt(ip6, routing))},
		{layers.LinkTypeRaw, v4(t, dnsUDP(), hello)},
		{239, nflog(2, ip4)},
		{layers.LinkTypeEthernet, ether(0x0800, icmpError4(t, 3, 13, ip4, -1))},
		{layers.LinkTypeRaw, icmpError6(t, 1, 1, withExt(ip6, routing), -1)},
		{layers.LinkTypeEthernet, outer(t, false, layers.IPProtocolUDP, ethernetOf(t, ip4), udpTo(4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 5})},
		{layers.LinkTypeEthernet, outer(t, true, layers.IPProtocolGRE, ethernetOf(t, ip6),
			&layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true}, &layers.ERSPANII{Version: 1})},
		{layers.LinkTypeEthernet, serialize(t, &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6),
			EthernetType: layers.EthernetTypeMPLSUnicast}, &layers.MPLS{Label: 16, StackBottom: true}, gopacket.Payload(ip4))},
	}
	d := NewDecoder(Options{})
	var p Packet
	for _, fr := range frames {
		f := frame(fr.lt, fr.data)
		if n := testing.AllocsPerRun(100, func() { _ = d.Decode(&f, &p) }); n != 0 {
			t.Errorf("link type %v: %v allocations per packet", fr.lt, n)
		}
	}
}
