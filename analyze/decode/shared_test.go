package decode

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// sharedDir is pcaptest.SharedDir under the name the decode tests (bench_test.go too) call it by.

// tsvColumnSum adds up one column of a TSV file with a header row (0 for an empty file).
func tsvColumnSum(t testing.TB, path, column string) int {
	t.Helper()
	header, rows := pcaptest.ReadTSV(t, path)
	if header == nil {
		return 0
	}
	idx := slices.Index(header, column)
	if idx < 0 {
		t.Fatalf("%s: no column %q", path, column)
	}
	sum := 0
	for _, fields := range rows {
		n, err := strconv.Atoi(fields[idx])
		if err != nil {
			t.Fatalf("%s: %s %q: %v", path, column, fields[idx], err)
		}
		sum += n
	}
	return sum
}

type counts struct {
	frames, tcp, udp, other, fragments, errs, fast int
	byErr                                          map[string]int
}

func decodeFile(t testing.TB, path string) counts {
	t.Helper()
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder(Options{})
	c := counts{byErr: map[string]int{}}
	var p Packet
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		c.frames++
		if f.LinkType == layers.LinkTypeEthernet && checkFastPath(t, d, f) {
			c.fast++
		}
		if err := d.Decode(&f, &p); err != nil {
			c.errs++
			c.byErr[err.Error()]++
			continue
		}
		switch {
		case p.Fragment:
			c.fragments++
		case p.IPProto == 6:
			c.tcp++
		case p.IPProto == 17:
			c.udp++
		default:
			c.other++
		}
	}
	return c
}

// TestSharedDecode decodes every frame of every public capture and compares the number of TCP packets with
// tshark's (the sum of the packets column of expected/<f>.tcp_streams.tsv). There is no deliberate difference
// in that count today: tshark excludes ICMP-quoted headers as we do, counts the VLAN copies of
// zeek-vlan-collisions-http.pcap as packets of one stream (the packet count is the same), and finds no TCP in
// zeek-ipv4-fragmented-tcp.pcap, whose last fragment is missing (we hold the fragments: Fragment=true).
// Snaplen-cut first IPv4 fragments (ndpi-dns-snaplen-truncated.pcap) are decoded as UDP, as tshark does.
// Undecodable frames are only non-IP frames (ARP, LLDP, ...).
func TestSharedDecode(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	sort.Strings(names)
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			c := decodeFile(t, path)
			want := tsvColumnSum(t, filepath.Join(dir, "expected", name+".tcp_streams.tsv"), "packets")
			t.Logf("frames %d (fast path %d) tcp %d (tshark %d) udp %d other %d frag %d errs %v", c.frames, c.fast, c.tcp, want,
				c.udp, c.other, c.fragments, c.byErr)
			if c.tcp != want {
				t.Errorf("tcp %d, tshark %d", c.tcp, want)
			}
			for msg := range c.byErr {
				if msg != ErrNotIP.Error() {
					t.Errorf("unexpected decode error %q (%d frames)", msg, c.byErr[msg])
				}
			}
		})
	}
}
