package analyze_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
	"github.com/intunecap/intunecap/result"
)

// tsharkICMP is one ICMP destination-unreachable error as tshark reads it: the 5-tuple of the packet it quotes.
type tsharkICMP struct {
	frame                  string
	src, dst               netip.Addr
	sport, dport, protocol string
}

// icmpFilter is what intunecap counts in icmp_rejections: ICMPv4 destination unreachable except fragmentation
// needed (code 4, path MTU discovery), and ICMPv6 destination unreachable.
const icmpFilter = "(icmp.type==3 && icmp.code!=4) || icmpv6.type==1"

// tsharkRejections runs tshark over path. The quoted header's fields are the last occurrence of each (the
// error's own IP header comes first).
func tsharkRejections(t *testing.T, path string) []tsharkICMP {
	t.Helper()
	fields := []string{"frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto", "ipv6.nxt",
		"udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport"}
	args := []string{"-r", path, "-Y", icmpFilter, "-T", "fields", "-E", "occurrence=l"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("tshark", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", path, err, stderr.String())
	}
	var list []tsharkICMP
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < len(fields) {
			c = append(c, "")
		}
		e := tsharkICMP{frame: c[0], protocol: c[5], sport: c[7], dport: c[8]}
		src, dst := c[1], c[2]
		if c[3] != "" { // IPv6 (an IPv6 error quotes IPv6)
			src, dst, e.protocol = c[3], c[4], c[6]
		}
		if c[9] != "" {
			e.sport, e.dport = c[9], c[10]
		}
		e.src, _ = netip.ParseAddr(src)
		e.dst, _ = netip.ParseAddr(dst)
		list = append(list, e)
	}
	return list
}

// quotes reports whether the error quotes r's connection, in either direction.
func (e tsharkICMP) quotes(r *result.Record) bool {
	proto := map[string]string{"6": "tcp", "17": "udp"}[e.protocol]
	if proto != r.Proto {
		return false
	}
	client, cerr := netip.ParseAddr(r.Client)
	server, serr := netip.ParseAddr(r.Server)
	if cerr != nil || serr != nil {
		return false
	}
	cp, sp := itoa(int(r.ClientPort)), itoa(int(r.ServerPort))
	return e.src == client && e.dst == server && e.sport == cp && e.dport == sp ||
		e.src == server && e.dst == client && e.sport == sp && e.dport == cp
}

// TestSharedICMPMatchesTshark checks every shared capture with checkICMP.
func TestSharedICMPMatchesTshark(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	needTshark(t)
	for _, path := range pcaptest.Captures(t, dir) {
		t.Run(filepath.Base(path), func(t *testing.T) { checkICMP(t, path) })
	}
}

// TestBundledICMPMatchesTshark checks the bundled captures of ICMP rejections with checkICMP.
func TestBundledICMPMatchesTshark(t *testing.T) {
	needTshark(t)
	for _, name := range []string{"dns-icmp-refused.pcap", "tcp-icmp-prohibited.pcap"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(recordedDir, name)
			if n := len(tsharkRejections(t, path)); n != 1 {
				t.Fatalf("tshark sees %d ICMP rejections, the scenario made 1", n)
			}
			checkICMP(t, path)
		})
	}
}

// needTshark skips the test, saying why, when tshark is not installed; under CI=true it fails instead.
func needTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed (scripts/deps.sh installs it): CI=true requires it")
		}
		t.Skip("tshark is not installed (scripts/deps.sh installs it): skipping the ICMP cross-check")
	}
}

// checkICMP checks that each ICMP destination-unreachable error tshark sees in path is counted in
// icmp_rejections, and is either on a record (its icmp field, on the connection the error quotes) or counted in
// unmatched_icmp; and that every record with an icmp field quotes an error tshark saw.
func checkICMP(t *testing.T, path string) {
	t.Helper()
	want := tsharkRejections(t, path)
	c := analyzeFiles(t, path)
	q := c.summary.Capture.Quality
	if q.ICMPRejections != uint64(len(want)) {
		t.Errorf("icmp_rejections %d, tshark sees %d", q.ICMPRejections, len(want))
	}
	var withICMP []*result.Record
	for i := range c.records {
		if c.records[i].ICMP != nil {
			withICMP = append(withICMP, &c.records[i])
		}
	}
	onRecord := 0
	for _, e := range want {
		for _, r := range withICMP {
			if e.quotes(r) {
				onRecord++
				break
			}
		}
	}
	if off := uint64(len(want) - onRecord); off > q.UnmatchedICMP {
		t.Errorf("%d errors tshark sees are on no record, but unmatched_icmp is %d: %+v", off, q.UnmatchedICMP, want)
	}
	if matched := q.ICMPRejections - q.UnmatchedICMP; uint64(len(withICMP)) > matched {
		t.Errorf("%d records carry icmp, but only %d errors matched", len(withICMP), matched)
	}
	for _, r := range withICMP {
		found := false
		for _, e := range want {
			found = found || e.quotes(r)
		}
		if !found {
			t.Errorf("record has icmp %+v, but tshark sees no error quoting it: %+v", r.ICMP, *r)
		}
	}
}
