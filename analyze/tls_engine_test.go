package analyze_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

const inspectedName = "inspected.manage.microsoft.com"

// inspectionCert is a leaf for *.manage.microsoft.com signed by a private "Test Inspection CA", valid around
// the wire's capture time (2026-01-02), as a TLS-inspecting proxy would present it.
func inspectionCert(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Inspection CA"},
		NotBefore: notBefore, NotAfter: notBefore.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "*.manage.microsoft.com"},
		DNSNames: []string{"*.manage.microsoft.com"}, NotBefore: notBefore, NotAfter: notBefore.AddDate(2, 0, 0),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, leafDER
}

// recordingConn keeps what one side wrote.
type recordingConn struct {
	net.Conn
	mu  *sync.Mutex
	out *[]byte
}

func (c recordingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	*c.out = append(*c.out, b...)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// tlsSession runs a real crypto/tls handshake for sni with the server's certificate and version, and returns
// the client's and the server's byte streams.
func tlsSession(t testing.TB, cert tls.Certificate, version uint16, sni string) (client, server []byte) {
	t.Helper()
	c, s := net.Pipe()
	var mu sync.Mutex
	cl := tls.Client(recordingConn{c, &mu, &client}, &tls.Config{ServerName: sni, InsecureSkipVerify: true,
		MaxVersion: version, NextProtos: []string{"h2", "http/1.1"}})
	sv := tls.Server(recordingConn{s, &mu, &server}, &tls.Config{Certificates: []tls.Certificate{cert},
		MaxVersion: version, NextProtos: []string{"h2"}})
	done := make(chan error, 1)
	go func() { done <- sv.Handshake() }()
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	if err := cl.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	return append([]byte(nil), client...), append([]byte(nil), server...)
}

// firstRecord is the length of the first TLS record of b (the ClientHello's).
func firstRecord(b []byte) int { return 5 + int(binary.BigEndian.Uint16(b[3:5])) }

// segment is a piece of one side's stream.
type segment struct {
	off  int
	data []byte
}

// cut splits a stream into n-byte segments in order.
func cut(b []byte, n int) []segment {
	var out []segment
	for off := 0; off < len(b); off += n {
		out = append(out, segment{off, b[off:min(off+n, len(b))]})
	}
	return out
}

func TestEngineTLSServerFlight(t *testing.T) {
	cert, leafDER := inspectionCert(t)
	leafSum := sha256.Sum256(leafDER)
	cli12, srv12 := tlsSession(t, cert, tls.VersionTLS12, inspectedName)
	cli13, srv13 := tlsSession(t, cert, tls.VersionTLS13, inspectedName)
	hello12, rest12 := cli12[:firstRecord(cli12)], cli12[firstRecord(cli12):]
	hello13 := cli13[:firstRecord(cli13)]
	serverAlert := []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40} // fatal handshake_failure
	clientAlert := []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 48} // fatal unknown_ca
	connectHead := []byte("CONNECT " + inspectedName + ":443 HTTP/1.1\r\nHost: " + inspectedName + ":443\r\n\r\n")
	okHead := []byte("HTTP/1.1 200 Connection established\r\n\r\n")

	reversed := cut(srv12, 90)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	// Every other segment first, then the rest, each sent twice: holes, overlaps and retransmissions.
	var interleaved []segment
	small := cut(srv12, 64)
	for pass := 0; pass < 2; pass++ {
		for i := pass; i < len(small); i += 2 {
			interleaved = append(interleaved, small[i], small[i])
		}
	}

	tests := []struct {
		name     string
		sport    uint16
		client   []segment // sent first
		server   []segment
		after    []segment // client segments after the server's
		rst      bool      // the server side resets at the end
		want     rules.Verdict
		stage    result.Stage
		chain    string
		alert    string
		alertBy  string
		version  string
		wantCert bool
	}{
		{name: "TLS 1.2 in order", client: cut(hello12, 1000), server: cut(srv12, 1400), after: cut(rest12, 1400),
			want: rules.Intercepted, chain: "private", version: "1.2", wantCert: true},
		{name: "certificate over many segments, reversed", client: cut(hello12, 1000), server: reversed,
			want: rules.Intercepted, chain: "private", version: "1.2", wantCert: true},
		{name: "certificate over many segments, interleaved and repeated", client: cut(hello12, 1000),
			server: interleaved, want: rules.Intercepted, chain: "private", version: "1.2", wantCert: true},
		{name: "TLS 1.3 hidden, never private", client: cut(hello13, 1000), server: cut(srv13, 1400),
			want: rules.Allowed, chain: "hidden", version: "1.3"},
		{name: "server side fatal alert", client: cut(hello12, 1000), server: []segment{{0, serverAlert}},
			want: rules.Blocked, stage: result.StageAfterClientHello, alert: "fatal handshake_failure", alertBy: "server"},
		{name: "server side fatal alert, then reset", client: cut(hello12, 1000), server: []segment{{0, serverAlert}},
			rst: true, want: rules.Reset, stage: result.StageAfterClientHello, alert: "fatal handshake_failure", alertBy: "server"},
		{name: "client alert after the inspected chain", client: cut(hello12, 1000), server: cut(srv12, 1400),
			after: []segment{{len(hello12), clientAlert}}, want: rules.Intercepted, chain: "private",
			alert: "fatal unknown_ca", alertBy: "client", version: "1.2", wantCert: true},
		{name: "CONNECT tunnel, inspected", client: []segment{{0, connectHead}, {len(connectHead), hello12}},
			server: []segment{{0, okHead}, {len(okHead), srv12[:700]}, {len(okHead) + 700, srv12[700:]}},
			want:   rules.Intercepted, chain: "private", version: "1.2", wantCert: true},
		{name: "CONNECT tunnel, 200 and flight in one segment", client: []segment{{0, connectHead}, {len(connectHead), hello12}},
			server: []segment{{0, append(append([]byte(nil), okHead...), srv12...)}},
			want:   rules.Intercepted, chain: "private", version: "1.2", wantCert: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			sport := uint16(41000 + i)
			w.handshake(sport, 443)
			clientEnd := uint32(1001)
			for _, s := range tt.client {
				w.tcp(true, sport, 443, ack|psh, 1001+uint32(s.off), 5001, s.data)
				clientEnd = max(clientEnd, 1001+uint32(s.off+len(s.data)))
			}
			serverEnd := uint32(5001)
			for _, s := range tt.server {
				w.tcp(false, 443, sport, ack|psh, 5001+uint32(s.off), clientEnd, s.data)
				serverEnd = max(serverEnd, 5001+uint32(s.off+len(s.data)))
			}
			for _, s := range tt.after {
				w.tcp(true, sport, 443, ack|psh, 1001+uint32(s.off), serverEnd, s.data)
			}
			if tt.rst {
				w.tcp(false, 443, sport, rst|ack, serverEnd, clientEnd, nil)
			}
			recs := w.finish()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1: %+v", len(recs), recs)
			}
			r := recs[0]
			if r.Name != inspectedName || r.Verdict != tt.want || r.Stage != tt.stage {
				t.Errorf("name %q verdict %q stage %q (%s), want %q %q", r.Name, r.Verdict, r.Stage, r.Reason, tt.want, tt.stage)
			}
			if r.CertChain != tt.chain || r.TLSAlert != tt.alert || r.TLSAlertBy != tt.alertBy || r.TLSVersion != tt.version {
				t.Errorf("chain %q alert %q by %q version %q, want %q %q %q %q", r.CertChain, r.TLSAlert, r.TLSAlertBy,
					r.TLSVersion, tt.chain, tt.alert, tt.alertBy, tt.version)
			}
			if r.JA4 == "" || r.JA3 == "" || len(r.ALPN) != 2 {
				t.Errorf("client facts missing: ja4 %q ja3 %q alpn %v", r.JA4, r.JA3, r.ALPN)
			}
			if tt.version != "" && (r.JA4S == "" || r.JA3S == "" || r.TLSCipher == "") {
				t.Errorf("server facts missing: ja4s %q ja3s %q cipher %q", r.JA4S, r.JA3S, r.TLSCipher)
			}
			if tt.version == "1.2" && r.ALPNSelected != "h2" {
				t.Errorf("alpn_selected %q, want h2", r.ALPNSelected)
			}
			if !tt.wantCert {
				if r.CertSHA256 != "" || r.CertIssuer != "" {
					t.Errorf("certificate fields without a readable certificate: %q %q", r.CertSHA256, r.CertIssuer)
				}
				return
			}
			if r.CertSHA256 != hex.EncodeToString(leafSum[:]) || r.CertIssuer != "Test Inspection CA" ||
				len(r.CertSANs) != 1 || r.CertNotBefore != "2025-06-01T00:00:00Z" {
				t.Errorf("certificate: sha256 %s issuer %q sans %v not_before %s", r.CertSHA256, r.CertIssuer, r.CertSANs, r.CertNotBefore)
			}
			if tt.want == rules.Intercepted && r.Reason != "TLS inspection: the certificate was issued by Test Inspection CA, "+
				"which does not chain to a public root; the requirement is not marked no_inspection" {
				t.Errorf("reason %q", r.Reason)
			}
		})
	}
}

// TestEngineTLSTrustedInspection checks that a chain under a --trust root is public: the company's own
// inspection CA, trusted on purpose, leaves the connection allowed.
func TestEngineTLSTrustedInspection(t *testing.T) {
	cert, _ := inspectionCert(t)
	cli, srv := tlsSession(t, cert, tls.VersionTLS12, inspectedName)
	for _, trust := range []bool{false, true} {
		var opts analyze.Options
		if trust {
			opts.Verifier = verifierTrusting(t, cert.Certificate[1])
		}
		w := newWire(t, opts)
		w.handshake(42000, 443)
		hello := cli[:firstRecord(cli)]
		w.tcp(true, 42000, 443, ack|psh, 1001, 5001, hello)
		w.tcp(false, 443, 42000, ack|psh, 5001, 1001+uint32(len(hello)), srv)
		r := w.finish()[0]
		want, chain := rules.Intercepted, "private"
		if trust {
			want, chain = rules.Allowed, "public"
		}
		if r.Verdict != want || r.CertChain != chain {
			t.Errorf("trust=%v: verdict %q chain %q, want %q %q", trust, r.Verdict, r.CertChain, want, chain)
		}
	}
}

// TestEngineTLSTrustedRefused checks a chain under a --trust root that the client answers with an alert: a
// fatal certificate alert (the device does not trust that CA) leaves the connection intercepted, with a
// reason saying so; any other alert, or a warning, leaves it allowed. The records name the root and its
// store either way.
func TestEngineTLSTrustedRefused(t *testing.T) {
	cert, _ := inspectionCert(t)
	cli, srv := tlsSession(t, cert, tls.VersionTLS12, inspectedName)
	tests := []struct {
		name         string
		level, desc  byte
		want         rules.Verdict
		reasonSuffix string
	}{
		{"fatal unknown_ca", 2, 48, rules.Intercepted, "but the client refused it (fatal unknown_ca): this device does not trust that CA"},
		{"fatal bad_certificate", 2, 42, rules.Intercepted, "but the client refused it (fatal bad_certificate): this device does not trust that CA"},
		{"fatal certificate_unknown", 2, 46, rules.Intercepted, "(fatal certificate_unknown): this device does not trust that CA"},
		{"fatal handshake_failure", 2, 40, rules.Allowed, ""},
		{"warning unknown_ca", 1, 48, rules.Allowed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{Verifier: verifierTrusting(t, cert.Certificate[1])})
			w.handshake(42050, 443)
			hello := cli[:firstRecord(cli)]
			w.tcp(true, 42050, 443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 443, 42050, ack|psh, 5001, 1001+uint32(len(hello)), srv)
			alert := []byte{21, 3, 3, 0, 2, tc.level, tc.desc}
			w.tcp(true, 42050, 443, ack|psh, 1001+uint32(len(hello)), 5001+uint32(len(srv)), alert)
			r := w.finish()[0]
			if r.Verdict != tc.want || r.CertChain != "public" || r.CertRootStore != "trust-file" || r.CertRoot == "" {
				t.Errorf("verdict %q chain %q root %q store %q, want %q under a trust-file root", r.Verdict, r.CertChain,
					r.CertRoot, r.CertRootStore, tc.want)
			}
			if tc.reasonSuffix != "" && !strings.HasSuffix(strings.TrimSuffix(r.Reason, "; the requirement is not marked no_inspection"), tc.reasonSuffix) {
				t.Errorf("reason %q, want it to end %q", r.Reason, tc.reasonSuffix)
			}
		})
	}
}

// TestEngineTLSClientAlertAroundFIN checks that the client's alert after its hello is read whatever the
// order the capture shows it and the client's FIN in: before it, in the FIN segment itself, or after it (the
// alert's segment captured late: the FIN then leaves a hole, and the watch for an alert stays open). A FIN
// with nothing missing before it ends the watch with no alert.
func TestEngineTLSClientAlertAroundFIN(t *testing.T) {
	cert, _ := inspectionCert(t)
	cli, srv := tlsSession(t, cert, tls.VersionTLS12, inspectedName)
	hello := cli[:firstRecord(cli)]
	alert := []byte{21, 3, 3, 0, 2, 2, 48} // fatal unknown_ca
	after := 1001 + uint32(len(hello))     // the client's next sequence number after its hello
	tests := []struct {
		name string
		send func(w *wire)
		want string
	}{
		{"alert, then FIN", func(w *wire) {
			w.tcp(true, 42060, 443, ack|psh, after, 5001+uint32(len(srv)), alert)
			w.tcp(true, 42060, 443, ack|fin, after+7, 5001+uint32(len(srv)), nil)
		}, "fatal unknown_ca"},
		{"alert in the FIN segment", func(w *wire) {
			w.tcp(true, 42060, 443, ack|psh|fin, after, 5001+uint32(len(srv)), alert)
		}, "fatal unknown_ca"},
		{"FIN captured before the alert", func(w *wire) {
			w.tcp(true, 42060, 443, ack|fin, after+7, 5001+uint32(len(srv)), nil)
			w.tcp(true, 42060, 443, ack|psh, after, 5001+uint32(len(srv)), alert)
		}, "fatal unknown_ca"},
		{"FIN, no alert", func(w *wire) {
			w.tcp(true, 42060, 443, ack|fin, after, 5001+uint32(len(srv)), nil)
			w.tcp(true, 42060, 443, ack|psh, after, 5001+uint32(len(srv)), alert) // after the FIN: not the client's
		}, ""},
		{"RST, no alert", func(w *wire) {
			w.tcp(true, 42060, 443, rst, after, 0, nil)
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			w.handshake(42060, 443)
			w.tcp(true, 42060, 443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 443, 42060, ack|psh, 5001, after, srv)
			tc.send(w)
			w.tcp(false, 443, 42060, ack|fin, 5001+uint32(len(srv)), after+8, nil)
			r := w.finish()[0]
			if r.TLSAlert != tc.want || tc.want != "" && r.TLSAlertBy != "client" {
				t.Errorf("tls_alert %q by %q, want %q by the client", r.TLSAlert, r.TLSAlertBy, tc.want)
			}
		})
	}
}

// TestEngineTLSNoInspectionReason checks the reason says when the requirement forbids inspection.
func TestEngineTLSNoInspectionReason(t *testing.T) {
	table, err := rules.Load([]string{"intune-current"})
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewMatcher(table)
	var name string
	for _, r := range table.Rules {
		if r.NoInspection && r.Pattern != "" && len(r.Pattern) > 2 && r.Pattern[:2] == "*." {
			name = "x" + r.Pattern[1:]
			break
		}
	}
	if name == "" {
		t.Fatal("intune-current has no no_inspection wildcard row")
	}
	cert, _ := inspectionCert(t)
	cli, srv := tlsSession(t, cert, tls.VersionTLS12, name)
	w := newWire(t, analyze.Options{Matcher: m})
	w.handshake(42100, 443)
	hello := cli[:firstRecord(cli)]
	w.tcp(true, 42100, 443, ack|psh, 1001, 5001, hello)
	w.tcp(false, 443, 42100, ack|psh, 5001, 1001+uint32(len(hello)), srv)
	r := w.finish()[0]
	if r.Verdict != rules.Intercepted || r.Reason == "" ||
		r.Reason[len(r.Reason)-len("the requirement is marked no_inspection"):] != "the requirement is marked no_inspection" {
		t.Errorf("%s: verdict %q chain %q reason %q", name, r.Verdict, r.CertChain, r.Reason)
	}
}

// TestSharedPublicChainAllowed checks, on a real capture of Microsoft's services, that public chains are
// recognised and leave listed names allowed, with any number of workers.
func TestSharedPublicChainAllowed(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	for _, workers := range []int{1, 2} {
		c := analyzeWith(t, workers, filepath.Join(dir, "ndpi-teams-microsoft.pcap"))
		public := 0
		for _, r := range c.records {
			if r.CertChain == "public" && r.RuleKey != "" {
				public++
				if r.Verdict != rules.Allowed {
					t.Errorf("workers=%d: %s (frame %d) with a public chain from %q: verdict %q", workers, r.Name,
						r.FirstFrame, r.CertIssuer, r.Verdict)
				}
			}
			if r.Verdict == rules.Intercepted {
				t.Errorf("workers=%d: %s (frame %d) intercepted: %s", workers, r.Name, r.FirstFrame, r.Reason)
			}
		}
		if public == 0 {
			t.Errorf("workers=%d: no listed name with a public chain in the capture", workers)
		}
	}
}

// verifierTrusting is a verifier with the public roots and the CA certificate der as a --trust root.
func verifierTrusting(t testing.TB, der []byte) *certchain.Verifier {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trust.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	public, err := certchain.PublicRoots()
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := certchain.LoadTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	return certchain.NewVerifier(public, trusted)
}

// BenchmarkEngineAfterTLSFlight measures the per-packet path of a TLS connection after its server flight and
// the client's second flight were read (the chain verified once): nothing is read any more, nothing allocated.
func BenchmarkEngineAfterTLSFlight(b *testing.B) {
	cert, _ := inspectionCert(b)
	cli, srv := tlsSession(b, cert, tls.VersionTLS12, inspectedName)
	w := newWire(b, analyze.Options{})
	w.handshake(44100, 443)
	w.tcp(true, 44100, 443, ack|psh, 1001, 5001, cli)
	w.tcp(false, 443, 44100, ack|psh, 5001, 1001+uint32(len(cli)), srv)
	payload := make([]byte, 1400)
	p := decode.Packet{Src: w.server, Dst: w.client, IPProto: 6, SrcPort: 443, DstPort: 44100, TCPFlags: ack,
		Ack: 1001 + uint32(len(cli)), Payload: payload, PayloadWireLen: len(payload)}
	f := capture.Frame{Timestamp: w.now, WireLen: 1454}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Seq = 5001 + uint32(len(srv)) + uint32(i*len(payload))
		f.Number++
		f.Timestamp = f.Timestamp.Add(time.Microsecond)
		if err := w.eng.Packet(&f, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEngineTLSStateReused runs inspected TLS 1.2 connections one after the other on one engine, each server
// flight reversed over many segments (one of them with a segment lost for good), and TLS 1.3 connections
// between, each connection closed and retired before the next begins: every
// connection then reads its flight with a queue and a TLS state the one before gave back, and each record must
// still carry its own certificate, fingerprints and verdict, whatever the previous connection left.
func TestEngineTLSStateReused(t *testing.T) {
	cert, leafDER := inspectionCert(t)
	leafSum := hex.EncodeToString(func() []byte { s := sha256.Sum256(leafDER); return s[:] }())
	cli12, srv12 := tlsSession(t, cert, tls.VersionTLS12, inspectedName)
	cli13, srv13 := tlsSession(t, cert, tls.VersionTLS13, inspectedName)
	reversed := cut(srv12, 90)
	slices.Reverse(reversed)
	w := newWire(t, analyze.Options{ClosedLinger: time.Millisecond})
	const conns = 6
	for i := range conns {
		sport := uint16(42000 + i)
		cli, srv, segs := cli12, srv12, reversed
		switch i % 3 {
		case 1: // a segment lost for good: the connection ends with segments queued behind the gap
			segs = slices.Delete(slices.Clone(segs), len(segs)/2, len(segs)/2+1)
		case 2: // a TLS 1.3 connection between: nothing of the 1.2 flights may show in its record
			cli, srv, segs = cli13, srv13, cut(srv13, 1400)
		}
		hello := cli[:firstRecord(cli)]
		w.handshake(sport, 443)
		w.tcp(true, sport, 443, ack|psh, 1001, 5001, hello)
		for _, s := range segs {
			w.tcp(false, 443, sport, ack|psh, 5001+uint32(s.off), 1001+uint32(len(hello)), s.data)
		}
		w.tcp(false, 443, sport, rst|ack, 5001+uint32(len(srv)), 1001+uint32(len(hello)), nil)
		w.wait(2 * time.Second) // past the linger and a sweep: the next packet retires this connection
	}
	recs := w.finish()
	if len(recs) != conns {
		t.Fatalf("%d records, want %d", len(recs), conns)
	}
	for i, r := range recs {
		want := struct{ chain, version, sha string }{"private", "1.2", leafSum}
		switch i % 3 {
		case 1:
			continue // its flight is incomplete: what it shows is TestEngineTLSServerFlight's to check
		case 2:
			want = struct{ chain, version, sha string }{"hidden", "1.3", ""}
		}
		if r.CertChain != want.chain || r.TLSVersion != want.version || r.CertSHA256 != want.sha || r.JA4 == "" ||
			r.JA4S == "" || len(r.ALPN) != 2 {
			t.Errorf("connection %d: chain %q version %q sha256 %q ja4 %q ja4s %q alpn %v; want %+v", i, r.CertChain,
				r.TLSVersion, r.CertSHA256, r.JA4, r.JA4S, r.ALPN, want)
		}
	}
}
