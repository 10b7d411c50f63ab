package fingerprint_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// TestSharedCapturesJA4 compares JA4 and JA4_r of every TLS-over-TCP ClientHello of the shared captures with
// testdata/tshark-ja4.tsv, which testdata/tshark-ja4.sh computes in awk from tshark 4.0.17's dissection: a
// second implementation that shares no code with this package, and takes the signature algorithms from tshark
// rather than from tlshello.
func TestSharedCapturesJA4(t *testing.T) {
	dir := sharedDir(t)
	want := map[string][2]string{} // "file#frame" -> ja4_r, ja4
	for _, row := range pcaptest.TSVRows(t, filepath.Join("testdata", "tshark-ja4.tsv")) {
		want[row["file"]+"#"+row["frame"]] = [2]string{row["ja4_r"], row["ja4"]}
	}
	got := map[string][2]string{}
	for _, path := range pcaptest.Captures(t, dir) {
		base := filepath.Base(path)
		for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
			skip := httpHead(st.Data)
			if h, n, ok := helloAt(st.Data[skip:]); ok {
				c := h.Facts()
				got[fmt.Sprintf("%s#%d", base, st.Frames[skip+n-1])] = [2]string{fingerprint.JA4Raw(c, fingerprint.TCP), fingerprint.JA4(c, fingerprint.TCP)}
			}
		}
	}
	compared := 0
	for key, w := range want {
		g, ok := got[key]
		switch {
		case !ok && helloKnownDifferences[key] == "":
			t.Errorf("%s: the reference has a ClientHello, we have none", key)
		case ok && g != w:
			t.Errorf("%s:\nours      %s\n          %s\nreference %s\n          %s", key, g[0], g[1], w[0], w[1])
		case ok:
			compared++
			if !ja4Format.MatchString(g[1]) {
				t.Errorf("%s: JA4 %q does not match %v", key, g[1], ja4Format)
			}
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s: we have a ClientHello the reference does not", key)
		}
	}
	t.Logf("%d ClientHellos agree", compared)
	if compared < 260 {
		t.Errorf("only %d ClientHellos compared", compared)
	}
}
