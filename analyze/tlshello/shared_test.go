package tlshello

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// helloIn runs Parse the way the engine does: grow the prefix to the size Parse asks for until it decides.
// It returns the hello, the status and how many stream bytes the decision took.
func helloIn(data []byte) (Hello, Status, int, error) {
	var h Hello
	for n := 0; ; {
		st, need, err := Parse(data[:n], &h)
		if st != NeedMore {
			return h, st, n, err
		}
		if need > len(data) {
			return h, NeedMore, len(data), nil
		}
		n = need
	}
}

// tunnel skips an HTTP CONNECT request head, so the tunnel's ClientHello is found as tshark finds it.
func tunnel(data []byte) int {
	if !bytes.HasPrefix(data, []byte("CONNECT ")) {
		return 0
	}
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return len(data)
}

type helloRow struct {
	sni, versions string
	ech           bool
}

// tlsKnownDifferences lists where this test and tshark deliberately disagree, per capture and frame.
var tlsKnownDifferences = map[string]string{
	"ndpi-reddit-ipv6-rst.pcap#1000":             "second ClientHello after a HelloRetryRequest; Parse reads the first (frame 996), which names the connection",
	"ndpi-sll-pcapng-shadowsocks-ipv6.pcapng#18": "ClientHello after a SOCKS5 handshake on port 1080; SOCKS is out of scope, Parse sees the stream start",
}

// TestSharedCapturesTLS finds the ClientHello at the start of every reassembled TCP stream of every shared
// capture and compares SNI, supported_versions and ECH presence with tshark 4.0.17's, frame by frame.
func TestSharedCapturesTLS(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	files := pcaptest.Captures(t, dir)
	total := 0
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			got := map[int]helloRow{}
			for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
				skip := tunnel(st.Data)
				h, status, n, err := helloIn(st.Data[skip:])
				switch status {
				case Complete:
					got[st.Frames[skip+n-1]] = helloRow{h.SNI, versions(h.Versions), h.ECH}
				case Malformed:
					if d := st.Data[skip:]; len(d) < 6 || d[5] != 1 {
						continue // a server's first flight, or a fragment we cannot tell
					}
					t.Errorf("stream %v->%v: %v", st.Src, st.Dst, err)
				}
			}
			want := map[int]helloRow{}
			for _, row := range pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".tls.tsv")) {
				if row["quic.version"] != "" || row["tcp.stream"] == "" {
					continue
				}
				var n int
				fmt.Sscan(row["frame.number"], &n)
				want[n] = helloRow{row["tls.handshake.extensions_server_name"], row["tls.handshake.extensions.supported_version"],
					slices.Contains(strings.Split(row["tls.handshake.extension.type"], ","), "65037")}
			}
			total += len(got)
			compareHellos(t, base, got, want)
		})
	}
	t.Logf("%d ClientHellos compared", total)
}

func compareHellos(t *testing.T, base string, got, want map[int]helloRow) {
	for n, w := range want {
		key := fmt.Sprintf("%s#%d", base, n)
		if reason, ok := tlsKnownDifferences[key]; ok {
			t.Logf("frame %d: known difference: %s", n, reason)
			continue
		}
		g, ok := got[n]
		if !ok {
			t.Errorf("frame %d: tshark has a ClientHello (%q), we have none", n, w.sni)
		} else if g != w {
			t.Errorf("frame %d: ours %+v, tshark %+v", n, g, w)
		}
	}
	for n, g := range got {
		if _, ok := want[n]; !ok {
			if _, known := tlsKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; !known {
				t.Errorf("frame %d: we have a ClientHello (%q), tshark has none", n, g.sni)
			}
		}
	}
}

func versions(v []uint16) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("0x%04x", x)
	}
	return strings.Join(s, ",")
}

// TestSharedCapturesPrefixes replays the hard hellos of the shared captures one byte at a time: split over
// segments, 11 KB, fragmented over records, post-quantum, ECH. Every prefix must be NeedMore without a name.
func TestSharedCapturesPrefixes(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	tests := []struct {
		file       string
		sni        string // "" when the capture holds a single hello
		minRecords int
		ech        bool
	}{
		{"arkime-tls-split-client-hello.pcap", "clients2.google.com", 1, true}, // Chrome greases ECH
		{"zeek-tls13-chrome125-x25519kyber-large-ch.pcap", "lh3.google.com", 1, true},
		{"ndpi-tls-huge-clienthello-nosni.pcapng", "", 1, false},
		// The server's flight is fragmented over records there; the ClientHello names an IP literal.
		{"zeek-tls-fragmented-handshake.pcap", "104.236.167.107", 1, false},
		{"zeek-tls13-ech-cloudflare.pcap", "cloudflare-ech.com", 1, true},
		{"sv-tls13-sni-microsoft.pcap", "", 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			found := false
			for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, filepath.Join(dir, tc.file))) {
				h, status, n, _ := helloIn(st.Data)
				if status != Complete || (tc.sni != "" && h.SNI != tc.sni) {
					continue
				}
				if h.Records < tc.minRecords || h.ECH != tc.ech {
					t.Errorf("%v: records %d ech %v", st.Src, h.Records, h.ECH)
				}
				found = true
				var p Hello
				for i := 0; i < n; i++ {
					if s, need, err := Parse(st.Data[:i], &p); s != NeedMore || need <= i || p.SNI != "" {
						t.Fatalf("%v prefix %d/%d: %v need %d err %v sni %q", st.Src, i, n, s, need, err, p.SNI)
					}
				}
			}
			if !found {
				t.Errorf("no complete ClientHello found")
			}
		})
	}
}
