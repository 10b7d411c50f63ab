package tlsserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// flightRow is what this test compares for one server flight.
type flightRow struct {
	legacy, version, cipher string
	certs                   []string // SHA-256 of each DER certificate, hex
	alert                   string   // "level:description" numbers of the first alert, "" if none
	cut                     bool     // ours only: the capture ends inside the flight's records
}

type streamKey struct{ src, dst netip.AddrPort }

// flightKnownDifferences lists the captures where tshark reads a server flight this test cannot, and why.
var flightKnownDifferences = map[string]string{
	"ndpi-sll-pcapng-shadowsocks-ipv6.pcapng": "TLS inside SOCKS5 on port 1080: SOCKS is out of scope, the stream starts with the SOCKS reply",
}

// TestSharedCapturesServerFlights reads the server's first flight of every TCP stream of every shared capture
// that holds a ClientHello and compares it with tshark's dissection, run here: legacy and negotiated
// version, cipher suite, and for TLS 1.2 and below every certificate of the chain (SHA-256 of the DER bytes).
func TestSharedCapturesServerFlights(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	tshark := needTshark(t)
	flights := 0
	for _, path := range pcaptest.Captures(t, dir) {
		base := filepath.Base(path)
		if len(pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".tls.tsv"))) == 0 {
			continue // no ClientHello: no server flight to read
		}
		t.Run(base, func(t *testing.T) {
			ours := ourFlights(t, path)
			theirs := tsharkFlights(t, tshark, path, decodeAs(ours))
			for k, w := range theirs {
				g, ok := ours[k]
				switch {
				case !ok && flightKnownDifferences[base] != "":
					t.Logf("%v->%v: known difference: %s", k.src, k.dst, flightKnownDifferences[base])
				case !ok:
					t.Errorf("%v->%v: tshark has a server flight %+v, we have none", k.src, k.dst, w)
				case g.legacy != w.legacy || g.version != w.version || g.cipher != w.cipher || !equalCerts(g.certs, w.certs):
					t.Errorf("%v->%v:\n ours   %+v\n tshark %+v", k.src, k.dst, g, w)
				case g.alert != "" && g.alert != w.alert:
					t.Errorf("%v->%v: our alert %s, tshark's first %s", k.src, k.dst, g.alert, w.alert)
				}
				if ok && len(g.certs) > 0 {
					flights++
				}
			}
			var lost map[streamKey]bool
			for k, g := range ours {
				if _, ok := theirs[k]; ok {
					continue
				}
				if lost == nil {
					lost = tsharkOutOfOrder(t, tshark, path)
				}
				if g.cut {
					t.Logf("%v->%v: the capture ends inside a record that holds our ServerHello; tshark dissects whole records only", k.src, k.dst)
					continue
				}
				if lost[k] {
					t.Logf("%v->%v: tshark does not dissect a flight with out-of-order or retransmitted segments; ours: %s %s", k.src, k.dst, g.legacy, g.cipher)
					continue
				}
				t.Errorf("%v->%v: we have a server flight %+v, tshark has none", k.src, k.dst, g)
			}
		})
	}
	t.Logf("%d server flights with a chain compared", flights)
}

func equalCerts(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// needTshark finds tshark; without it the test skips, or fails under CI=true.
func needTshark(t *testing.T) string {
	p, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed (apt-get install tshark): the server flights cannot be checked")
		}
		t.Skip("tshark is not installed: skipping the comparison of server flights with tshark")
	}
	return p
}

// ourFlights parses the first flight of every stream that starts like one, after a proxy's answer to
// CONNECT when there is one (tshark dissects the tunnel too).
func ourFlights(t *testing.T, path string) map[streamKey]flightRow {
	out := map[streamKey]flightRow{}
	for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
		data := st.Data[proxyAnswer(st.Data):]
		f, status, _, err := flightIn(data)
		if status == NotTLS || !f.ServerHello {
			continue
		}
		if status == Malformed {
			t.Errorf("%v->%v: %v", st.Src, st.Dst, err)
		}
		k := streamKey{st.Src, st.Dst}
		if _, dup := out[k]; dup {
			continue // port reuse: tshark's rows are kept per address pair too, first stream wins
		}
		row := flightRow{legacy: fmt.Sprintf("0x%04x", f.LegacyVersion), cipher: fmt.Sprintf("0x%04x", f.CipherSuite), cut: status == NeedMore}
		if f.Version != f.LegacyVersion {
			row.version = fmt.Sprintf("0x%04x", f.Version)
		}
		for _, c := range f.Chain {
			row.certs = append(row.certs, sha(c))
		}
		if f.Alert.Seen() {
			row.alert = fmt.Sprintf("%d:%d", f.Alert.Level, f.Alert.Description)
		}
		out[k] = row
	}
	return out
}

// proxyAnswer is the length of an HTTP answer head at the start of data, 0 when there is none.
func proxyAnswer(data []byte) int {
	if !bytes.HasPrefix(data, []byte("HTTP/1.")) {
		return 0
	}
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return len(data)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tsharkFlights runs tshark over the capture and keeps, per server->client address pair, the first
// ServerHello's versions and cipher, the first Certificate's DER certificates and the first alert.
func tsharkFlights(t *testing.T, tshark, path string, extra []string) map[streamKey]flightRow {
	args := append([]string{"-n", "-r", path}, extra...)
	cmd := exec.Command(tshark, append(args, "-Y", "tcp && (tls.handshake.type==2 || tls.handshake.type==11 || tls.alert_message.desc)",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.handshake.type", "-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.certificate",
		"-e", "tls.alert_message.level", "-e", "tls.alert_message.desc")...)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	out := map[streamKey]flightRow{}
	seen := map[streamKey]bool{}
	for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		c := strings.Split(line, "\t")
		if len(c) < 13 {
			continue
		}
		k := streamKey{addrPort(t, c[0]+c[1], c[2]), addrPort(t, c[3]+c[4], c[5])}
		row, known := out[k]
		types := pcaptest.SplitList(c[6])
		if hasType(types, "2") && !seen[k] {
			seen[k] = true
			row.legacy, row.cipher, row.version = first(c[7]), first(c[8]), first(c[9])
			if row.version == row.legacy {
				row.version = ""
			}
		} else if !known && !hasType(types, "2") {
			continue // a certificate or alert of a flight whose ServerHello we did not see
		}
		if hasType(types, "11") && row.certs == nil && row.version == "" {
			for _, h := range pcaptest.SplitList(c[10]) {
				der, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
				if err != nil {
					t.Fatalf("certificate hex: %v", err)
				}
				row.certs = append(row.certs, sha(der))
			}
		}
		if c[12] != "" && row.alert == "" {
			row.alert = first(c[11]) + ":" + first(c[12])
		}
		out[k] = row
	}
	return out
}

func hasType(types []string, want string) bool {
	for _, x := range types {
		if x == want {
			return true
		}
	}
	return false
}

func first(list string) string {
	v, _, _ := strings.Cut(list, ",")
	return v
}

func addrPort(t *testing.T, addr, port string) netip.AddrPort {
	a, err := netip.ParseAddr(first(addr))
	p, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		t.Fatalf("tshark address %q port %q", addr, port)
	}
	return netip.AddrPortFrom(a, uint16(p))
}

// tsharkOutOfOrder lists the directions where tshark saw a segment after a gap ("previous segment not
// captured"), out of order, or as a retransmission (after a reused port: "port numbers reused"); tshark
// 4.0 then leaves the server's flight undissected, even with -2.
func tsharkOutOfOrder(t *testing.T, tshark, path string) map[streamKey]bool {
	cmd := exec.Command(tshark, "-n", "-r", path, "-Y", "tcp.analysis.out_of_order || tcp.analysis.lost_segment || tcp.analysis.retransmission",
		"-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	out := map[streamKey]bool{}
	for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if c := strings.Split(line, "\t"); len(c) == 6 {
			out[streamKey{addrPort(t, c[0]+c[1], c[2]), addrPort(t, c[3]+c[4], c[5])}] = true
		}
	}
	return out
}

// decodeAs asks tshark to dissect TLS on the server ports where we found a flight: it finds TLS by port
// (443, 4433, 8443, ...) and misses it elsewhere, e.g. on 5223 (Apple push, XMPP over TLS).
func decodeAs(ours map[streamKey]flightRow) []string {
	var ports []uint16
	for k := range ours {
		ports = append(ports, k.src.Port())
	}
	slices.Sort(ports)
	var args []string
	for _, p := range slices.Compact(ports) {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,tls", p))
	}
	return args
}
