package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// readAll reads every frame, copying the data, and returns them with the reader's warnings.
func readAll(t testing.TB, paths ...string) ([]Frame, []Warning, Stats) {
	t.Helper()
	r, err := Open(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames []Frame
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Data = append([]byte(nil), f.Data...)
		frames = append(frames, f)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v, want io.EOF", err)
	}
	return frames, r.Warnings(), r.Stats()
}

// blockOffsets lists the start of every pcapng block (little-endian files, as pcapgo writes them).
func blockOffsets(data []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(data); {
		offs = append(offs, off)
		off += int(binary.LittleEndian.Uint32(data[off+4:]))
	}
	return offs
}

// ngThree is a pcapng section with three 100-byte Ethernet packets; its blocks are SHB, IDB, EPB, EPB, EPB.
func ngThree(t testing.TB) []byte {
	base := time.Unix(1000, 0)
	var pkts []ngPacket
	for i := 0; i < 3; i++ {
		pkts = append(pkts, ngPacket{ts: base.Add(time.Duration(i) * time.Second), data: bytes.Repeat([]byte{byte(i)}, 100)})
	}
	return ngSection(t, []layers.LinkType{layers.LinkTypeEthernet}, pkts, -1)
}

func TestBrokenFiles(t *testing.T) {
	const skipped = "; rest of file skipped"
	three := simplePcap(3, 100) // records of 16+100 bytes from offset 24
	ng := ngThree(t)
	epb2 := blockOffsets(ng)[3]
	badIface := append([]byte(nil), ng...)
	binary.LittleEndian.PutUint32(badIface[epb2+8:], 5)
	badLen := append([]byte(nil), ng...)
	binary.LittleEndian.PutUint32(badLen[epb2+4:], 0xffffff00)
	badTrailer := append([]byte(nil), ng...)
	epb2Len := int(binary.LittleEndian.Uint32(ng[epb2+4:]))
	binary.LittleEndian.PutUint32(badTrailer[epb2+epb2Len-4:], uint32(epb2Len+4))
	huge := make([]byte, 300000)
	tests := []struct {
		name     string
		data     []byte
		frames   int
		lastLen  int       // length of the last frame read
		warnings []Warning // File is filled in by the test
	}{
		{"complete pcap", three, 3, 100, nil},
		{"truncated last packet", three[:len(three)-10], 2, 100,
			[]Warning{{Frame: 3, Offset: 256, Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"truncated record header", three[:256+8], 2, 100,
			[]Warning{{Frame: 3, Offset: 256, Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"record header without its bytes", three[:256+16], 2, 100,
			[]Warning{{Frame: 3, Offset: 256, Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"2 MiB packet under a 4 GiB snaplen", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 0xffffffff,
			layers.LinkTypeEthernet, rec{data: make([]byte, 2<<20)}, rec{data: make([]byte, 60)}), 1, 60,
			[]Warning{{Frame: 1, Offset: 24, Msg: "frame of 2097152 bytes is over the 262144-byte frame cap; frame skipped"}}},
		{"2 MiB packet cut", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 0xffffffff, layers.LinkTypeEthernet,
			rec{data: make([]byte, 60)}, rec{data: make([]byte, 2<<20)})[:3<<20/2], 1, 60,
			[]Warning{{Frame: 2, Offset: 100, Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"caplen above snaplen", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 100, layers.LinkTypeEthernet,
			rec{data: make([]byte, 200)}), 1, 200, nil},
		{"caplen above 256 KiB", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet,
			rec{data: make([]byte, 60)}, rec{data: huge}, rec{data: make([]byte, 60)}), 1, 60,
			[]Warning{{Frame: 2, Offset: 100, Msg: "capture length exceeds snap length: 300000 > 65535" + skipped}}},
		{"caplen above wire length", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet,
			rec{caplen: 100, wirlen: 50, data: make([]byte, 100)}), 0, 0,
			[]Warning{{Frame: 1, Offset: 24, Msg: "capture length exceeds original packet length: 100 > 50" + skipped}}},
		{"zero-length packet", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet,
			rec{}, rec{data: make([]byte, 60)}), 2, 60, nil},
		{"256 KiB packet", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 262144, layers.LinkTypeEthernet,
			rec{data: make([]byte, 262144)}), 1, 262144, nil},
		{"pcapng 256 KiB packet", ngSection(t, []layers.LinkType{layers.LinkTypeEthernet},
			[]ngPacket{{data: make([]byte, 262144)}}, -1), 1, 262144, nil},
		{"complete pcapng", ng, 3, 100, nil},
		{"pcapng bad interface id in the middle", badIface, 1, 100, []Warning{{Frame: 2, Offset: int64(epb2),
			Msg: "interface id 5 not present in section (have only 1 interfaces)" + skipped}}},
		{"pcapng bad block length in the middle", badLen, 1, 100, []Warning{{Frame: 2, Offset: int64(epb2),
			Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"pcapng block lengths differ", badTrailer, 1, 100, []Warning{{Frame: 2, Offset: int64(epb2),
			Msg: "pcapng block of type 0x6: length 132 at its start, 136 at its end" + skipped}}},
		{"pcapng truncated last block", ng[:len(ng)-6], 2, 100, []Warning{{Frame: 3, Offset: int64(blockOffsets(ng)[4]),
			Msg: "unexpected end of file (truncated capture)" + skipped}}},
		{"gzip pcap", gzipBytes(t, three), 3, 100, nil},
		{"gzip pcapng", gzipBytes(t, ng), 3, 100, nil},
		{"truncated gzip", gzipBytes(t, three)[:60], 3, 100, // repeated bytes compress well: 60 bytes hold 3 frames
			[]Warning{{Frame: 4, Offset: 372, Msg: "unexpected end of file (truncated capture)" + skipped}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "x.cap", tt.data)
			frames, warnings, st := readAll(t, path)
			if len(frames) != tt.frames {
				t.Fatalf("read %d frames, want %d (warnings %v)", len(frames), tt.frames, warnings)
			}
			if n := len(frames); n > 0 && len(frames[n-1].Data) != tt.lastLen {
				t.Errorf("last frame has %d bytes, want %d", len(frames[n-1].Data), tt.lastLen)
			}
			for i := range tt.warnings {
				tt.warnings[i].File = path
			}
			if !equalWarnings(warnings, tt.warnings) {
				t.Errorf("warnings\n got %v\nwant %v", warnings, tt.warnings)
			}
			stopped := len(tt.warnings) > 0 && strings.HasSuffix(tt.warnings[len(tt.warnings)-1].Msg, skipped)
			if st.Files[0].Stopped != stopped {
				t.Errorf("Stopped = %v", st.Files[0].Stopped)
			}
		})
	}
}

func equalWarnings(a, b []Warning) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string // after "PATH: "
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "not a pcap or pcapng file (magic 47 45 54 20)"},
		{"empty", nil, "not a pcap or pcapng file (empty)"},
		{"two bytes", []byte{0xd4, 0xc3}, "not a pcap or pcapng file (magic d4 c3)"},
		{"gzip of garbage", gzipBytes(t, []byte("hello world")), "not a pcap or pcapng file (magic 68 65 6c 6c)"},
		{"gzip of gzip", gzipBytes(t, gzipBytes(t, simplePcap(1, 60))), "not a pcap or pcapng file (magic 1f 8b 08 00)"},
		{"pcap header cut", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, "read pcap header: unexpected end of file (truncated capture)"},
		{"pcap major version 3", pcapVersion(3), "read pcap header: unknown major version 3"},
		{"broken gzip header", []byte{0x1f, 0x8b, 0x01, 0x02}, "read gzip header: unexpected end of file (truncated capture)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "x.pcap", tt.data)
			r, err := Open([]string{path})
			if err == nil {
				r.Close()
				t.Fatal("no error")
			}
			if want := path + ": " + tt.want; err.Error() != want {
				t.Errorf("error\n got %q\nwant %q", err, want)
			}
		})
	}
}

func pcapVersion(major uint16) []byte {
	b := simplePcap(1, 60)
	binary.LittleEndian.PutUint16(b[4:], major)
	return b
}

func TestOpenArguments(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"no files", nil, "open capture: no files given"},
		{"stdin twice", []string{"-", "-"}, "open capture: standard input (-) given more than once"},
		{"missing file", []string{missing}, "open capture: open " + missing + ": no such file or directory"},
		{"one of a set missing", []string{writeTemp(t, "good.pcap", simplePcap(1, 60)), missing},
			"open capture: open " + missing + ": no such file or directory"},
		{"a directory in a set", []string{writeTemp(t, "good.pcap", simplePcap(1, 60)), t.TempDir()},
			"is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.paths)
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOpenSkipsBadFileInSet checks that one unreadable file in a set of rotated captures is a warning, and the
// others are still read.
func TestOpenSkipsBadFileInSet(t *testing.T) {
	good := writeTemp(t, "good.pcap", simplePcap(1, 60))
	empty := writeTemp(t, "empty.pcap", nil)
	r, err := Open([]string{good, empty})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	w := r.Warnings()
	if len(w) != 1 || w[0].String() != empty+": not a pcap or pcapng file (empty) (file skipped)" {
		t.Errorf("warnings = %q", w)
	}
}

func TestFormats(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ts := rec{sec: 1700000000, usec: 123456, data: data}
	tests := []struct {
		name   string
		file   []byte
		format string
		nanos  int
	}{
		{"pcap le", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw, ts), "pcap", 123456000},
		{"pcap be", pcapBytes(binary.BigEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw, ts), "pcap", 123456000},
		{"pcap ns le", pcapBytes(binary.LittleEndian, 0xa1b23c4d, 65535, layers.LinkTypeRaw, ts), "pcap-ns", 123456},
		{"pcap ns be", pcapBytes(binary.BigEndian, 0xa1b23c4d, 65535, layers.LinkTypeRaw, ts), "pcap-ns", 123456},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, w, st := readAll(t, writeTemp(t, "f", tt.file))
			if len(frames) != 1 || len(w) != 0 {
				t.Fatalf("frames %d warnings %v", len(frames), w)
			}
			f := frames[0]
			if f.Timestamp.Unix() != 1700000000 || f.Timestamp.Nanosecond() != tt.nanos {
				t.Errorf("timestamp %v", f.Timestamp)
			}
			if !bytes.Equal(f.Data, data) || f.LinkType != layers.LinkTypeRaw || f.Number != 1 || f.WireLen != 8 {
				t.Errorf("frame %+v", f)
			}
			if st.Files[0].Format != tt.format {
				t.Errorf("format %q, want %q", st.Files[0].Format, tt.format)
			}
		})
	}
}

// TestPcapngSectionsInterfaces checks per-packet link types, file-wide interface numbering over two sections
// and the drop counters of interface statistics blocks.
func TestPcapngSectionsInterfaces(t *testing.T) {
	base := time.Unix(2000, 0)
	sec1 := ngSection(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, []ngPacket{
		{iface: 0, ts: base, data: []byte{1}},
		{iface: 1, ts: base.Add(time.Second), data: []byte{2}},
	}, 7)
	sec2 := ngSection(t, []layers.LinkType{layers.LinkTypeLinuxSLL2}, []ngPacket{
		{iface: 0, ts: base.Add(2 * time.Second), data: []byte{3}},
	}, 3)
	frames, w, st := readAll(t, writeTemp(t, "two.pcapng", append(sec1, sec2...)))
	if len(w) != 0 || len(frames) != 3 {
		t.Fatalf("frames %d warnings %v", len(frames), w)
	}
	want := []struct {
		lt    layers.LinkType
		iface int
	}{{layers.LinkTypeEthernet, 0}, {layers.LinkTypeRaw, 1}, {layers.LinkTypeLinuxSLL2, 2}}
	for i, f := range frames {
		if f.LinkType != want[i].lt || f.Interface != want[i].iface || f.Number != uint64(i+1) {
			t.Errorf("frame %d: link type %v interface %d number %d", i+1, f.LinkType, f.Interface, f.Number)
		}
	}
	ifs := st.Files[0].Interfaces
	if len(ifs) != 3 {
		t.Fatalf("interfaces %+v", ifs)
	}
	if !ifs[0].DropsKnown || ifs[0].Dropped != 7 || ifs[1].DropsKnown || !ifs[2].DropsKnown || ifs[2].Dropped != 3 {
		t.Errorf("drops %+v", ifs)
	}
	if got := st.LinkTypes; len(got) != 3 || got[2] != layers.LinkTypeLinuxSLL2 {
		t.Errorf("link types %v", got)
	}
}

// TestMerge checks time order across files, ties broken by file order, and file order kept inside a file even
// when its timestamps go backwards.
func TestMerge(t *testing.T) {
	a := pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 1, data: []byte{'a', 1}}, rec{sec: 3, data: []byte{'a', 2}}, rec{sec: 2, data: []byte{'a', 3}})
	b := pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 1, data: []byte{'b', 1}}, rec{sec: 2, data: []byte{'b', 2}}, rec{sec: 5, data: []byte{'b', 3}})
	frames, _, st := readAll(t, writeTemp(t, "a.pcap", a), writeTemp(t, "b.pcap", b))
	var got []string
	for _, f := range frames {
		got = append(got, string(f.Data[0])+string('0'+f.Data[1]))
	}
	if want := "a1 b1 b2 a2 a3 b3"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	if st.Frames != 6 || len(st.Files) != 2 || st.Files[1].Frames != 3 || st.BytesTotal != int64(len(a)+len(b)) {
		t.Errorf("stats %+v", st)
	}
	if st.BytesRead != st.BytesTotal {
		t.Errorf("bytes read %d of %d", st.BytesRead, st.BytesTotal)
	}
}

// TestZeroCopyUntilNext checks that a merged frame's data survives until the next call, although the other
// file is read meanwhile.
func TestZeroCopyUntilNext(t *testing.T) {
	a := writeTemp(t, "a.pcap", simplePcap(50, 64))
	b := writeTemp(t, "b.pcap", simplePcap(50, 64))
	r, err := Open([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		want := bytes.Repeat([]byte{f.Data[0]}, 64)
		if byte(f.Number) != f.Data[0] || !bytes.Equal(f.Data, want) {
			t.Fatalf("file %d frame %d: data %x", f.File, f.Number, f.Data[:4])
		}
	}
}

func TestClosed(t *testing.T) {
	r, err := Open([]string{writeTemp(t, "a.pcap", simplePcap(1, 60))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || err.Error() != "capture reader closed" {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestWarningString(t *testing.T) {
	w := Warning{File: "x.pcap", Frame: 3, Offset: 256, Msg: "unexpected end of file (truncated capture)"}
	if got, want := w.String(), "x.pcap: frame 3 (byte offset 256): unexpected end of file (truncated capture)"; got != want {
		t.Errorf("got %q", got)
	}
}

// TestStdin reads a capture from standard input.
func TestStdin(t *testing.T) {
	path := writeTemp(t, "in.pcap", simplePcap(2, 60))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	frames, w, st := readAll(t, "-")
	if len(frames) != 2 || len(w) != 0 || st.Files[0].Name != "<stdin>" {
		t.Errorf("frames %d warnings %v name %q", len(frames), w, st.Files[0].Name)
	}
}

// TestStdinInSet checks standard input merged with a file: it is read once, kept open from Open on.
func TestStdinInSet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdin  []byte
		frames int
		warns  int
	}{
		{"frames", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
			rec{sec: 2, data: []byte{'s', 1}}, rec{sec: 4, data: []byte{'s', 2}}), 4, 0},
		{"header only", simplePcap(0, 0), 2, 0},
		{"cut before its first frame", simplePcap(1, 60)[:30], 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.Open(writeTemp(t, "in.pcap", tc.stdin))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			old := os.Stdin
			os.Stdin = in
			defer func() { os.Stdin = old }()
			file := writeTemp(t, "f.pcap", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
				rec{sec: 1, data: []byte{'f', 1}}, rec{sec: 3, data: []byte{'f', 2}}))
			frames, w, st := readAll(t, "-", file)
			var got []string
			for _, f := range frames {
				got = append(got, string(f.Data[0])+string('0'+f.Data[1]))
			}
			if len(frames) != tc.frames || len(w) != tc.warns || st.Files[0].Name != "<stdin>" {
				t.Errorf("frames %v warnings %v files %+v", got, w, st.Files)
			}
			if tc.frames == 4 && strings.Join(got, " ") != "f1 s1 f2 s2" {
				t.Errorf("order %v", got)
			}
		})
	}
}

// TestMergeAgreesWithFullMerge checks the reader, which opens a file of a set only when its first frame is due,
// against a merge that looks at every file's next frame at every step, over sets of files that overlap in
// time, follow one another, and go backwards in time inside a file.
func TestMergeAgreesWithFullMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		nfiles := 1 + rng.IntN(12)
		files := make([][]rec, nfiles)
		var paths []string
		for f := range files {
			sec := uint32(rng.IntN(50))
			for i := range rng.IntN(8) {
				sec = uint32(max(0, int(sec)+rng.IntN(6)-1)) // mostly forwards, sometimes back a second
				files[f] = append(files[f], rec{sec: sec, data: []byte{byte(f), byte(i)}})
			}
			paths = append(paths, writeTemp(t, fmt.Sprintf("r%d-f%d.pcap", round, f),
				pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw, files[f]...)))
		}
		var want []string
		next := make([]int, nfiles)
		for {
			best := -1
			for f := range files {
				if next[f] < len(files[f]) && (best < 0 || files[f][next[f]].sec < files[best][next[best]].sec) {
					best = f
				}
			}
			if best < 0 {
				break
			}
			want = append(want, fmt.Sprint(files[best][next[best]].data))
			next[best]++
		}
		frames, warnings, _ := readAll(t, paths...)
		var got []string
		for _, f := range frames {
			got = append(got, fmt.Sprint(f.Data))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || len(warnings) != 0 {
			t.Fatalf("round %d: order\n got %v\nwant %v\nwarnings %v", round, got, want, warnings)
		}
	}
}

// TestTooManyOverlappingFiles checks the cap on files open at once: files whose times all overlap must all be
// open together, and one more than the cap is an error naming it.
func TestTooManyOverlappingFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range maxOpenFiles + 1 {
		p := filepath.Join(dir, fmt.Sprintf("f%03d.pcap", i))
		if err := os.WriteFile(p, simplePcap(2, 60), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	r, err := Open(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for n := 0; err == nil; n++ { // every first frame comes before any second one
		_, err = r.Next()
		if n > maxOpenFiles+1 {
			t.Fatalf("%d frames and no error", n)
		}
	}
	want := fmt.Sprintf("open capture %s: more than %d capture files overlap in time; merge some first (mergecap)",
		paths[maxOpenFiles], maxOpenFiles)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	// Below the cap the same files read in full.
	frames, w, _ := readAll(t, paths[:maxOpenFiles]...)
	if len(frames) != 2*maxOpenFiles || len(w) != 0 {
		t.Errorf("%d frames, warnings %v", len(frames), w)
	}
}

// TestFileRemovedAfterOpen checks that a file of a set removed between Open and its turn is an error naming
// it, not a silent skip.
func TestFileRemovedAfterOpen(t *testing.T) {
	a := writeTemp(t, "a.pcap", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 1, data: []byte{1}}))
	b := writeTemp(t, "b.pcap", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeRaw,
		rec{sec: 2, data: []byte{2}}))
	r, err := Open([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	_, err = r.Next()
	if want := "open capture: open " + b + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
