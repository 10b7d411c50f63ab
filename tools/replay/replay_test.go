package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestScheduleDue(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, tt := range []struct {
		rate, i int
		want    time.Duration
	}{
		{0, 0, 0},
		{0, 1_000_000, 0}, // as fast as possible: every packet is due at once
		{1, 1, time.Second},
		{500_000, 0, 0},
		{500_000, 1, 2 * time.Microsecond},
		{500_000, 500_000, time.Second},
		{3, 1, 333_333_333}, // rounded down: never late
		{1_000_000, 10_000_000_000, 10_000 * time.Second},
	} {
		if got := (schedule{start: start, rate: tt.rate}).due(tt.i).Sub(start); got != tt.want {
			t.Errorf("rate %d: due(%d) = start+%v, want start+%v", tt.rate, tt.i, got, tt.want)
		}
	}
}

// fakeSender records the runs of packets asked for, and sends at most max of each run.
type fakeSender struct {
	max  int
	runs [][2]int // first, n asked
	sent []int
}

func (f *fakeSender) sendBatch(first, n int) (int, error) {
	f.runs = append(f.runs, [2]int{first, n})
	n = min(n, f.max)
	for i := range n {
		f.sent = append(f.sent, first+i)
	}
	return n, nil
}

// TestSendBatches checks that send asks for every packet once, in order, in runs of at most the batch size,
// also when the kernel takes only part of a run.
func TestSendBatches(t *testing.T) {
	for _, tt := range []struct{ count, batch, kernelMax int }{
		{1, 64, 64}, {64, 64, 64}, {65, 64, 64}, {1000, 64, 64}, {1000, 64, 7}, {10, 1, 1}, {5, 1024, 1024},
	} {
		f := &fakeSender{max: tt.kernelMax}
		if err := send(f, schedule{start: time.Now()}, tt.count, tt.batch); err != nil {
			t.Fatal(err)
		}
		if len(f.sent) != tt.count {
			t.Fatalf("%+v: sent %d packets, want %d", tt, len(f.sent), tt.count)
		}
		for i, p := range f.sent {
			if p != i {
				t.Fatalf("%+v: packet %d sent as %d", tt, i, p)
			}
		}
		for _, r := range f.runs {
			if r[1] < 1 || r[1] > tt.batch {
				t.Fatalf("%+v: a run of %d packets", tt, r[1])
			}
		}
	}
}

func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	eth := writeCapture(t, filepath.Join(dir, "eth.pcap"), layers.LinkTypeEthernet, testFrames(3))
	raw := writeCapture(t, filepath.Join(dir, "raw.pcap"), layers.LinkTypeRaw, [][]byte{make([]byte, 40)})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{eth}, "usage: replay -i IFACE"},
		{[]string{"-i", "veth0"}, "usage: replay -i IFACE"},
		{[]string{"-i", "veth0", "-rate", "-1", eth}, "-rate must be 0 to 100000000"},
		{[]string{"-i", "veth0", "-rate", "100000001", eth}, "-rate must be 0 to 100000000"},
		{[]string{"-i", "veth0", "-count", "-1", eth}, "-count >= 0"},
		{[]string{"-i", "veth0", "-batch", "0", eth}, "-batch 1 to 1024"},
		{[]string{"-i", "veth0", "-batch", "1025", eth}, "-batch 1 to 1024"},
		{[]string{"-i", "veth0", raw}, "frame 1 is Raw, not Ethernet"},
		{[]string{"-i", "veth0", filepath.Join(dir, "missing.pcap")}, "no such file"},
		{[]string{"-i", "no-such-interface-x", eth}, "no such network interface"},
	} {
		err := run(tt.args, new(bytes.Buffer))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %q: error %v, want one saying %q", tt.args, err, tt.want)
		}
	}
}

// testFrames makes n Ethernet frames of a local experimental EtherType, each marked and numbered, of sizes
// from 60 to over 1,000 bytes.
func testFrames(n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		f := make([]byte, 60+i*29%1000)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
		copy(f[14:], marker)
		binary.BigEndian.PutUint32(f[14+len(marker):], uint32(i))
		frames[i] = f
	}
	return frames
}

// marker starts the payload of every test frame, so frames the kernel sends by itself are told apart.
var marker = []byte("icap-replay")

func writeCapture(t *testing.T, path string, link layers.LinkType, frames [][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1_700_000_000, int64(i)), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
