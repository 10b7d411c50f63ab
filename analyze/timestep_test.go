package analyze_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/intunecap/intunecap/capture"
)

// stepBack writes the frames of the recorded capture src to a new pcap whose capture time jumps back by step
// at every frame in backAt (as a capture host's clock does when NTP steps it), and returns its path.
func stepBack(t *testing.T, src string, step time.Duration, backAt ...uint64) string {
	t.Helper()
	r, err := capture.Open([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := make([]byte, 24)
	binary.LittleEndian.PutUint32(out[0:], 0xa1b23c4d) // nanosecond pcap
	binary.LittleEndian.PutUint16(out[4:], 2)
	binary.LittleEndian.PutUint16(out[6:], 4)
	binary.LittleEndian.PutUint32(out[16:], 262144)
	binary.LittleEndian.PutUint32(out[20:], 1) // Ethernet
	var shift time.Duration
	for {
		f, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range backAt {
			if f.Number == n {
				shift -= step
			}
		}
		ts := f.Timestamp.Add(shift)
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(f.Data)))
		binary.LittleEndian.PutUint32(h[12:], uint32(f.WireLen))
		out = append(append(out, h[:]...), f.Data...)
	}
	path := filepath.Join(t.TempDir(), "stepped-"+filepath.Base(src))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTimeStepsBackSameForAnyWorkers checks the promise that the output is the same bytes for any --workers
// when the capture's clock steps back (by a second, a minute, an hour) in the middle of connections.
func TestTimeStepsBackSameForAnyWorkers(t *testing.T) {
	for _, tt := range []struct {
		file   string
		step   time.Duration
		backAt []uint64
	}{
		{"demo.pcapng", time.Second, []uint64{40, 90}},
		{"demo.pcapng", time.Minute, []uint64{30, 100}},
		{"demo.pcapng", time.Hour, []uint64{60}},
		{"quic-fallback.pcap", time.Minute, []uint64{17}},
		{"dns-failures.pcap", 30 * time.Second, []uint64{5, 9}},
	} {
		t.Run(tt.file+"/"+tt.step.String(), func(t *testing.T) {
			path := stepBack(t, filepath.Join(recordedDir, tt.file), tt.step, tt.backAt...)
			one := encode(t, analyzeWith(t, 1, path))
			for _, n := range []int{2, 3, 4} {
				if got := encode(t, analyzeWith(t, n, path)); got != one {
					t.Errorf("%d workers differ from 1:\n%s", n, firstDiff(one, got))
				}
			}
		})
	}
}
