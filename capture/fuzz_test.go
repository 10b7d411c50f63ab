package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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

// FuzzMergeSet cuts the input into three files and reads them as a set: the frames must come in the order a
// merge that looks at every file's next frame at every step gives, from each file read alone. The reader
// opens a file only when its first frame is due, so this holds it to the plain merge on damaged, empty and
// out-of-order files alike.
func FuzzMergeSet(f *testing.F) {
	a := pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 1, data: []byte{'a', 1}}, rec{sec: 3, data: []byte{'a', 2}})
	b := pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 2, data: []byte{'b', 1}}, rec{sec: 2, data: []byte{'b', 2}})
	ng := ngSection(f, []layers.LinkType{layers.LinkTypeRaw}, []ngPacket{{ts: time.Unix(2, 0), data: []byte{'c', 1}}}, -1)
	f.Add(slices.Concat(a, b, ng), uint16(len(a)), uint16(len(a)+len(b)))
	f.Add(slices.Concat(b, a, a), uint16(len(b)), uint16(len(b)+len(a)))
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		c1 := min(int(cut1), len(data))
		c2 := min(max(int(cut2), c1), len(data))
		dir := t.TempDir()
		var paths []string
		var alone [][]Frame
		for i, part := range [][]byte{data[:c1], data[c1:c2], data[c2:]} {
			p := filepath.Join(dir, fmt.Sprintf("%d.cap", i))
			if err := os.WriteFile(p, part, 0o600); err != nil {
				t.Fatal(err)
			}
			frames, ok := readQuiet(p)
			if !ok { // not a capture: the set skips it
				continue
			}
			paths, alone = append(paths, p), append(alone, frames)
		}
		if len(paths) == 0 {
			return
		}
		var want []string
		next := make([]int, len(alone))
		for {
			best := -1
			for i := range alone {
				if next[i] < len(alone[i]) && (best < 0 || alone[i][next[i]].Timestamp.Before(alone[best][next[best]].Timestamp)) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			want = append(want, fmt.Sprintf("%d/%d", best, alone[best][next[best]].Number))
			next[best]++
		}
		set, _ := readQuiet(paths...)
		var got []string
		for _, fr := range set {
			got = append(got, fmt.Sprintf("%d/%d", fr.File, fr.Number))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("order %v, want %v", got, want)
		}
	})
}

// readQuiet reads every frame of the files (Data dropped), or reports false when they cannot be opened.
func readQuiet(paths ...string) ([]Frame, bool) {
	r, err := Open(paths)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	var frames []Frame
	for {
		f, err := r.Next()
		if err != nil {
			return frames, true
		}
		f.Data = nil
		frames = append(frames, f)
	}
}
