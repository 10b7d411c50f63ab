// Command yardstick is the floor intunecap is measured against: the least a Go program must do to look at
// every packet of a capture. It reads with pcapgo's zero-copy reader over a 1 MiB buffered reader, decodes
// link, network and transport headers with a DecodingLayerParser, and counts packets.
//
//	go run ./tools/yardstick FILE
//
// It prints the packet count, the seconds it took and packets per second; make bench runs it side by side with
// intunecap on the same file, so the ratio means the same on any machine.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: yardstick FILE")
		os.Exit(2)
	}
	start := time.Now()
	n, err := count(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "yardstick: %v\n", err)
		os.Exit(1)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("packets %d\nseconds %.3f\npackets/s %.0f\n", n, secs, float64(n)/secs)
}

// zeroCopyReader is what pcapgo's pcap and pcapng readers share.
type zeroCopyReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// count reads and decodes every packet of the file at path.
func count(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	r, err := open(br)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	var (
		eth     layers.Ethernet
		dot1q   layers.Dot1Q
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		udp     layers.UDP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &payload)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	var n uint64
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read %s after %d packets: %w", path, n, err)
		}
		_ = parser.DecodeLayers(data, &decoded) // a packet it cannot decode is still a packet read
		n++
	}
}

// open reads the file header: pcap or pcapng, told apart by the magic.
func open(br *bufio.Reader) (zeroCopyReader, error) {
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("read magic: %w", err)
	}
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		return pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	}
	return pcapgo.NewReader(br)
}
