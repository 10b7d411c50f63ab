package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/internal/hostile"
)

// FuzzOpen feeds arbitrary bytes as a capture file: reading must end (EOF or a warning) without panicking,
// never return more frames than the input could hold, and keep within the caps: no frame over maxFrameLen,
// no more than maxInterfaces interfaces, no name over maxInterfaceNameLen, no timestamp outside 1970 to 2262,
// and a bounded number of warnings.
func FuzzOpen(f *testing.F) {
	f.Add(simplePcap(3, 60))
	f.Add(simplePcap(2, 60)[:100])
	f.Add(pcapBytes(binary.BigEndian, 0xa1b23c4d, 96, layers.LinkTypeLinuxSLL2, rec{data: make([]byte, 40)}))
	f.Add(ngSection(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw},
		[]ngPacket{{ts: time.Unix(1, 0), data: []byte{1, 2, 3}}, {iface: 1, data: []byte{0x45}}}, 2))
	f.Add(gzipBytes(f, simplePcap(2, 60)))
	f.Add([]byte{})
	for _, write := range []func(io.Writer) error{hostile.PcapngTimestampOverflow, hostile.PcapFarFuture} {
		var b bytes.Buffer
		_ = write(&b)
		f.Add(b.Bytes())
	}
	f.Add(append(hostile.SectionHeader(), hostile.InterfaceDesc(strings.Repeat("n", 300))...))
	f.Add(bytes.Repeat(append(hostile.SectionHeader(), hostile.InterfaceDesc("x")...), 3))
	addSharedSeeds(f, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		var warnings []Warning
		s, err := newSource("fuzz", 0, bytes.NewReader(data), &warnings)
		if err != nil {
			return
		}
		for n := 0; s.readNext(); n++ {
			if n > len(data) {
				t.Fatalf("frame %d from an input of %d bytes", n, len(data))
			}
			if len(s.pending.Data) > maxFrameLen {
				t.Fatalf("frame of %d bytes", len(s.pending.Data))
			}
			if ts := s.pending.Timestamp; ts.Unix() < 0 || ts.Unix() > maxUnixSeconds {
				t.Fatalf("timestamp %v", ts)
			}
		}
		if len(s.stats.Interfaces) > maxInterfaces {
			t.Fatalf("%d interfaces", len(s.stats.Interfaces))
		}
		for _, ifc := range s.stats.Interfaces {
			if len(ifc.Name) > maxInterfaceNameLen {
				t.Fatalf("interface name of %d bytes", len(ifc.Name))
			}
		}
		if len(warnings) > 2+int(noteKinds)*(maxNotesPerKind+1) {
			t.Fatalf("%d warnings", len(warnings))
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
