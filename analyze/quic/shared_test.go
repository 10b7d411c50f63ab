package quic

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// quicRow is what this test and tshark both say about a QUIC ClientHello.
type quicRow struct {
	sni, versions, quicVersion string
}

// quicKnownDifferences lists where this test and tshark deliberately disagree, per capture and frame.
var quicKnownDifferences = map[string]string{}

// udpFlow is one UDP flow of a capture: client is the sender of its first datagram.
type udpFlow struct {
	client netip.AddrPort
	flow   Flow
	hello  int // frame that completed the ClientHello
	server int // datagrams the server sent
}

// quicHellos feeds every UDP flow of a capture to a Flow, client and server datagrams apart, and returns the
// completed ClientHellos by the frame that completed them, with the flows for further checks.
func quicHellos(t *testing.T, path string) (map[int]quicRow, []*udpFlow) {
	flows := map[[2]netip.AddrPort]*udpFlow{}
	var order []*udpFlow
	for _, s := range pcaptest.ReadSegments(t, path) {
		if s.TCP {
			continue
		}
		key := [2]netip.AddrPort{s.Src, s.Dst}
		if s.Dst.Addr().Less(s.Src.Addr()) || s.Dst.Addr() == s.Src.Addr() && s.Dst.Port() < s.Src.Port() {
			key = [2]netip.AddrPort{s.Dst, s.Src}
		}
		u := flows[key]
		if u == nil {
			u = &udpFlow{client: s.Src}
			flows[key] = u
			order = append(order, u)
		}
		if s.Src != u.client {
			u.server++
			u.flow.Server(s.Payload)
			continue
		}
		before := u.flow.Status()
		if u.flow.Client(s.Payload) == Complete && before != Complete {
			u.hello = s.Frame
		}
	}
	got := map[int]quicRow{}
	for _, u := range order {
		if u.flow.Status() != Complete {
			continue
		}
		rec, err := u.flow.TLSRecord()
		if err != nil {
			t.Errorf("frame %d: %v", u.hello, err)
			continue
		}
		var h tlshello.Hello
		if st, _, err := tlshello.Parse(rec, &h); st != tlshello.Complete {
			t.Errorf("frame %d: tlshello %v: %v", u.hello, st, err)
			continue
		}
		got[u.hello] = quicRow{h.SNI, versions(h.Versions), fmt.Sprintf("0x%08x", uint32(u.flow.Version()))}
	}
	return got, order
}

func versions(v []uint16) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("0x%04x", x)
	}
	return strings.Join(s, ",")
}

// TestSharedCapturesQUIC decrypts the client Initials of every UDP flow of every shared capture and compares
// the ClientHellos found (frame, SNI, supported_versions, QUIC version) with tshark 4.0.17's, which decrypts
// Initials itself. Captures without QUIC must yield none: a flow that is not QUIC never authenticates.
//
// Last run against tshark 4.0.17's extraction: all 11 QUIC ClientHellos agree, with no known difference, in
// ndpi-quic-ch-2-initials-nosni (hello over 2 Initials, no SNI), ndpi-sites-59-snis-ipv6 (4, one of them
// in a datagram of two coalesced Initials), zeek-quic-chromium115-cirrus, zeek-quic-curl-http3-google,
// zeek-quic-firefox102-cloudflare, zeek-quic-multi-initial-crypto-ipv6 (X25519MLKEM768 hello over 3
// Initials), zeek-quic-win11-firefox-google and zeek-quicv2-http3 (v2). No other capture yields one.
func TestSharedCapturesQUIC(t *testing.T) {
	if os.Getenv("CI") == "true" && os.Getenv("INTUNECAP_SHARED_PCAPS") == "" {
		t.Fatal("CI=true but INTUNECAP_SHARED_PCAPS is not set: the QUIC cross-check against tshark cannot run")
	}
	dir := pcaptest.SharedDir(t)
	total, agree := 0, []string{}
	for _, path := range pcaptest.Captures(t, dir) {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			got, flows := quicHellos(t, path)
			want := map[int]quicRow{}
			for _, row := range pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".tls.tsv")) {
				if row["quic.version"] == "" {
					continue
				}
				var n int
				fmt.Sscan(row["frame.number"], &n)
				want[n] = quicRow{row["tls.handshake.extensions_server_name"], row["tls.handshake.extensions.supported_version"],
					strings.Split(row["quic.version"], ",")[0]}
			}
			if len(got) == 0 && len(want) == 0 {
				return
			}
			total += len(got)
			if compareQUIC(t, base, got, want) {
				agree = append(agree, fmt.Sprintf("%s (%d)", base, len(got)))
			}
			// Every server that sent anything in these captures completed its handshake: its Initial must
			// authenticate, and a flow without server datagrams must not look answered.
			for _, u := range flows {
				if u.flow.Status() == Complete && u.flow.Reply().Answered() != (u.server > 0) {
					t.Errorf("frame %d: %d server datagrams, reply %+v", u.hello, u.server, u.flow.Reply())
				}
			}
		})
	}
	sort.Strings(agree)
	t.Logf("%d QUIC ClientHellos; tshark agrees on every one in: %s", total, strings.Join(agree, ", "))
}

func compareQUIC(t *testing.T, base string, got, want map[int]quicRow) bool {
	ok := true
	for n, w := range want {
		if reason, known := quicKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; known {
			t.Logf("frame %d: known difference: %s", n, reason)
			ok = false
			continue
		}
		g, found := got[n]
		switch {
		case !found:
			t.Errorf("frame %d: tshark has a QUIC ClientHello (%q), we have none", n, w.sni)
			ok = false
		case g != w:
			t.Errorf("frame %d: ours %+v, tshark %+v", n, g, w)
			ok = false
		}
	}
	for n, g := range got {
		if _, found := want[n]; !found {
			if _, known := quicKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; !known {
				t.Errorf("frame %d: we have a QUIC ClientHello (%q), tshark has none", n, g.sni)
				ok = false
			}
		}
	}
	return ok
}

// labDir holds the captures recorded with tools/netlab.
const labDir = "../../testdata/pcaps"

// TestLabCaptures checks the lab's QUIC captures against what their scenarios in tools/netlab/record.sh do:
// quic-go's post-quantum hello in two Initials, answered by quiclab's server or dropped by the gateway.
func TestLabCaptures(t *testing.T) {
	tests := []struct {
		file     string
		sni      string
		answered bool
	}{
		{"quic-answered.pcap", "quic.manage.microsoft.com", true},
		{"quic-dropped.pcap", "quicdrop.manage.microsoft.com", false},
		{"quic-fallback.pcap", "fallback.manage.microsoft.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, flows := quicHellos(t, filepath.Join(labDir, tt.file))
			if len(got) != 1 {
				t.Fatalf("%d ClientHellos, want 1: %+v", len(got), got)
			}
			for _, u := range flows {
				if u.flow.Status() != Complete {
					continue
				}
				r := u.flow.Reply()
				if row := got[u.hello]; row.sni != tt.sni || row.quicVersion != "0x00000001" || u.flow.Initials() < 2 ||
					r.Answered() != tt.answered || r.Handshake != tt.answered || r.VersionNegotiation || r.Closed {
					t.Errorf("hello %+v initials %d reply %+v", row, u.flow.Initials(), r)
				}
			}
		})
	}
}
