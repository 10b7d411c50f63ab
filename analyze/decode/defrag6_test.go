package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// ipv6Frags splits an IPv6 packet (no extension headers) into fragments of identification id carrying at most
// size bytes (a multiple of 8) of its payload each, in order.
func ipv6Frags(pkt []byte, size int, id uint32) [][]byte {
	hdr, body := pkt[:40], pkt[40:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		out = append(out, frag6(hdr, body[off:end], off, end < len(body), id))
	}
	return out
}

// frag6 builds one IPv6 fragment of the packet whose header is hdr: data at byte offset off.
func frag6(hdr, data []byte, off int, more bool, id uint32) []byte {
	h := append([]byte(nil), hdr...)
	fh := []byte{hdr[6], 0, 0, 0, 0, 0, 0, 0}
	ff := uint16(off)
	if more {
		ff |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], ff)
	binary.BigEndian.PutUint32(fh[4:], id)
	h[6] = 44
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(data)))
	return cat(h, fh, data)
}

func at(b []byte, sec int64) capture.Frame {
	f := frame(layers.LinkTypeRaw, append([]byte(nil), b...))
	f.Timestamp = time.Unix(sec, 0)
	return f
}

// TestIPv6Reassembly feeds the fragments of a 108-byte UDP datagram (48 + 48 + 12 bytes) in various orders and
// shapes; each case gives the frames, the error of each, whether the datagram comes out whole at the end, and
// the counters.
func TestIPv6Reassembly(t *testing.T) {
	payload := bytes.Repeat([]byte("dns!"), 25)
	pkt := v6(t, dnsUDP(), payload)
	fr := ipv6Frags(pkt, 48, 9)
	hdr, body := pkt[:40], pkt[40:]
	// A destination-options header in the fragmentable part, before UDP: skipped after reassembly.
	withDest := withExt(pkt, destOpts)
	destFr := ipv6Frags(cat(withDest[:40], withDest[40:]), 48, 9)
	tests := []struct {
		name  string
		feed  []capture.Frame
		errs  []error // per frame (nil = no error)
		whole bool
		stats Stats
		opts  Options
	}{
		{name: "in order", feed: []capture.Frame{at(fr[0], 1), at(fr[1], 1), at(fr[2], 1)}, whole: true,
			stats: Stats{FragmentsHeld: 2, Reassembled: 1}},
		{name: "out of order", feed: []capture.Frame{at(fr[2], 1), at(fr[0], 1), at(fr[1], 1)}, whole: true,
			stats: Stats{FragmentsHeld: 2, Reassembled: 1}},
		{name: "last first", feed: []capture.Frame{at(fr[2], 1), at(fr[1], 1), at(fr[0], 1)}, whole: true,
			stats: Stats{FragmentsHeld: 2, Reassembled: 1}},
		{name: "exact duplicate ignored", feed: []capture.Frame{at(fr[0], 1), at(fr[0], 1), at(fr[2], 1), at(fr[1], 1)},
			whole: true, stats: Stats{FragmentsHeld: 2, Reassembled: 1}},
		{name: "destination options after the fragment header", feed: []capture.Frame{at(destFr[1], 1),
			at(destFr[0], 1), at(destFr[2], 1)}, whole: true, stats: Stats{FragmentsHeld: 2, Reassembled: 1}},
		{name: "overlap drops the datagram", feed: []capture.Frame{at(fr[0], 1), at(frag6(hdr, body[40:96], 40, true, 9), 1),
			at(fr[1], 1), at(fr[2], 1)}, errs: []error{nil, errIPv6FragOverlap, errIPv6FragOverlap, errIPv6FragOverlap},
			stats: Stats{FragmentsHeld: 1, FragmentsDropped: 1, DroppedInvalid: 1}},
		{name: "same offset, other length", feed: []capture.Frame{at(fr[1], 1), at(frag6(hdr, body[48:104], 48, true, 9), 1)},
			errs: []error{nil, errIPv6FragOverlap}, stats: Stats{FragmentsHeld: 1, FragmentsDropped: 1, DroppedInvalid: 1}},
		{name: "last fragment before held data ends", feed: []capture.Frame{at(fr[1], 1), at(frag6(hdr, body[40:48], 40, false, 9), 1)},
			errs: []error{nil, errIPv6FragOverlap}, stats: Stats{FragmentsHeld: 1, FragmentsDropped: 1, DroppedInvalid: 1}},
		{name: "two different ends", feed: []capture.Frame{at(fr[2], 1), at(frag6(hdr, body[96:100], 96, false, 9), 1)},
			errs: []error{nil, errIPv6FragOverlap}, stats: Stats{FragmentsHeld: 1, FragmentsDropped: 1, DroppedInvalid: 1}},
		{name: "odd length with more fragments", feed: []capture.Frame{at(frag6(hdr, body[:47], 0, true, 9), 1)},
			errs: []error{errIPv6FragLength}},
		{name: "beyond 65535 bytes", feed: []capture.Frame{at(fr[0], 1), at(frag6(hdr, body[:48], 65528, false, 9), 1)},
			errs: []error{nil, errIPv6FragTooBig}, stats: Stats{FragmentsHeld: 1, FragmentsDropped: 1, DroppedInvalid: 1}},
		{name: "missing piece then timeout", opts: Options{FragmentTimeout: 10 * time.Second},
			feed:  []capture.Frame{at(fr[0], 1), at(fr[2], 2), at(fr[1], 100)},
			stats: Stats{FragmentsHeld: 3, FragmentsDropped: 1, DroppedTimeout: 1, Incomplete: 1}},
		{name: "timeout counts from the first fragment", opts: Options{FragmentTimeout: 10 * time.Second},
			feed:  []capture.Frame{at(fr[0], 1), at(fr[2], 8), at(fr[1], 12)},
			stats: Stats{FragmentsHeld: 3, FragmentsDropped: 1, DroppedTimeout: 1, Incomplete: 1}},
		{name: "byte cap", opts: Options{MaxFragmentBytes: 90},
			feed:  []capture.Frame{at(fr[0], 1), at(fr[1], 1), at(fr[2], 1)},
			stats: Stats{FragmentsHeld: 3, FragmentsDropped: 1, DroppedAtCap: 1, Incomplete: 1}},
		{name: "datagram cap", opts: Options{MaxFragmentDatagrams: 1},
			feed:  []capture.Frame{at(fr[0], 1), at(ipv6Frags(pkt, 48, 10)[0], 1), at(fr[1], 1), at(fr[2], 1)},
			stats: Stats{FragmentsHeld: 4, FragmentsDropped: 2, DroppedAtCap: 2, Incomplete: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.opts)
			var p Packet
			for i, f := range tt.feed {
				err := d.Decode(&f, &p)
				var want error
				if i < len(tt.errs) {
					want = tt.errs[i]
				}
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("frame %d: error %v, want %v", i, err, want)
				}
				if err == nil && i < len(tt.feed)-1 && (!p.Fragment || p.Src != cli6) {
					t.Fatalf("frame %d: %+v", i, p)
				}
				clear(f.Data) // the decoder must have copied what it keeps
			}
			if tt.whole {
				want := Packet{Src: cli6, Dst: srv6, IPProto: 17, SrcPort: 40000, DstPort: 53, PayloadWireLen: 100}
				if !bytes.Equal(p.Payload, payload) {
					t.Errorf("payload %q", p.Payload)
				}
				p.Payload = nil
				checkPacket(t, p, want)
			} else if !p.Fragment && len(tt.errs) < len(tt.feed) {
				t.Errorf("a datagram came out: %+v", p)
			}
			if st := d.Stats(); st != tt.stats {
				t.Errorf("stats %+v\nwant  %+v", st, tt.stats)
			}
		})
	}
}

// TestIPv6FirstFragmentCut: a first fragment cut by snaplen is never reassembled but still gives its ports and
// payload start; a later one cut is ErrTruncated.
func TestIPv6FirstFragmentCut(t *testing.T) {
	pkt := v6(t, dnsUDP(), bytes.Repeat([]byte("x"), 100))
	fr := ipv6Frags(pkt, 48, 9)
	d := NewDecoder(Options{})
	var p Packet
	if err := d.Decode(ptr(cut(frame(layers.LinkTypeIPv6, fr[0]), 40+8+8+12)), &p); err != nil {
		t.Fatal(err)
	}
	want := Packet{Src: cli6, Dst: srv6, IPProto: 17, SrcPort: 40000, DstPort: 53, PayloadWireLen: 100, Truncated: true}
	if len(p.Payload) != 12 {
		t.Errorf("payload %d bytes, want 12", len(p.Payload))
	}
	p.Payload = nil
	checkPacket(t, p, want)
	if err := d.Decode(ptr(cut(frame(layers.LinkTypeIPv6, fr[1]), 60)), &p); !errors.Is(err, ErrTruncated) {
		t.Errorf("later fragment cut: %v", err)
	}
	if st := d.Stats(); st != (Stats{}) {
		t.Errorf("stats %+v", st)
	}
}

// TestFragmentCapsShared checks that IPv4 and IPv6 fragments count against the same caps.
func TestFragmentCapsShared(t *testing.T) {
	f4 := ipv4Frags(v4(t, dnsUDP(), make([]byte, 100)), 48)
	f6 := ipv6Frags(v6(t, dnsUDP(), make([]byte, 100)), 48, 1)
	d := NewDecoder(Options{MaxFragmentDatagrams: 1})
	var p Packet
	for _, f := range []capture.Frame{at(f4[0], 1), at(f6[0], 1)} {
		if err := d.Decode(&f, &p); err != nil || !p.Fragment {
			t.Fatalf("%v %+v", err, p)
		}
	}
	if st := d.Stats(); st.DroppedAtCap != 2 || st.FragmentsDropped != 2 {
		t.Errorf("stats %+v", st)
	}
}

// sharedDir is pcaptest.SharedDir, failing rather than skipping under CI=true, where the shared captures must
// be present.
func sharedDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("INTUNECAP_SHARED_PCAPS") == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but INTUNECAP_SHARED_PCAPS is not set: the shared captures are required")
	}
	return pcaptest.SharedDir(t)
}

// TestSharedIPv6FragmentedDNS decodes zeek-dns-ipv6-fragmented.pcap, whose second answer (1,5 KB of TXT
// records) comes in three IPv6 fragments, and compares every DNS message, the reassembled one included, with
// tshark's extraction.
func TestSharedIPv6FragmentedDNS(t *testing.T) {
	dir := sharedDir(t)
	name := "zeek-dns-ipv6-fragmented.pcap"
	r, err := capture.Open([]string{filepath.Join(dir, name)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder(Options{})
	var got []map[string]string
	for n := 1; ; n++ {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var p Packet
		if err := d.Decode(&f, &p); err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if p.Fragment || p.IPProto != protoUDP || (p.SrcPort != 53 && p.DstPort != 53) {
			continue
		}
		if len(p.Payload) != p.PayloadWireLen {
			t.Errorf("frame %d: %d of %d payload bytes", n, len(p.Payload), p.PayloadWireLen)
		}
		var dns layers.DNS
		if err := dns.DecodeFromBytes(p.Payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("frame %d: dns: %v", n, err)
		}
		var a []string
		for _, rr := range slices.Concat(dns.Answers, dns.Authorities, dns.Additionals) { // as tshark's dns.a
			if rr.Type == layers.DNSTypeA {
				a = append(a, rr.IP.String())
			}
		}
		got = append(got, map[string]string{
			"frame.number": strconv.Itoa(n), "ipv6.src": p.Src.String(), "ipv6.dst": p.Dst.String(),
			"udp.srcport": strconv.Itoa(int(p.SrcPort)), "udp.dstport": strconv.Itoa(int(p.DstPort)),
			"dns.id": fmt.Sprintf("0x%04x", dns.ID), "dns.flags.response": boolDigit(dns.QR),
			"dns.qry.name": string(dns.Questions[0].Name), "dns.count.answers": strconv.Itoa(int(dns.ANCount)),
			"dns.a": strings.Join(a, ","),
		})
	}
	want := pcaptest.TSVRows(t, filepath.Join(dir, "expected", name+".dns.tsv"))
	if len(got) != len(want) {
		t.Fatalf("%d DNS messages, tshark %d", len(got), len(want))
	}
	for i, g := range got {
		for col, v := range g {
			if want[i][col] != v {
				t.Errorf("message %d (frame %s): %s %q, tshark %q", i, g["frame.number"], col, v, want[i][col])
			}
		}
	}
	// Frames 6 and 7 are held, then completed by frame 8; frame 4 is the last fragment of an answer whose
	// other fragments were not captured: held until the end.
	if st := d.Stats(); st != (Stats{FragmentsHeld: 3, Reassembled: 1, Incomplete: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
