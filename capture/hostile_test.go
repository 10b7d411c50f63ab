package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/hostile"
)

// peakRSSLimit is the most memory (peak resident set) reading one hostile input may take.
const peakRSSLimit = 512 << 20

// TestHostileFiles reads each hostile capture in a child process and checks that it ends normally, with the
// right frames and warnings, under peakRSSLimit of peak resident memory.
func TestHostileFiles(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: the hostile inputs expand to gigabytes and take seconds each; the race detector multiplies memory")
	}
	dir := t.TempDir()
	tests := []struct {
		name   string
		frames string   // the first byte of each frame read, in order
		warns  []string // a substring of each warning, in order
	}{
		{"pcap-2gib-frame.pcap.gz", "\x01\x03", []string{"frame 2 (byte offset 100): frame of 2147483648 bytes is over the 262144-byte frame cap; frame skipped"}},
		{"pcapng-1gib-block.pcapng.gz", "\x01\x03", []string{"frame 2 (byte offset 152): pcapng packet block is over the 1048576-byte block cap; frame skipped"}},
		{"pcapng-long-names.pcapng.gz", "", []string{"frame 1 (byte offset 266354716): more than 4096 pcapng interfaces; rest of file skipped"}},
		{"pcapng-many-sections.pcapng.gz", strings.Repeat("\x01", 4096), []string{"frame 4097 (byte offset 573440): more than 4096 pcapng sections; rest of file skipped"}},
		{"pcapng-timestamp-overflow.pcapng", "\x01\x02\x03", []string{"frame 2 (byte offset 152): timestamp overflow: " +
			"18446744073709551615 units of 1/1000000 s plus an offset of 0 s is after the year 2262; the frame is given the timestamp of the frame before it"}},
		{"pcap-far-future.pcap", "\x01\x02\x03\x04\x05", []string{"frame 3 (byte offset 176): absurd timestamp 2100-01-01T00:00:00Z: " +
			"27807 days after the frames around it (2023-11-14T22:13:23Z); durations that span it are wrong"}},
	}
	cases := map[string]hostile.Case{}
	for _, c := range hostile.Cases() {
		cases[c.Name] = c
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			writeCase(t, path, cases[tt.name])
			out := runChild(t, "TestHostileChild", path)
			frames, warns, peak := parseChild(t, out)
			if frames != fmt.Sprintf("%q", tt.frames) {
				t.Errorf("frames %s, want %q", frames, tt.frames)
			}
			if len(warns) != len(tt.warns) {
				t.Fatalf("warnings %q, want %d", warns, len(tt.warns))
			}
			for i, w := range tt.warns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %q\nwant it to contain %q", warns[i], w)
				}
			}
			if peak > peakRSSLimit {
				t.Errorf("peak RSS %d MiB, over %d MiB", peak>>20, peakRSSLimit>>20)
			}
			t.Logf("peak RSS %d MiB", peak>>20)
		})
	}
}

// TestHostileRotatedSet reads 1,500 rotated capture files in a child process with at most 64 open file
// descriptors, and checks that every frame is read, in order, under peakRSSLimit.
func TestHostileRotatedSet(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: 1,500 files take a second; the race detector multiplies memory")
	}
	if _, err := exec.LookPath("prlimit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prlimit (util-linux) is missing: it bounds the child's file descriptors")
		}
		t.Skip("prlimit (util-linux) is missing: it bounds the child's file descriptors")
	}
	dir := t.TempDir()
	err := hostile.Rotated(1500, 20, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	})
	if err != nil {
		t.Fatal(err)
	}
	out := runChild(t, "TestHostileChild", filepath.Join(dir, "rot-*.pcap"), "prlimit", "--nofile=64")
	frames, warns, peak := parseChild(t, out)
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	n, err := strconv.Unquote(frames)
	if err != nil || len(n) != 1500*20 {
		t.Fatalf("read %d frames, want %d", len(n), 1500*20)
	}
	for i := range n {
		if n[i] != byte(i%20) {
			t.Fatalf("frame %d out of order", i)
		}
	}
	if peak > 64<<20 {
		t.Errorf("peak RSS %d MiB, want under 64 MiB", peak>>20)
	}
}

// TestHostileChild is the child of the tests above: it reads the capture files named by HOSTILE_INPUT (a glob)
// and prints the first byte of every frame (quoted), each warning, and its peak resident memory.
func TestHostileChild(t *testing.T) {
	pattern := os.Getenv("HOSTILE_INPUT")
	if pattern == "" {
		t.Skip("run by TestHostileFiles and TestHostileRotatedSet as a child process")
	}
	paths, _ := filepath.Glob(pattern)
	r, err := Open(paths)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	var first []byte
	for {
		f, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		first = append(first, f.Data[0])
	}
	fmt.Printf("frames: %q\n", first)
	for _, w := range r.Warnings() {
		fmt.Println("warning:", w.String())
	}
	fmt.Println("peak:", peakRSS(t))
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: peak memory cannot be measured here")
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// runChild runs the test binary's test named child on input, under the command prefix if any, and returns its
// output; a child that dies (out of memory, say) fails the test.
func runChild(t *testing.T, child, input string, prefix ...string) string {
	t.Helper()
	args := append(prefix, os.Args[0], "-test.run=^"+child+"$", "-test.v")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "HOSTILE_INPUT="+input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return string(out)
}

// parseChild reads TestHostileChild's output.
func parseChild(t *testing.T, out string) (frames string, warns []string, peak int64) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "frames: "):
			frames = strings.TrimPrefix(line, "frames: ")
		case strings.HasPrefix(line, "warning: "):
			warns = append(warns, strings.TrimPrefix(line, "warning: "))
		case strings.HasPrefix(line, "peak: "):
			peak, _ = strconv.ParseInt(strings.TrimPrefix(line, "peak: "), 10, 64)
		}
	}
	if frames == "" || peak == 0 {
		t.Fatalf("child output without frames or peak:\n%s", out)
	}
	return frames, warns, peak
}

// writeCase writes a hostile case to path.
func writeCase(t *testing.T, path string, c hostile.Case) {
	t.Helper()
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d KiB", c.Name, b.Len()>>10)
}
