package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rec is one packet record to write into a test capture.
type rec struct {
	sec, usec      uint32
	caplen, wirlen uint32 // caplen 0 with data: len(data)
	data           []byte
}

// pcapBytes builds a pcap file by hand, so tests control every field (byte order, snaplen, lying lengths).
func pcapBytes(order binary.ByteOrder, magic uint32, snaplen uint32, lt layers.LinkType, recs ...rec) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], snaplen)
	order.PutUint32(hdr[20:], uint32(lt))
	b.Write(hdr)
	for _, r := range recs {
		h := make([]byte, 16)
		caplen, wirelen := r.caplen, r.wirlen
		if caplen == 0 {
			caplen = uint32(len(r.data))
		}
		if wirelen == 0 {
			wirelen = caplen
		}
		order.PutUint32(h[0:], r.sec)
		order.PutUint32(h[4:], r.usec)
		order.PutUint32(h[8:], caplen)
		order.PutUint32(h[12:], wirelen)
		b.Write(h)
		b.Write(r.data)
	}
	return b.Bytes()
}

// simplePcap is a little-endian microsecond Ethernet pcap with n packets of size bytes, one second apart.
func simplePcap(n, size int) []byte {
	var recs []rec
	for i := 0; i < n; i++ {
		recs = append(recs, rec{sec: uint32(1000 + i), data: bytes.Repeat([]byte{byte(i + 1)}, size)})
	}
	return pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet, recs...)
}

// ngPacket is one packet to write with pcapgo's NgWriter.
type ngPacket struct {
	iface int
	ts    time.Time
	data  []byte
}

// ngSection writes one pcapng section with the given interfaces (link types), packets and, when drops >= 0,
// an interface statistics block for interface 0.
func ngSection(t testing.TB, lts []layers.LinkType, pkts []ngPacket, drops int64) []byte {
	t.Helper()
	var b bytes.Buffer
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = lts[0]
	intf.Name = "if0"
	w, err := pcapgo.NewNgWriterInterface(&b, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range lts[1:] {
		intf.LinkType = lt
		intf.Name = "if" + string(rune('1'+i))
		if _, err := w.AddInterface(intf); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pkts {
		if p.ts.IsZero() { // the zero time.Time is out of pcapng's range
			p.ts = time.Unix(1, 0)
		}
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: p.iface}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if drops >= 0 {
		st := pcapgo.NgInterfaceStatistics{PacketsDropped: uint64(drops), PacketsReceived: pcapgo.NgNoValue64}
		if err := w.WriteInterfaceStats(0, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeTemp writes data into a file named name in a fresh temporary folder and returns its path.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
