package certchain

import (
	"crypto/x509"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/analyze/tlsserver"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// connFlight is what a capture test needs from one TLS connection: the server's flight as tlsserver read
// it, the client's SNI, the time of the frame that completed the flight and the client's alert.
type connFlight struct {
	server      netip.AddrPort
	flight      *tlsserver.Flight
	sni         string
	at          time.Time
	clientAlert tlsserver.Alert
	segments    int // server segments that carried the bytes the flight was read from
}

// captureFlights reads every TCP connection of a capture whose server sent a ServerHello, the way the
// engine will: tlshello over the client's stream, tlsserver over the server's.
func captureFlights(t *testing.T, path string) []connFlight {
	times := frameTimes(t, path)
	streams := pcaptest.TCPStreams(pcaptest.ReadSegments(t, path))
	type pair struct{ src, dst netip.AddrPort }
	client := map[pair][]byte{}
	for _, st := range streams {
		if _, ok := client[pair{st.Src, st.Dst}]; !ok {
			client[pair{st.Src, st.Dst}] = st.Data
		}
	}
	var out []connFlight
	for _, st := range streams {
		f := &tlsserver.Flight{}
		n := 0
		for {
			status, need, _ := tlsserver.Parse(st.Data[:n], f)
			if status != tlsserver.NeedMore || need > len(st.Data) {
				break
			}
			n = need
		}
		if !f.ServerHello {
			continue
		}
		c := connFlight{server: st.Src, flight: f, at: times[st.Frames[max(n, 1)-1]], segments: distinct(st.Frames[:n])}
		var h tlshello.Hello
		cs := client[pair{st.Dst, st.Src}]
		if s, _, _ := tlshello.Parse(cs, &h); s == tlshello.Complete {
			c.sni = h.SNI
		}
		if a, s, _, _ := tlsserver.ClientAlert(cs); s == tlsserver.Complete {
			c.clientAlert = a
		}
		out = append(out, c)
	}
	return out
}

// frameTimes maps frame numbers to timestamps.
func frameTimes(t *testing.T, path string) map[int]time.Time {
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[int]time.Time{}
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[int(f.Number)] = f.Timestamp
	}
}

func check(v *Verifier, c connFlight) Result {
	partial := c.flight.ChainState == tlsserver.ChainTruncated || c.flight.ChainState == tlsserver.ChainTooLarge
	return v.Check(Input{Chain: c.flight.Chain, Partial: partial, SNI: c.sni, Time: c.at})
}

// TestSharedCapturesChains classifies the chains of the shared captures at their own time. Some have known
// answers: Google's 2021 chain is public; heise.de's (2021) ends at "DST Root CA X3", Google's of 2020 at
// "GlobalSign Root CA - R2", both removed from the NSS store since, and are public with Retired (they were
// trusted when captured); an inspection CA and a self-signed certificate stay private. Every other chain must be
// classified (no parse failure), TLS 1.3 flights must be hidden, and the one chain over the caps
// (zeek-tls-fragmented-handshake.pcap, a Certificate message over 64 KiB in 16 KiB records) left unclassified.
func TestSharedCapturesChains(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	v := NewVerifier(publicRoots(t), nil)
	counts := map[Class]int{}
	for _, path := range pcaptest.Captures(t, dir) {
		for _, c := range captureFlights(t, path) {
			r := check(v, c)
			counts[r.Class]++
			hidden := c.flight.ChainState == tlsserver.ChainHidden || c.flight.ChainState == tlsserver.ChainNone
			partial := c.flight.ChainState == tlsserver.ChainTooLarge || c.flight.ChainState == tlsserver.ChainTruncated
			if hidden != (r.Class == Hidden) || (r.Class == Unknown) != (partial && len(c.flight.Chain) == 0) {
				t.Errorf("%s %v: chain %v, class %q (%v)", path, c.server, c.flight.ChainState, r.Class, r.Err)
			}
			if c.flight.Version > 0x0303 && r.Class != Hidden {
				t.Errorf("%s %v: tls 1.3 with class %q", path, c.server, r.Class)
			}
		}
	}
	t.Logf("classes: %v", counts)
	tests := []struct {
		file, server string // server "" = every flight
		class        Class
		retired      bool
		issuer       string
		n            int
	}{
		{"zeek-tls12-google-cert-repeat.pcap", "", Public, false, "GTS CA 1C3", 8},
		// Let's Encrypt R3 under DST Root CA X3 in May 2021, a root in Mozilla's bundles until 2021.
		{"zeek-tls12-heise.pcap", "", Public, true, "R3", 1},
		// play.googleapis.com and its neighbours in 2020: GTS CA 1O1 under GlobalSign Root CA - R2.
		{"ndpi-android-dns-tls.pcap", "172.217.20.74:443", Public, true, "GTS CA 1O1", 1},
		// Apple in April 2018, under VeriSign's G5 root, half a year before Symantec's roots were distrusted.
		{"zeek-pppoe-qinq-tls.pcap", "", Public, true, "Symantec Class 3 EV SSL CA - G3", 1},
		// What must stay private: a self-signed certificate, and SHA-1-signed chains of 2015 under a retired
		// root (crypto/x509 refuses SHA-1). A company's inspection CA is in TestRetiredChains.
		{"sv-windows-browsing-microsoft.pcap", "138.201.208.22:443", Private, false, "mamzon.ru", 11},
		{"ndpi-http-ipv6-tls.pcap", "[2a02:26f0:ad:197::236]:443", Private, false, "DigiCert High Assurance CA-3", 2},
		{"ndpi-sll-kakaotalk-android.pcap", "210.103.240.15:443", Private, false, "Thawte SSL CA", 1},
		// Teams in 2020: Microsoft IT TLS CA 4 under Baltimore CyberTrust Root, removed from NSS since.
		{"ndpi-teams-microsoft.pcap", "52.114.77.33:443", Public, true, "Microsoft IT TLS CA 4", 9},
	}
	for _, tc := range tests {
		n := 0
		for _, c := range captureFlights(t, dir+"/"+tc.file) {
			if tc.server != "" && c.server.String() != tc.server {
				continue
			}
			n++
			if r := check(v, c); r.Class != tc.class || r.Issuer != tc.issuer || r.Retired != tc.retired {
				t.Errorf("%s %v: %q retired %v issuer %q (%v)", tc.file, c.server, r.Class, r.Retired, r.Issuer, r.Err)
			}
		}
		if n != tc.n {
			t.Errorf("%s: %d flights, want %d", tc.file, n, tc.n)
		}
	}
}

// TestRecordedInspection reads the lab's TLS-inspection captures (tools/netlab/record.sh, scenarios
// tls-inspect*): openssl s_server presents a leaf for *.manage.microsoft.com signed by a "Contoso SSL
// Inspection CA" made for the recording. The CA is new on every recording, so the test checks names, not
// hashes.
func TestRecordedInspection(t *testing.T) {
	v := NewVerifier(publicRoots(t), nil)
	const dir = "../../testdata/pcaps/"
	tests := []struct {
		file         string
		flights      int
		version      uint16
		class        Class
		clientAlerts []string // per flight, in order
		minSegments  int      // server segments that carried the flight
	}{
		{"tls-inspect.pcap", 2, 0x0303, Private, []string{"", "fatal unknown_ca"}, 2},
		{"tls-inspect-smallmtu.pcap", 1, 0x0303, Private, []string{""}, 5},
		{"tls-inspect-tls13.pcap", 1, 0x0304, Hidden, []string{""}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := captureFlights(t, dir+tc.file)
			if len(got) != tc.flights {
				t.Fatalf("%d flights, want %d", len(got), tc.flights)
			}
			for i, c := range got {
				r := check(v, c)
				if c.sni != "inspected.manage.microsoft.com" || c.flight.Version != tc.version || r.Class != tc.class {
					t.Errorf("flight %d: sni %q version %#04x class %q (%v)", i, c.sni, c.flight.Version, r.Class, r.Err)
				}
				if c.clientAlert.String() != tc.clientAlerts[i] {
					t.Errorf("flight %d: client alert %q, want %q", i, c.clientAlert, tc.clientAlerts[i])
				}
				if c.segments < tc.minSegments {
					t.Errorf("flight %d: %d segments, want at least %d", i, c.segments, tc.minSegments)
				}
				if tc.class == Hidden {
					continue
				}
				if r.Issuer != "Contoso SSL Inspection CA" || r.Subject != "CN=*.manage.microsoft.com,O=Contoso" ||
					len(r.SANs) != 2 || r.SANs[0] != "*.manage.microsoft.com" || len(c.flight.Chain) != 2 {
					t.Errorf("flight %d: %+v, %d certs", i, r, len(c.flight.Chain))
				}
				// Once the user trusts the inspection CA (--trust), the same chain is the company's own.
				trusted := NewVerifier(publicRoots(t), pemDER(t, c.flight.Chain[1]))
				if r := check(trusted, c); r.Class != Public || !r.Trusted {
					t.Errorf("flight %d with the CA trusted: %q trusted %v (%v)", i, r.Class, r.Trusted, r.Err)
				}
			}
		})
	}
}

// pemDER makes a Roots of one DER certificate through LoadTrust.
func pemDER(t *testing.T, der []byte) *Roots {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pemRoots(t, issued{cert: c, der: der})
}

// distinct counts the different frames in a stream's byte-to-frame map.
func distinct(frames []int) int {
	n := 0
	for i, f := range frames {
		if i == 0 || f != frames[i-1] {
			n++
		}
	}
	return n
}
