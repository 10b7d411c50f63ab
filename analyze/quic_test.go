package analyze_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// quicVector reads a packet of the RFC test vectors kept by package quic: hex, with # comments.
func quicVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("quic", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var hx strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			hx.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	out, err := hex.DecodeString(hx.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// udp sends a datagram between the wire's client port sport and the server's port dport.
func (w *wire) udp(fromClient bool, sport, dport uint16, payload []byte) {
	src, dst := w.client, w.server
	if !fromClient {
		src, dst, sport, dport = dst, src, dport, sport
	}
	w.send(decode.Packet{Src: src, Dst: dst, IPProto: 17, SrcPort: sport, DstPort: dport, Payload: payload})
}

// exampleRules lists example.com on TCP 443, the name in RFC 9001's Initial.
func exampleRules(t *testing.T) *rules.Matcher {
	t.Helper()
	spec := filepath.Join(t.TempDir(), "example.yaml")
	yaml := "name: example\nrules:\n  - purpose: test\n    pattern: example.com\n    ports: \"443\"\n"
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := rules.Load([]string{spec})
	if err != nil {
		t.Fatal(err)
	}
	return rules.NewMatcher(table)
}

// TestQUICFlows pins what a QUIC flow's record says: the name from the decrypted Initial (RFC 9001's vector
// names example.com, which no rule lists: the rules here list it), its state, and its verdict with the TCP
// fallback.
func TestQUICFlows(t *testing.T) {
	clientInitial := quicVector(t, "rfc9001-client-initial.hex")
	serverInitial := quicVector(t, "rfc9001-server-initial.hex")
	matcher := exampleRules(t)
	hello := clientHello(t, "example.com")
	tcpTo := func(w *wire, sport uint16) {
		w.handshake(sport, 443)
		w.tcp(true, sport, 443, psh|ack, 1001, 5001, hello)
		w.tcp(false, 443, sport, ack, 5001, 1001+uint32(len(hello)), nil)
	}
	tests := []struct {
		name    string
		run     func(w *wire)
		state   result.State
		verdict rules.Verdict
		stage   result.Stage
		warning string
	}{
		{"answered", func(w *wire) {
			w.udp(true, 50000, 443, clientInitial)
			w.udp(false, 50000, 443, serverInitial)
		}, result.StateAnswered, rules.Allowed, "", ""},
		{"unanswered", func(w *wire) {
			w.udp(true, 50000, 443, clientInitial)
			w.udp(true, 50000, 443, clientInitial)
		}, result.StateUnanswered, rules.Blocked, result.StageAfterClientHello, ""},
		{"fell back to TCP", func(w *wire) {
			w.udp(true, 50000, 443, clientInitial)
			w.wait(2 * time.Second)
			tcpTo(w, 41000)
		}, result.StateUnanswered, rules.Allowed, "", "QUIC blocked; the client fell back to TCP (no QUIC reply came back to the client's Initial packets)"},
		{"TCP before QUIC, within 60 s", func(w *wire) {
			tcpTo(w, 41000)
			w.wait(50 * time.Second)
			w.udp(true, 50000, 443, clientInitial)
		}, result.StateUnanswered, rules.Allowed, "", "QUIC blocked; the client fell back to TCP (no QUIC reply came back to the client's Initial packets)"},
		{"TCP more than 60 s later", func(w *wire) {
			w.udp(true, 50000, 443, clientInitial)
			w.wait(90 * time.Second)
			tcpTo(w, 41000)
		}, result.StateUnanswered, rules.Blocked, result.StageAfterClientHello, ""},
		{"version negotiation", func(w *wire) {
			w.udp(true, 50000, 443, clientInitial)
			// Version Negotiation echoes the client's connection IDs swapped: DCID = the client's SCID (empty
			// in the vector), SCID = its DCID; then the server's versions (v2).
			vn := []byte{0x80, 0, 0, 0, 0, 0, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0x6b, 0x33, 0x43, 0xcf}
			w.udp(false, 50000, 443, vn)
		}, result.StateVersionNegotiation, rules.Allowed, "", "the server does not speak the client's QUIC version (version negotiation)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{Matcher: matcher})
			tt.run(w)
			var q *result.Record
			recs := w.finish()
			for i := range recs {
				if recs[i].Proto == "udp" {
					q = &recs[i]
				}
			}
			if q == nil {
				t.Fatalf("no QUIC record: %+v", recs)
			}
			if q.Transport != result.TransportQUIC || q.Name != "example.com" || q.NameSource != result.NameFromSNI ||
				q.QUICVersion != "1" || q.JA4 == "" || q.JA4[0] != 'q' {
				t.Errorf("record %+v", *q)
			}
			if q.State != tt.state || q.Verdict != tt.verdict || q.Stage != tt.stage || q.Warning != tt.warning {
				t.Errorf("state %s verdict %s stage %q warning %q, want %s %s %q %q", q.State, q.Verdict, q.Stage,
					q.Warning, tt.state, tt.verdict, tt.stage, tt.warning)
			}
		})
	}
}

// TestQUICFallbackWorkers checks that the lab's fallback capture gives the same bytes for any number of
// engines, though the QUIC flow and the TCP connection it fell back to may land on different ones.
func TestQUICFallbackWorkers(t *testing.T) {
	path := filepath.Join(recordedDir, "quic-fallback.pcap")
	one := encode(t, analyzeWith(t, 1, path))
	if !strings.Contains(one, "the client fell back to TCP") {
		t.Fatalf("no fallback warning in:\n%s", one)
	}
	for _, n := range []int{2, 3, 4, 8} {
		if got := encode(t, analyzeWith(t, n, path)); got != one {
			t.Errorf("%d workers differ from 1:\n%s", n, firstDiff(one, got))
		}
	}
}

// BenchmarkEngineQUICDatagrams measures the datagrams of a QUIC flow after its Initials: short-header packets
// in both directions, which must cost no allocation (the decryptor went back to the pool).
func BenchmarkEngineQUICDatagrams(b *testing.B) {
	w := newWire(b, analyze.Options{})
	w.udp(true, 50000, 443, quicVector(b, "rfc9001-client-initial.hex"))
	w.udp(false, 50000, 443, quicVector(b, "rfc9001-server-initial.hex"))
	payload := make([]byte, 1200)
	payload[0] = 0x40 // short header
	ps := [2]decode.Packet{
		{Src: w.server, Dst: w.client, IPProto: 17, SrcPort: 443, DstPort: 50000, Payload: payload, PayloadWireLen: len(payload)},
		{Src: w.client, Dst: w.server, IPProto: 17, SrcPort: 50000, DstPort: 443, Payload: payload[:60], PayloadWireLen: 60},
	}
	f := capture.Frame{Timestamp: w.now, WireLen: 1242}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Number++
		f.Timestamp = f.Timestamp.Add(time.Microsecond)
		if err := w.eng.Packet(&f, &ps[i&1]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestQUICLookAlike checks that a datagram to UDP 443 that only looks like a long header is a plain UDP flow.
func TestQUICLookAlike(t *testing.T) {
	w := newWire(t, analyze.Options{})
	w.udp(true, 50000, 443, []byte{0xc0, 0, 0, 0, 1, 0xff, 1, 2, 3}) // v1 Initial whose DCID runs past the end
	recs := w.finish()
	if len(recs) != 1 || recs[0].Transport != result.TransportUnknown || recs[0].QUICVersion != "" {
		t.Fatalf("records %+v", recs)
	}
}

// TestQUICFallbackLive checks live mode (Options.HoldDNSFailures): a blocked QUIC flow is held for the
// fallback window, then reported by a sweep, forgiven by the TCP connection its client made meanwhile.
func TestQUICFallbackLive(t *testing.T) {
	w := newWire(t, analyze.Options{Matcher: exampleRules(t), HoldDNSFailures: 10 * time.Second})
	w.udp(true, 50000, 443, quicVector(t, "rfc9001-client-initial.hex"))
	w.wait(time.Second)
	w.handshake(41000, 443)
	w.tcp(true, 41000, 443, psh|ack, 1001, 5001, clientHello(t, "example.com"))
	w.tcp(true, 41000, 443, fin|ack, 1001, 5001, nil)
	w.tcp(false, 443, 41000, fin|ack, 5001, 1002, nil)
	w.wait(2 * time.Minute)
	// Packets of another flow: capture time moves and the engine sweeps. A jump of over a minute moves the
	// clock only once a second frame confirms it (clock.go), hence two.
	w.udp(true, 50001, 5000, []byte("tick"))
	w.udp(true, 50001, 5000, []byte("tock"))
	var quic *result.Record
	for i := range w.out.records {
		if w.out.records[i].Transport == result.TransportQUIC {
			quic = &w.out.records[i]
		}
	}
	if quic == nil {
		t.Fatalf("the QUIC flow was not reported before the end: %+v", w.out.records)
	}
	if quic.Verdict != rules.Allowed || quic.Warning == "" || quic.Name != "example.com" {
		t.Errorf("record %+v", *quic)
	}
}
