package capture_test

import (
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// manifestPackets reads the file → packets columns of MANIFEST.tsv.
func manifestPackets(t testing.TB, dir string) map[string]uint64 {
	t.Helper()
	header, rows := pcaptest.ReadTSV(t, filepath.Join(dir, "MANIFEST.tsv"))
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	out := map[string]uint64{}
	for _, fields := range rows {
		n, err := strconv.ParseUint(fields[col["packets"]], 10, 64)
		if err != nil {
			t.Fatalf("MANIFEST.tsv: %s: packets %q: %v", fields[0], fields[col["packets"]], err)
		}
		out[fields[col["file"]]] = n
	}
	return out
}

// TestSharedCaptures reads every public capture: no error, no warning (none is expected for any of the 80
// files), and exactly MANIFEST.tsv's frame count.
func TestSharedCaptures(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	want := manifestPackets(t, dir)
	if len(want) == 0 {
		t.Fatal("MANIFEST.tsv lists no captures")
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		packets := want[name]
		t.Run(name, func(t *testing.T) {
			r, err := capture.Open([]string{filepath.Join(dir, name)})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var n uint64
			for {
				f, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				if f.Number != n {
					t.Fatalf("frame %d: Number %d", n, f.Number)
				}
			}
			if w := r.Warnings(); len(w) > 0 {
				t.Errorf("warnings: %v", w)
			}
			if n != packets {
				t.Errorf("read %d frames, MANIFEST.tsv says %d", n, packets)
			}
			st := r.Stats()
			t.Logf("%s: %d frames, link types %v, %d interfaces", name, n, st.LinkTypes, len(st.Files[0].Interfaces))
		})
	}
}
