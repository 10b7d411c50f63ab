package capture

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sharedDir returns $INTUNECAP_SHARED_PCAPS, skipping the test when it is unset and failing when it names a
// missing folder (CI sets it; a typo must not turn into a silent skip).
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("INTUNECAP_SHARED_PCAPS")
	if dir == "" {
		t.Skip("INTUNECAP_SHARED_PCAPS is not set; skipping the public-capture test")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("INTUNECAP_SHARED_PCAPS=%q is not a folder: %v", dir, err)
	}
	return dir
}

// manifestPackets reads the file → packets columns of MANIFEST.tsv.
func manifestPackets(t testing.TB, dir string) map[string]uint64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	col := map[string]int{}
	out := map[string]uint64{}
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(col) == 0 {
			for i, name := range fields {
				col[name] = i
			}
			continue
		}
		n, err := strconv.ParseUint(fields[col["packets"]], 10, 64)
		if err != nil {
			t.Fatalf("MANIFEST.tsv: %s: packets %q: %v", fields[0], fields[col["packets"]], err)
		}
		out[fields[col["file"]]] = n
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSharedCaptures reads every public capture: no error, no warning (none is expected for any of the 80
// files), and exactly MANIFEST.tsv's frame count.
func TestSharedCaptures(t *testing.T) {
	dir := sharedDir(t)
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
			r, err := Open([]string{filepath.Join(dir, name)})
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
				if f.Number != n || f.CapLen != len(f.Data) {
					t.Fatalf("frame %d: Number %d CapLen %d len %d", n, f.Number, f.CapLen, len(f.Data))
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
