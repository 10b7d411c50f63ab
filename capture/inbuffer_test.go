package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/internal/hostile"
)

// readerOf is Open for one capture held in memory, read with buffers of readSize bytes; solo false makes
// every frame go through nextFrame (readPcap), the reference readInBuffer is held to.
func readerOf(data []byte, readSize int, solo, retain bool) (*Reader, bool) {
	r := &Reader{noSolo: !solo, retained: retain}
	s := &source{index: 0, warn: &r.warnings, stats: FileStats{Name: "mem", BytesTotal: -1}}
	if err := s.init(bytes.NewReader(data), -1, readSize); err != nil {
		return nil, false
	}
	r.srcs, r.firsts, r.queue = []*source{s}, []fileStart{{}}, []int{0}
	return r, true
}

// soloRun is what a reader gave: every frame (its data copied, its chunk told by whether it had one), the
// warnings, the statistics, and how many frames were asked for with the fast path on.
type soloRun struct {
	frames   []Frame
	chunked  []bool
	warnings []Warning
	stats    Stats
	fast     int
}

// readSolo reads data to its end as a lone file (see readerOf) and returns what the reader gave; false when
// data is not a capture.
func readSolo(t testing.TB, data []byte, readSize int, solo, retain bool) (soloRun, bool) {
	r, ok := readerOf(data, readSize, solo, retain)
	if !ok {
		return soloRun{}, false
	}
	defer r.Close()
	var run soloRun
	for {
		if r.solo != nil {
			run.fast++
		}
		f, err := r.NextFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("NextFrame: %v", err)
			}
			break
		}
		if recs := r.srcs[0].recs; recs != nil && recs.w-recs.r > recs.headroom {
			t.Fatalf("%d unread bytes in a chunk with %d bytes of headroom", recs.w-recs.r, recs.headroom)
		}
		g := *f
		g.Data = bytes.Clone(f.Data)
		run.chunked = append(run.chunked, g.Chunk != nil)
		g.Chunk = nil
		run.frames = append(run.frames, g)
	}
	run.warnings, run.stats = r.Warnings(), r.Stats()
	return run, true
}

// checkSolo reads data with and without readInBuffer, with several buffer sizes (small ones put records
// across chunks) and retention on and off, and fails on any difference.
func checkSolo(t testing.TB, data []byte) {
	for _, size := range []int{minBufferSize, 5000, bufferSize} {
		if size > minBufferSize && size > len(data) { // the whole file in one chunk, as with the smallest
			continue
		}
		for _, retain := range []bool{false, true} {
			want, ok := readSolo(t, data, size, false, retain)
			if !ok {
				return
			}
			got, _ := readSolo(t, data, size, true, retain)
			for i := range min(len(got.frames), len(want.frames)) {
				if !reflect.DeepEqual(got.frames[i], want.frames[i]) || got.chunked[i] != want.chunked[i] {
					t.Fatalf("buffer %d, retain %v: frame %d\n got %+v (chunk %v)\nwant %+v (chunk %v)", size, retain, i,
						got.frames[i], got.chunked[i], want.frames[i], want.chunked[i])
				}
			}
			if len(got.frames) != len(want.frames) {
				t.Fatalf("buffer %d, retain %v: %d frames, want %d", size, retain, len(got.frames), len(want.frames))
			}
			if !reflect.DeepEqual(got.warnings, want.warnings) {
				t.Fatalf("buffer %d, retain %v: warnings\n got %q\nwant %q", size, retain, got.warnings, want.warnings)
			}
			for _, st := range []*Stats{&got.stats, &want.stats} { // bytes read so far: read-ahead timing
				st.BytesRead = 0
				for i := range st.Files {
					st.Files[i].BytesRead = 0
				}
			}
			if !reflect.DeepEqual(got.stats, want.stats) {
				t.Fatalf("buffer %d, retain %v: stats\n got %+v\nwant %+v", size, retain, got.stats, want.stats)
			}
		}
	}
}

// TestReadInBufferAgainstReadPcap holds the reader's fast path for a lone pcap file to readPcap, which
// handles every case, on files built to take every exit of the fast path: records across chunks, lengths
// check rejects, frames over the frame cap and over the headroom (big), timestamps out of range and far from
// their neighbours, both byte orders, both resolutions, a cut last record; and on every capture under
// testdata/pcaps and the shared set.
func TestReadInBufferAgainstReadPcap(t *testing.T) {
	if maxHeadroom-recordHeaderLen != maxEagerCapLen || maxEagerCapLen != maxFrameLen || bufferSize > maxHeadroom {
		t.Fatal("readInBuffer takes a record that lies whole in a chunk to be within the caps: see its comment")
	}
	le, be := binary.LittleEndian, binary.BigEndian
	eth := layers.LinkTypeEthernet
	var many []rec
	for i := range 3000 {
		many = append(many, rec{sec: uint32(1_700_000_000 + i/10), usec: uint32(i * 997 % 1_000_000),
			data: bytes.Repeat([]byte{byte(i)}, 40+i*37%1500)})
	}
	jump := func(at ...int) []rec {
		out := append([]rec(nil), many[:200]...)
		for _, i := range at {
			out[i].sec += 40 * 86400
		}
		return out
	}
	big := bytes.Repeat([]byte{7}, 70_000)
	cases := []struct {
		name string
		data []byte
	}{
		{"many", pcapBytes(le, 0xa1b2c3d4, 65535, eth, many...)},
		{"big-endian", pcapBytes(be, 0xa1b2c3d4, 65535, eth, many[:500]...)},
		{"nanosecond", pcapBytes(le, 0xa1b23c4d, 65535, eth, many[:500]...)},
		{"nanosecond-then-jump", pcapBytes(le, 0xa1b23c4d, 65535, eth, append([]rec{{sec: 5, usec: 999_999_999, data: []byte{1}}}, many[:500]...)...)},
		{"usec-over-a-second", pcapBytes(le, 0xa1b2c3d4, 65535, eth, many[0], rec{sec: many[0].sec, usec: 1_500_000, data: []byte{2}}, many[1])},
		{"caplen-over-wirelen", pcapBytes(le, 0xa1b2c3d4, 65535, eth, many[0], many[1], rec{sec: many[1].sec, data: []byte{1, 2, 3}, wirlen: 2}, many[2])},
		{"caplen-over-snaplen", pcapBytes(le, 0xa1b2c3d4, 64, eth, many[:100]...)},
		{"over-eager-caplen", pcapBytes(le, 0xa1b2c3d4, 300_000, eth, many[0], many[1], rec{sec: many[1].sec, data: make([]byte, 270_000)}, many[2])},
		{"big-frames", pcapBytes(le, 0xa1b2c3d4, 262144, eth, many[0], many[1], rec{sec: many[1].sec, data: big}, many[2], rec{sec: many[2].sec, data: big}, rec{sec: many[2].sec, data: big})},
		{"over-headroom", pcapBytes(le, 0xa1b2c3d4, 65535, eth, append(append([]rec(nil), many[:3]...), rec{sec: many[2].sec, data: make([]byte, 6000)}, rec{sec: many[2].sec, data: make([]byte, 6000)}, many[3])...)},
		{"over-frame-cap", pcapBytes(le, 0xa1b2c3d4, 300_000, eth, many[0], many[1], rec{sec: many[1].sec, data: make([]byte, 262_150)}, many[2], many[3])},
		{"jump-middle", pcapBytes(le, 0xa1b2c3d4, 65535, eth, jump(100)...)},
		{"jump-stays", pcapBytes(le, 0xa1b2c3d4, 65535, eth, append(jump(), rec{sec: many[0].sec + 90*86400, data: []byte{1}}, rec{sec: many[0].sec + 90*86400, data: []byte{2}})...)},
		{"jump-first", pcapBytes(le, 0xa1b2c3d4, 65535, eth, jump(0)...)},
		{"jump-second", pcapBytes(le, 0xa1b2c3d4, 65535, eth, jump(1)...)},
		{"jump-last", pcapBytes(le, 0xa1b2c3d4, 65535, eth, jump(199)...)},
		{"jump-two", pcapBytes(le, 0xa1b2c3d4, 65535, eth, jump(50, 51)...)},
		{"cut", pcapBytes(le, 0xa1b2c3d4, 65535, eth, many[:300]...)[:20_000]},
		{"cut-header", pcapBytes(le, 0xa1b2c3d4, 65535, eth, many[:3]...)[:24+16+len(many[0].data)+8]},
		{"empty", pcapBytes(le, 0xa1b2c3d4, 65535, eth)},
		{"pcapng", ngThree(t)},
		{"gzip", gzipBytes(t, pcapBytes(le, 0xa1b2c3d4, 65535, eth, many[:1000]...))},
	}
	var far bytes.Buffer
	if err := hostile.PcapFarFuture(&far); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct {
		name string
		data []byte
	}{"far-future", far.Bytes()})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkSolo(t, c.data) })
	}
	// The fast path must be taken for plain files of either byte order and resolution: else the comparison
	// above proves nothing.
	for _, c := range cases[:3] {
		r, _ := readerOf(c.data, bufferSize, true, false)
		if _, err := r.NextFrame(); err != nil || r.solo == nil {
			t.Fatalf("%s: first frame: %v, fast path on: %v", c.name, err, r.solo != nil)
		}
		n := 1
		for r.solo.readInBuffer() {
			n++
		}
		if n < 100 { // the first chunk holds about 300
			t.Errorf("%s: readInBuffer read frames 2 to %d only, then gave the rest of the chunk to readPcap", c.name, n)
		}
		r.Close()
	}
	dirs := []string{"../testdata/pcaps"}
	if shared := os.Getenv("INTUNECAP_SHARED_PCAPS"); shared != "" {
		dirs = append(dirs, shared)
	} else {
		t.Log("INTUNECAP_SHARED_PCAPS is not set: the shared captures are not compared")
	}
	for _, dir := range dirs {
		names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		for _, name := range names {
			if filepath.Ext(name) == ".yaml" || filepath.Ext(name) == ".jsonl" {
				continue
			}
			if fi, err := os.Stat(name); err != nil || fi.Size() > 64<<20 {
				continue
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(filepath.Base(name), func(t *testing.T) { checkSolo(t, data) })
		}
	}
}

// FuzzReadInBuffer holds the reader's fast path for a lone pcap file to readPcap on any input.
func FuzzReadInBuffer(f *testing.F) {
	f.Add(simplePcap(3, 60))
	f.Add(simplePcap(40, 300)[:5000])
	f.Add(pcapBytes(binary.BigEndian, 0xa1b23c4d, 96, layers.LinkTypeLinuxSLL2, rec{data: make([]byte, 40)}, rec{sec: 1 << 31, data: make([]byte, 40)}))
	f.Add(pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet, rec{sec: 9, usec: 2_000_000, data: []byte{1}}, rec{sec: 10, data: []byte{1}, wirlen: 0}))
	var far bytes.Buffer
	_ = hostile.PcapFarFuture(&far)
	f.Add(far.Bytes())
	addSharedSeeds(f, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSolo(t, data)
	})
}
