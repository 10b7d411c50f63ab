package analyze_test

import (
	"slices"
	"time"

	"testing"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// tcpVLAN sends a TCP segment tagged with vlan (0: untagged).
func (w *wire) tcpVLAN(vlan uint16, fromClient bool, sport, dport uint16, flags uint8, seq, ack uint32, payload []byte) {
	src, dst := w.client, w.server
	if !fromClient {
		src, dst = dst, src
	}
	w.send(decode.Packet{Src: src, Dst: dst, IPProto: 6, SrcPort: sport, DstPort: dport, TCPFlags: flags,
		Seq: seq, Ack: ack, Payload: payload, VLAN: [2]uint16{vlan}})
}

// TestConnectionIdentity pins which packets make one connection, and so one record: directions on different
// VLANs, a SYN retried after a reset, a SYN answered by a bare ACK.
func TestConnectionIdentity(t *testing.T) {
	tests := []struct {
		name    string
		run     func(w *wire)
		records int
		state   result.State
		verdict rules.Verdict
		history string
	}{
		{"client untagged, server on vlan 20", func(w *wire) {
			w.tcpVLAN(0, true, 40000, 80, syn, 1000, 0, nil)
			w.tcpVLAN(20, false, 80, 40000, syn|ack, 5000, 1001, nil)
			w.tcpVLAN(0, true, 40000, 80, ack, 1001, 5001, nil)
		}, 1, result.StateEstablished, rules.Allowed, "ShA"},
		{"client on vlan 10, server untagged", func(w *wire) {
			w.tcpVLAN(10, true, 40000, 80, syn, 1000, 0, nil)
			w.tcpVLAN(0, false, 80, 40000, syn|ack, 5000, 1001, nil)
			w.tcpVLAN(10, true, 40000, 80, ack, 1001, 5001, nil)
		}, 1, result.StateEstablished, rules.Allowed, "ShA"},
		{"client on vlan 10, server on vlan 20", func(w *wire) {
			w.tcpVLAN(10, true, 40000, 80, syn, 1000, 0, nil)
			w.tcpVLAN(20, false, 80, 40000, syn|ack, 5000, 1001, nil)
			w.tcpVLAN(10, true, 40000, 80, ack, 1001, 5001, nil)
		}, 1, result.StateEstablished, rules.Allowed, "ShA"},
		{"same 5-tuple, same direction, two vlans: two connections", func(w *wire) {
			w.tcpVLAN(10, true, 40000, 80, syn, 1000, 0, nil)
			w.tcpVLAN(20, true, 40000, 80, syn, 7000, 0, nil)
		}, 2, result.StateUnanswered, rules.Blocked, "S"},
		{"SYN retried with the same ISN after a reset: one attempt", func(w *wire) {
			w.tcp(true, 40001, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40001, rst|ack, 0, 1001, nil)
			w.tcp(true, 40001, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40001, rst|ack, 0, 1001, nil)
		}, 1, result.StateRefused, rules.Reset, "SrT"},
		{"SYN answered by a bare ACK, then the client resets", func(w *wire) {
			w.tcp(true, 40002, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40002, ack, 9000, 77, nil)
			w.tcp(true, 40002, 443, rst, 77, 0, nil)
		}, 1, result.StateUnanswered, rules.Blocked, "SaR"},
		{"bare ACK, client reset, the same SYN 13 s later: one connection (sv-windows-browsing-microsoft.pcap)", func(w *wire) {
			w.tcp(true, 40004, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40004, ack, 9000, 77, nil)
			w.tcp(true, 40004, 443, rst, 77, 0, nil)
			w.wait(13 * time.Second)
			w.tcp(true, 40004, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40004, syn|ack, 5000, 1001, nil)
			w.tcp(true, 40004, 443, ack, 1001, 5001, nil)
		}, 1, result.StateEstablished, rules.Allowed, "SaRThA"},
		{"SYN answered by a bare ACK only", func(w *wire) {
			w.tcp(true, 40003, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40003, ack, 9000, 77, nil)
		}, 1, result.StateUnanswered, rules.Blocked, "Sa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			w.dns(1, "enrollment.manage.microsoft.com", 1, 0, "", w.server)
			tt.run(w)
			var flows []result.Record
			for _, r := range w.finish() {
				if r.Type == "flow" {
					flows = append(flows, r)
				}
			}
			if len(flows) != tt.records {
				t.Fatalf("%d flow records, want %d: %+v", len(flows), tt.records, flows)
			}
			for _, r := range flows {
				if r.State != tt.state || r.History != tt.history {
					t.Errorf("state %s history %q, want %s %q", r.State, r.History, tt.state, tt.history)
				}
				if r.Verdict != tt.verdict {
					t.Errorf("verdict %s, want %s (%s)", r.Verdict, tt.verdict, r.Reason)
				}
			}
		})
	}
}

// TestNamesFromPublicCaptureQuirks pins what public captures showed: an HTTP connection picked up mid-stream
// whose first client segment is a keep-alive byte, and a CONNECT whose target is not host:port.
func TestNamesFromPublicCaptureQuirks(t *testing.T) {
	get := []byte("GET / HTTP/1.1\r\nHost: go.microsoft.com\r\n\r\n")
	tests := []struct {
		name     string
		run      func(w *wire)
		want     string
		source   result.NameSource
		viaProxy bool
	}{
		{"keep-alive byte before the request, mid-stream", func(w *wire) {
			w.tcp(true, 40010, 80, ack, 999, 5001, []byte{0})
			w.tcp(false, 80, 40010, ack, 5001, 1000, nil)
			w.tcp(true, 40010, 80, psh|ack, 1000, 5001, get)
		}, "go.microsoft.com", result.NameFromHTTPHost, false},
		{"CONNECT / is a request named by its Host", func(w *wire) {
			w.handshake(40011, 80)
			w.tcp(true, 40011, 80, psh|ack, 1001, 5001, []byte("CONNECT / HTTP/1.1\r\nHost: go.microsoft.com\r\n\r\n"))
		}, "go.microsoft.com", result.NameFromHTTPHost, false},
		{"CONNECT without a port and without Host names nothing", func(w *wire) {
			w.handshake(40012, 80)
			w.tcp(true, 40012, 80, psh|ack, 1001, 5001, []byte("CONNECT go.microsoft.com HTTP/1.0\r\n\r\n"))
		}, "", "", false},
		{"CONNECT host:port is a proxied connection", func(w *wire) {
			w.handshake(40013, 8080)
			w.tcp(true, 40013, 8080, psh|ack, 1001, 5001, []byte("CONNECT go.microsoft.com:443 HTTP/1.1\r\n\r\n"))
		}, "go.microsoft.com", result.NameFromConnect, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			tt.run(w)
			recs := w.finish()
			if len(recs) != 1 {
				t.Fatalf("%d records: %+v", len(recs), recs)
			}
			r := recs[0]
			if r.Name != tt.want || r.NameSource != tt.source || r.ViaProxy != tt.viaProxy {
				t.Errorf("name %q (%s, proxy %v), want %q (%s, proxy %v)", r.Name, r.NameSource, r.ViaProxy,
					tt.want, tt.source, tt.viaProxy)
			}
		})
	}
}

// TestNameConfidence pins name_confidence for names from DNS answers.
func TestNameConfidence(t *testing.T) {
	tests := []struct {
		name       string
		run        func(w *wire)
		want       string
		confidence result.NameConfidence
		candidates []string
	}{
		{"one answer", func(w *wire) {
			w.dns(1, "portal.manage.microsoft.com", 1, 0, "", w.server)
		}, "portal.manage.microsoft.com", result.ConfidenceSingle, nil},
		{"two names for the address", func(w *wire) {
			w.dns(1, "portal.manage.microsoft.com", 1, 0, "", w.server)
			w.dns(2, "www.example.org", 1, 0, "", w.server)
		}, "www.example.org", result.ConfidenceAmbiguous, []string{"portal.manage.microsoft.com", "www.example.org"}},
		{"the same name twice", func(w *wire) {
			w.dns(1, "portal.manage.microsoft.com", 1, 0, "", w.server)
			w.dns(2, "portal.manage.microsoft.com", 1, 0, "", w.server)
		}, "portal.manage.microsoft.com", result.ConfidenceSingle, nil},
		{"an expired answer before another name", func(w *wire) {
			w.dns(1, "www.example.org", 1, 0, "", w.server)
			w.wait(61 * time.Second)
			w.dns(2, "portal.manage.microsoft.com", 1, 0, "", w.server)
		}, "portal.manage.microsoft.com", result.ConfidenceSingle, nil},
		{"the TTL ran out before the SYN", func(w *wire) {
			w.dns(1, "portal.manage.microsoft.com", 1, 0, "", w.server)
			w.wait(61 * time.Second)
		}, "portal.manage.microsoft.com", result.ConfidenceStale, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			tt.run(w)
			w.handshake(40020, 443)
			var flow *result.Record
			recs := w.finish()
			for i := range recs {
				if recs[i].Type == "flow" {
					flow = &recs[i]
				}
			}
			if flow == nil {
				t.Fatalf("no flow record: %+v", recs)
			}
			if flow.Name != tt.want || flow.NameSource != result.NameFromDNS || flow.NameConfidence != tt.confidence ||
				!slices.Equal(flow.NameCandidates, tt.candidates) {
				t.Errorf("name %q (%s, %s, %q), want %q (dns, %s, %q)", flow.Name, flow.NameSource, flow.NameConfidence,
					flow.NameCandidates, tt.want, tt.confidence, tt.candidates)
			}
		})
	}
}
