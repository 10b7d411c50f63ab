package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/metrics"
)

// warnings collects what the rotator says, one string a message.
type warnings []string

func (w *warnings) add(format string, args ...any) { *w = append(*w, fmt.Sprintf(format, args...)) }

func (w warnings) count(part string) int {
	n := 0
	for _, s := range w {
		if strings.Contains(s, part) {
			n++
		}
	}
	return n
}

// metricValue reads one unlabelled metric from m's registry; -1 when it is not there.
func metricValue(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		switch mt := f.GetMetric()[0]; f.GetType() {
		case dto.MetricType_COUNTER:
			return mt.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return mt.GetGauge().GetValue()
		}
	}
	return -1
}

// frameFeed makes 1000-byte frames a millisecond apart, numbered from 1.
type frameFeed struct {
	f capture.Frame
}

func newFrameFeed() *frameFeed {
	return &frameFeed{f: capture.Frame{Data: make([]byte, 1000), WireLen: 1000,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
}

func (g *frameFeed) next() *capture.Frame {
	g.f.Number++
	g.f.Timestamp = g.f.Timestamp.Add(time.Millisecond)
	return &g.f
}

// needMount mounts a tmpfs of size bytes for a test that needs root; elsewhere the test says why it skips,
// and under CI=true it fails.
func needMount(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size)
	if err == nil {
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		return dir
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("mount a %s tmpfs (the full-disk test needs root): %v", size, err)
	}
	t.Skipf("skipped: mount a %s tmpfs needs root: %v", size, err)
	return ""
}

// readBack counts the frames of one written file with intunecap's reader and checks that capinfos (the
// Wireshark suite) reads it too.
func readBack(t *testing.T, capinfos, path string) uint64 {
	t.Helper()
	if out, err := exec.Command(capinfos, "-c", path).CombinedOutput(); err != nil {
		t.Errorf("capinfos %s: %v\n%s", path, err, out)
	}
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatalf("read back %s: %v", path, err)
	}
	defer r.Close()
	var n uint64
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if len(r.Warnings()) > 0 {
		t.Errorf("read back %s: %v", path, r.Warnings())
	}
	return n
}

// TestWriteFullDisk fills a small tmpfs under --write: writing must stop without an error, say so once,
// count what it does not write, resume in a fresh file once space returns and say so, and leave every file
// readable by capinfos (a file cut by the full disk ends at its last whole block), with every frame either
// in a file or counted as not written.
func TestWriteFullDisk(t *testing.T) {
	tests := []struct {
		name   string
		fs     string // tmpfs size
		filler int    // bytes taken before the run
		max    int64  // --write-max
	}{
		// Each failure hits a file's first write: the file holds no frame and is removed.
		{"rotating 100 KB files", "1m", 600 << 10, 100_000},
		// The failure hits the second 1 MiB write of one file: the file is cut back to its first MiB.
		{"one file cut mid-write", "4m", 2560 << 10, 0},
	}
	capinfos := needTool(t, "capinfos")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := needMount(t, tc.fs)
			fullDisk(t, capinfos, dir, tc.filler, tc.max)
		})
	}
}

func fullDisk(t *testing.T, capinfos, dir string, fill int, max int64) {
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, fill), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := newPcapRotator(filepath.Join(dir, "gw.pcapng"), max, 0, "test0", "", 1, 262144)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{})
	var said warnings
	w.report(m, said.add)
	if got := metricValue(t, m, "intunecap_write_ok"); got != 1 {
		t.Fatalf("intunecap_write_ok %v before the disk is full, want 1", got)
	}
	feed := newFrameFeed()
	var frames uint64
	write := func(n int) {
		for range n {
			if err := w.write(feed.next()); err != nil {
				t.Fatalf("frame %d: %v", feed.f.Number, err)
			}
			frames++
		}
	}
	write(3000) // 3 MB of frames: more than is left
	if w.failed == nil || said.count("analysis goes on") != 1 || !strings.Contains(said[0], "no space left on device") {
		t.Fatalf("after filling the disk: failed=%v, said %q", w.failed, said)
	}
	if ok, fails := metricValue(t, m, "intunecap_write_ok"), metricValue(t, m, "intunecap_write_failures_total"); ok != 0 || fails != 1 {
		t.Errorf("intunecap_write_ok %v, intunecap_write_failures_total %v; want 0, 1", ok, fails)
	}
	before := metricValue(t, m, "intunecap_write_dropped_packets_total")
	write(1000) // one second more: within the retry wait, nothing is tried and nothing said
	if got := metricValue(t, m, "intunecap_write_dropped_packets_total"); got != before+1000 || len(said) != 1 {
		t.Errorf("while waiting: dropped %v -> %v, said %q", before, got, said)
	}
	write(int(writeRetry/time.Millisecond) + 10) // the retry comes and fails again, silently
	if w.failed == nil || len(said) != 1 {
		t.Fatalf("with the disk still full: failed=%v, said %q", w.failed, said)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for range 2 * int(writeRetry/time.Millisecond) { // the next retry finds space, and frames reach it
		if write(1); said.count("writing again") > 0 {
			break
		}
	}
	if w.failed != nil || said.count("writing again") != 1 || metricValue(t, m, "intunecap_write_ok") != 1 {
		t.Fatalf("after freeing space: failed=%v, said %q", w.failed, said)
	}
	write(50)
	if err := w.close(nil); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "gw*.pcapng"))
	for i := range files { // no gap in the names: a try that wrote nothing left no file and no lost index
		if _, err := os.Stat(w.fileName(i)); err != nil {
			t.Errorf("files %v: %v", files, err)
		}
	}
	var inFiles uint64
	for _, f := range files {
		inFiles += readBack(t, capinfos, f)
	}
	dropped := uint64(metricValue(t, m, "intunecap_write_dropped_packets_total"))
	if inFiles+dropped != frames || inFiles == 0 || dropped == 0 {
		t.Errorf("%d frames in %d files + %d not written, want %d in all", inFiles, len(files), dropped, frames)
	}
}

// TestWriteDevFull starts on a file that takes no byte (/dev/full): the run starts, says why nothing is
// written, counts the frames and leaves the device alone.
func TestWriteDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("skipped: no /dev/full: %v", err)
	}
	w, err := newPcapRotator("/dev/full", 0, 0, "test0", "", 1, 262144)
	if err != nil {
		t.Fatalf("a full disk at the start must not stop the run: %v", err)
	}
	m := metrics.New(metrics.Options{})
	var said warnings
	w.report(m, said.add)
	feed := newFrameFeed()
	for range 100 {
		if err := w.write(feed.next()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(nil); err != nil {
		t.Fatal(err)
	}
	if said.count("no space left on device") != 1 || said.count("100 packets were not written") != 1 {
		t.Errorf("said %q", said)
	}
	if got := metricValue(t, m, "intunecap_write_dropped_packets_total"); got != 100 {
		t.Errorf("intunecap_write_dropped_packets_total %v, want 100", got)
	}
	if st, err := os.Stat("/dev/full"); err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Errorf("/dev/full after the run: %v, %v", st, err)
	}
}

// TestWriteNoAllocs holds --write to the hot path's rule: saving a frame does not allocate, and neither does
// counting one while writing is failed.
func TestWriteNoAllocs(t *testing.T) {
	w, err := newPcapRotator(filepath.Join(t.TempDir(), "cap.pcapng"), 0, 0, "test0", "", 1, 262144)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(nil)
	feed := newFrameFeed()
	if n := testing.AllocsPerRun(2000, func() { w.write(feed.next()) }); n != 0 {
		t.Errorf("write: %v allocations a frame, want 0", n)
	}
	w.report(metrics.New(metrics.Options{}), func(string, ...any) {})
	w.fail(errors.New("test failure"), feed.f.Timestamp.Add(time.Hour))
	if n := testing.AllocsPerRun(2000, func() { w.write(feed.next()) }); n != 0 || w.failed == nil {
		t.Errorf("write while failed: %v allocations a frame (failed=%v), want 0", n, w.failed)
	}
}
