package analyze_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// tsharkCounts is what tshark says of a capture: packets (ICMP errors left out: their quotes are cut) whose
// IPv4 header, TCP or UDP checksum is bad, and TCP streams with an "ACKed segment that wasn't captured".
type tsharkCounts struct {
	badPackets    uint64
	ackLostStream uint64
}

// tsharkQuality runs tshark over path with checksum validation on. tshark 4.0's checksum status is 0 for bad,
// 1 for good, 2 for unverified.
func tsharkQuality(t *testing.T, tshark, path string) tsharkCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, "-n", "-r", path, "-o", "tcp.check_checksum:TRUE",
		"-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "occurrence=f",
		"-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status",
		"-e", "tcp.analysis.ack_lost_segment", "-e", "tcp.stream", "-e", "icmp.type", "-e", "icmpv6.type").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var c tsharkCounts
	streams := map[string]bool{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		if f[5] == "" && f[6] == "" && (f[0] == "0" || f[1] == "0" || f[2] == "0") {
			c.badPackets++
		}
		if f[3] != "" && !streams[f[4]] {
			streams[f[4]] = true
			c.ackLostStream++
		}
	}
	return c
}

// TestChecksumsAgainstTshark holds the checksum and loss counters to tshark's on the shared captures. intunecap
// verifies only the packets it reads closely, so every failing packet it counts (damage or offload) must be
// one of tshark's bad ones: never more, and none where tshark finds none. acked_unseen counts connections
// where tshark's ack_lost_segment counts packets (and also flags the first ACKs of a capture begun mid-stream,
// which intunecap does not): never more connections than tshark has streams with one.
func TestChecksumsAgainstTshark(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark not found: CI=true requires it (scripts/deps.sh installs it)")
		}
		t.Skip("tshark not found: skipping the comparison with tshark's checksum validation")
	}
	if testing.Short() {
		t.Skip("-short: tshark reads every shared capture")
	}
	var failing, offloads int
	for _, path := range pcaptest.Captures(t, dir) {
		name := filepath.Base(path)
		q := analyzeFiles(t, path).summary.Capture.Quality
		ts := tsharkQuality(t, tshark, path)
		ours := q.BadChecksums + q.ChecksumOffloadPackets
		if ours > ts.badPackets {
			t.Errorf("%s: %d failing packets (%d damage, %d offload), tshark finds %d bad", name, ours,
				q.BadChecksums, q.ChecksumOffloadPackets, ts.badPackets)
		}
		if q.AckedUnseen > ts.ackLostStream {
			t.Errorf("%s: acked_unseen %d, tshark has %d streams with an ACKed segment not captured", name,
				q.AckedUnseen, ts.ackLostStream)
		}
		if ours > 0 {
			failing++
		}
		if len(q.ChecksumOffload) > 0 {
			offloads++
		}
	}
	// The shared set holds captures taken on Linux hosts with offload and anonymised ones whose checksums were
	// not fixed: a counter that never moves would pass the checks above.
	if failing < 10 || offloads < 5 {
		t.Errorf("only %d captures with failing checksums, %d with offload: the verification does not run", failing,
			offloads)
	}
}
