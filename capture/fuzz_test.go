package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// FuzzOpen feeds arbitrary bytes as a capture file: reading must end (EOF or a warning) without panicking, and
// never return more frames than the input could hold.
func FuzzOpen(f *testing.F) {
	f.Add(simplePcap(3, 60))
	f.Add(simplePcap(2, 60)[:100])
	f.Add(pcapBytes(binary.BigEndian, 0xa1b23c4d, 96, layers.LinkTypeLinuxSLL2, rec{data: make([]byte, 40)}))
	f.Add(ngSection(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw},
		[]ngPacket{{ts: time.Unix(1, 0), data: []byte{1, 2, 3}}, {iface: 1, data: []byte{0x45}}}, 2))
	f.Add(gzipBytes(f, simplePcap(2, 60)))
	f.Add([]byte{})
	addSharedSeeds(f, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		var warnings []Warning
		s, err := newSource("fuzz", 0, bytes.NewReader(data), &warnings)
		if err != nil {
			return
		}
		for n := 0; ; n++ {
			if !s.readNext() {
				return
			}
			if n > len(data) {
				t.Fatalf("frame %d from an input of %d bytes", n, len(data))
			}
		}
	})
}

// addSharedSeeds seeds a fuzz target with the small public captures, when they are available.
func addSharedSeeds(f *testing.F, maxSize int64) {
	dir := os.Getenv("INTUNECAP_SHARED_PCAPS")
	if dir == "" {
		return
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, name := range names {
		if fi, err := os.Stat(name); err != nil || fi.Size() > maxSize {
			continue
		}
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
}
