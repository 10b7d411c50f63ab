package annotate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// packet is what a test writes into a capture and expects back unchanged.
type packet struct {
	ts   time.Time
	data []byte
	wire int
}

func testPackets() []packet {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	return []packet{
		{t0, []byte("first packet bytes"), 60},
		{t0.Add(time.Second), []byte{1, 2, 3}, 3},
		{t0.Add(2 * time.Second), bytes.Repeat([]byte{0xab}, 1500), 1514},
	}
}

// writePcap writes packets as a pcap file (pcapgo, the reference writer), nanosecond or microsecond.
func writePcap(t *testing.T, nano bool, pkts []packet) []byte {
	t.Helper()
	var b bytes.Buffer
	var w *pcapgo.Writer
	if nano {
		w = pcapgo.NewWriterNanos(&b)
	} else {
		w = pcapgo.NewWriter(&b)
	}
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := captureInfo(p)
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// writePcapng writes packets as pcapng with pcapgo; the first packet carries a comment of its own.
func writePcapng(t *testing.T, pkts []packet) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := captureInfo(p)
		if i == 0 {
			err = w.WritePacketWithOptions(ci, p.data, pcapgo.NgPacketOptions{Comments: []string{"original comment"}})
		} else {
			err = w.WritePacket(ci, p.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gopacketCI is gopacket's capture info, named short for the tables above.
type gopacketCI = gopacket.CaptureInfo

func captureInfo(p packet) gopacketCI {
	return gopacketCI{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.wire}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readBack reads the annotated output with pcapgo's pcapng reader (the reference) for the packets, and with
// this package's block reader for every packet's comments.
func readBack(t *testing.T, out []byte) ([]packet, [][]string) {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(out), pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatalf("pcapgo cannot read the output: %v", err)
	}
	var pkts []packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		pkts = append(pkts, packet{ci.Timestamp.UTC(), data, ci.Length})
	}
	var comments [][]string
	in := bufio.NewReader(bytes.NewReader(out))
	var order byteOrder = binary.LittleEndian
	for {
		typ, block, err := readBlock(in, &order, nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if typ == blockEPB {
			comments = append(comments, optionComments(block, order))
		}
	}
	return pkts, comments
}

func optionComments(block []byte, order byteOrder) []string {
	body := block[8 : len(block)-4]
	opts := body[20+pad4(int(order.Uint32(body[12:]))):]
	var out []string
	for i := 0; i+4 <= len(opts); {
		code, n := order.Uint16(opts[i:]), int(order.Uint16(opts[i+2:]))
		if code == optEnd {
			break
		}
		if code == optComment {
			out = append(out, string(opts[i+4:i+4+n]))
		}
		i += 4 + pad4(n)
	}
	return out
}

func TestWriteKeepsPacketsAndAddsComments(t *testing.T) {
	pkts := testPackets()
	rec := result.Record{Verdict: rules.Blocked, Stage: "after-syn", Name: "a.manage.microsoft.com",
		Rule: "*.manage.microsoft.com", RuleKey: "intune-2015:1", Reason: "the SYN got no answer",
		FirstFrame: 1, NameFrame: 2, LastFrame: 1}
	wantComments := [][]string{
		{Describe(&rec) + " [first frame, decided here]"},
		{Describe(&rec) + " [named here]"},
		nil,
	}
	tests := []struct {
		name     string
		file     []byte
		original bool // the first packet keeps a comment of its own
	}{
		{"pcap", writePcap(t, false, pkts), false},
		{"pcap-ns", writePcap(t, true, pkts), false},
		{"pcapng", writePcapng(t, pkts), true},
		{"pcap.gz", gz(t, writePcap(t, true, pkts)), false},
		{"pcapng.gz", gz(t, writePcapng(t, pkts)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "in."+tc.name, tc.file)
			marks := NewMarks([]string{path}, 0)
			if err := marks.Record(&rec); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			st, err := Write(&out, []string{path}, marks)
			if err != nil {
				t.Fatal(err)
			}
			if st.Packets != 3 || st.Comments != 2 || st.Unplaced != 0 || st.Sections != 1 {
				t.Errorf("stats %+v, want 3 packets, 2 comments, 1 section", st)
			}
			got, comments := readBack(t, out.Bytes())
			want := pkts
			if tc.name == "pcap" {
				want = truncateToMicro(pkts)
			}
			if !samePackets(got, want) {
				t.Errorf("packets changed:\n got %v\nwant %v", got, want)
			}
			wc := slices.Clone(wantComments)
			if tc.original {
				wc[0] = append([]string{"original comment"}, wc[0]...)
			}
			for i := range wc {
				if !slices.Equal(comments[i], wc[i]) {
					t.Errorf("frame %d comments %q, want %q", i+1, comments[i], wc[i])
				}
			}
		})
	}
}

func truncateToMicro(pkts []packet) []packet {
	out := slices.Clone(pkts)
	for i := range out {
		out[i].ts = out[i].ts.Truncate(time.Microsecond)
	}
	return out
}

func samePackets(a, b []packet) bool {
	return slices.EqualFunc(a, b, func(x, y packet) bool {
		return x.ts.Equal(y.ts) && bytes.Equal(x.data, y.data) && x.wire == y.wire
	})
}

func TestWriteSeveralFilesKeepsFrameNumbersPerFile(t *testing.T) {
	pkts := testPackets()
	a := writeFile(t, "a.pcap", writePcap(t, true, pkts))
	b := writeFile(t, "b.pcapng", writePcapng(t, pkts))
	marks := NewMarks([]string{a, b}, 0)
	for _, r := range []result.Record{
		{Verdict: rules.Reset, File: a, FirstFrame: 3, LastFrame: 3},
		{Verdict: rules.Allowed, File: b, FirstFrame: 2, LastFrame: 2},
	} {
		if err := marks.Record(&r); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	st, err := Write(&out, []string{a, b}, marks)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sections != 2 || st.Packets != 6 || st.Comments != 2 {
		t.Fatalf("stats %+v, want 2 sections, 6 packets, 2 comments", st)
	}
	_, comments := readBack(t, out.Bytes())
	if !strings.HasPrefix(strings.Join(comments[2], ""), "intunecap: reset") ||
		!strings.HasPrefix(strings.Join(comments[4], ""), "intunecap: allowed") {
		t.Errorf("comments landed on the wrong frames: %q", comments)
	}
	if err := marks.Record(&result.Record{File: "other.pcap", FirstFrame: 1}); err == nil {
		t.Error("a record from a file not in the set was accepted")
	}
}

func TestWriteDamagedInput(t *testing.T) {
	good := writePcapng(t, testPackets())
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint32(huge[len(huge)-4:], 1<<30) // breaks the last block's trailer
	bigLen := append(slices.Clone(good), 6, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0)
	tests := []struct {
		name, want string
		data       []byte
		truncated  bool
	}{
		{"cut mid-block", "unexpected EOF", good[:len(good)-10], true},
		{"trailer mismatch", "trailing length", huge, false},
		{"block over the cap", "larger than", bigLen, false},
		{"pcap cut", "unexpected EOF", writePcap(t, false, testPackets())[:60], true},
		{"not a capture", "not a pcap or pcapng", []byte("hello world, this is text"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "in", tc.data)
			st, err := Write(io.Discard, []string{path}, NewMarks([]string{path}, 0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if st.Truncated != tc.truncated {
				t.Errorf("Truncated = %v, want %v", st.Truncated, tc.truncated)
			}
		})
	}
	if _, err := Write(io.Discard, []string{"-"}, NewMarks(nil, 0)); err == nil {
		t.Error("standard input was accepted for a second pass")
	}
}

func TestMarksCapAndLongComments(t *testing.T) {
	m := NewMarks([]string{"x"}, 2)
	r := result.Record{Verdict: rules.Other, Name: strings.Repeat("n", 5000), FirstFrame: 1, NameFrame: 2, LastFrame: 3}
	if err := m.Record(&r); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 2 || m.Dropped != 1 {
		t.Errorf("kept %d, dropped %d; want 2 and 1", m.Len(), m.Dropped)
	}
	for _, mk := range m.list {
		if len(mk.Text) > MaxComment {
			t.Errorf("comment of %d bytes, cap %d", len(mk.Text), MaxComment)
		}
	}
}

func TestDescribeEscapesPacketStrings(t *testing.T) {
	r := result.Record{Verdict: rules.Allowed, Name: "line1\nFAIL: injected.manage.microsoft.com\x1b[2J"}
	got := Describe(&r)
	if strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("comment holds control bytes: %q", got)
	}
}

func FuzzWrite(f *testing.F) {
	f.Add(writePcapngBytes(f))
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := NewMarks([]string{"in"}, 0)
		m.Record(&result.Record{Verdict: rules.Blocked, FirstFrame: 1, NameFrame: 2, LastFrame: 3})
		var st Stats
		copyReader(bufio.NewWriter(io.Discard), bytes.NewReader(data), m.sorted(), &st) // no panic, bounded
	})
}

func writePcapngBytes(f *testing.F) []byte {
	var b bytes.Buffer
	w, _ := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	w.WritePacket(gopacketCI{Timestamp: time.Unix(1, 0), CaptureLength: 3, Length: 3}, []byte{1, 2, 3})
	w.Flush()
	return b.Bytes()
}
