package tlshello

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// TestFacts checks the lists fingerprints read, on hand-built hellos where every value is known.
func TestFacts(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		st     Status
		want   Hello
	}{
		{"no extensions", hello(), Complete, Hello{LegacyVersion: 0x0303, Ciphers: []uint16{0x1301}}},
		{"every list, grease kept", hello(ext(0x1a1a), sni("a.example"), ext(extSupportedGroups, 0, 6, 0x2a, 0x2a, 0, 0x1d, 0, 0x17),
			ext(extECPointFormats, 2, 0, 1), ext(extSignatureAlgorithms, 0, 4, 4, 3, 8, 4), ext(extALPN, 0, 3, 2, 'h', '2'),
			ext(extSupportedVersions, 4, 0x3a, 0x3a, 3, 4), ext(extSignatureAlgorithms, 0, 2, 6, 1), ext(0xfafa, 0)), Complete,
			Hello{LegacyVersion: 0x0303, Ciphers: []uint16{0x1301},
				Extensions: []uint16{0x1a1a, 0, 10, 11, 13, 16, 43, 13, 0xfafa}, Groups: []uint16{0x2a2a, 0x1d, 0x17},
				PointFormats: []uint8{0, 1}, SigAlgs: []uint16{0x0403, 0x0804, 0x0601}, ALPN: []string{"h2"}, Versions: []uint16{0x3a3a, 0x0304}}},
		{"odd supported_groups", hello(ext(extSupportedGroups, 0, 3, 0, 0x1d, 0)), Malformed, Hello{}},
		{"odd signature_algorithms", hello(ext(extSignatureAlgorithms, 0, 1, 4)), Malformed, Hello{}},
		{"point formats overrun", hello(ext(extECPointFormats, 3, 0)), Malformed, Hello{}},
		{"odd cipher suites", oddCiphers(), Malformed, Hello{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Hello
			st, _, err := Parse(tc.stream, &h)
			if st != tc.st {
				t.Fatalf("Parse = %v, %v", st, err)
			}
			if st != Complete {
				return
			}
			if g, w := factsOf(h), factsOf(tc.want); g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// oddCiphers is a one-record hello whose cipher_suites vector has 3 bytes.
func oddCiphers() []byte {
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0, 3, 0x13, 0x01, 0x13, 1, 0)
	msg := append([]byte{1, 0, 0, byte(len(body))}, body...)
	return append([]byte{22, 3, 1, 0, byte(len(msg))}, msg...)
}

func factsOf(h Hello) string {
	return fmt.Sprintf("legacy %#04x ciphers %x exts %x groups %x formats %x sigalgs %x alpn %q versions %x",
		h.LegacyVersion, h.Ciphers, h.Extensions, h.Groups, h.PointFormats, h.SigAlgs, h.ALPN, h.Versions)
}

// TestFactsReused parses a full hello and then a smaller one into the same Hello: no value of the first
// may remain.
func TestFactsReused(t *testing.T) {
	var h Hello
	Parse(goHello(t, "login.microsoftonline.com", "h2"), &h)
	if len(h.Ciphers) == 0 || len(h.Extensions) == 0 || len(h.Groups) == 0 || len(h.SigAlgs) == 0 || len(h.PointFormats) == 0 {
		t.Fatalf("Go hello: %s", factsOf(h))
	}
	if st, _, err := Parse(hello(), &h); st != Complete || factsOf(h) != factsOf(Hello{LegacyVersion: 0x0303, Ciphers: []uint16{0x1301}}) {
		t.Errorf("second parse: %v %v %s", st, err, factsOf(h))
	}
}

// TestExtractAllocs shows the lists cost no allocation once the Hello's slices have grown: extract, which
// fills them, allocates nothing for a hello without SNI (the SNI string is the one allocation it makes).
func TestExtractAllocs(t *testing.T) {
	rec := goHello(t, "", "h2", "http/1.1")
	var h Hello
	if st, _, err := Parse(rec, &h); st != Complete || h.SNI != "" || len(h.Ciphers) == 0 {
		t.Fatalf("Parse = %v %v, sni %q", st, err, h.SNI)
	}
	msg := rec[recordHeader:]
	if n := testing.AllocsPerRun(100, func() { h.resetLists(); h.extract(msg) }); n != 0 {
		t.Errorf("extract allocates %v times", n)
	}
}

func BenchmarkExtract(b *testing.B) {
	rec := goHello(b, "", "h2", "http/1.1")
	msg := rec[recordHeader:]
	var h Hello
	b.ReportAllocs()
	for b.Loop() {
		h.resetLists()
		if err := h.extract(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSharedCapturesFacts compares the legacy version and the extension types of every ClientHello of the
// shared captures with tshark 4.0.17's (tls.handshake.version, tls.handshake.extension.type), frame by frame.
func TestSharedCapturesFacts(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	total := 0
	for _, path := range pcaptest.Captures(t, dir) {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			got := map[int]string{}
			for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
				skip := tunnel(st.Data)
				if h, status, n, _ := helloIn(st.Data[skip:]); status == Complete {
					got[st.Frames[skip+n-1]] = fmt.Sprintf("%#04x %s", h.LegacyVersion, decimals(h.Extensions))
				}
			}
			for _, row := range pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".tls.tsv")) {
				if row["quic.version"] != "" || row["tcp.stream"] == "" {
					continue
				}
				var n int
				fmt.Sscan(row["frame.number"], &n)
				if _, known := tlsKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; known {
					continue
				}
				want := row["tls.handshake.version"] + " " + row["tls.handshake.extension.type"]
				if got[n] != want {
					t.Errorf("frame %d: ours %q, tshark %q", n, got[n], want)
				}
				total++
			}
		})
	}
	t.Logf("%d ClientHellos compared", total)
}

func decimals(v []uint16) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
