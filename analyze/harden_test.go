package analyze_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/internal/hostile"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// overlapAttack sends, after a handshake, the tail of hello first (a hole before it), the tail of other over
// it (a retransmission with different bytes), then the head of hello, and closes. The server delivers the first
// copy: hello.
func overlapAttack(w *wire, hello, other []byte) {
	const cut = 100
	w.handshake(44000, 443)
	w.tcp(true, 44000, 443, ack|psh, 1001+cut, 5001, hello[cut:])
	w.tcp(true, 44000, 443, ack|psh, 1001+cut, 5001, other[cut:])
	w.tcp(true, 44000, 443, ack|psh, 1001, 5001, hello[:cut])
	w.tcp(false, 443, 44000, ack|psh, 5001, uint32(1001+len(hello)), []byte("\x16\x03\x03\x00\x01\x02"))
	w.tcp(true, 44000, 443, fin|ack, uint32(1001+len(hello)), 5007, nil)
	w.tcp(false, 443, 44000, fin|ack, 5007, uint32(1002+len(hello)), nil)
}

func TestOverlappingRetransmissions(t *testing.T) {
	attacker, listed := clientHello(t, "abcdefg.attacker.com"), clientHello(t, "manage.microsoft.com")
	if len(attacker) != len(listed) {
		t.Fatalf("hellos of %d and %d bytes: the test needs equal lengths", len(attacker), len(listed))
	}
	tests := []struct {
		name         string
		first, later []byte
		wantName     string
	}{
		// The server took the attacker's name: so must the record, never manage.microsoft.com.
		{"the attacker's copy first", attacker, listed, "abcdefg.attacker.com"},
		// The listed name came first and is read, but the other spelling forbids a silent allowed.
		{"the listed copy first", listed, attacker, "manage.microsoft.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			overlapAttack(w, tt.first, tt.later)
			recs := w.finish()
			if len(recs) != 1 {
				t.Fatalf("%d records: %+v", len(recs), recs)
			}
			r := recs[0]
			if r.Name != tt.wantName || !r.OverlapConflict || r.Verdict == rules.Allowed {
				t.Errorf("record: name %q overlap_conflict %v verdict %s reason %q", r.Name, r.OverlapConflict, r.Verdict, r.Reason)
			}
			if q := w.out.summary.Capture.Quality; q.OverlapConflicts != 1 {
				t.Errorf("overlap_conflicts %d, want 1", q.OverlapConflicts)
			}
		})
	}
	t.Run("same bytes resent", func(t *testing.T) {
		w := newWire(t, analyze.Options{})
		overlapAttack(w, listed, listed)
		r := w.finish()[0]
		if r.Name != "manage.microsoft.com" || r.OverlapConflict || r.Verdict != rules.Allowed {
			t.Errorf("record: %+v", r)
		}
	})
}

func TestInvalidNamesAreNotJudged(t *testing.T) {
	tests := []struct {
		name     string
		payload  func(t *testing.T) []byte
		wantName string
		source   result.NameSource
	}{
		{"sni with a newline", func(t *testing.T) []byte { return clientHello(t, "line1\nFAIL: injected.manage.microsoft.com") },
			`line1\x0aFAIL: injected.manage.microsoft.com`, result.NameFromSNI},
		{"host with a space", func(*testing.T) []byte {
			return []byte("GET / HTTP/1.1\r\nHost: evil manage.microsoft.com\r\n\r\n")
		}, "evil manage.microsoft.com", result.NameFromHTTPHost},
		{"connect target with a control byte", func(*testing.T) []byte {
			return []byte("CONNECT x\x01.manage.microsoft.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
		}, `x\x01.manage.microsoft.com`, result.NameFromConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			p := tt.payload(t)
			w.handshake(45000, 443)
			w.tcp(true, 45000, 443, ack|psh, 1001, 5001, p)
			w.tcp(false, 443, 45000, ack|psh, 5001, uint32(1001+len(p)), []byte("HTTP/1.1 200 OK\r\n\r\n"))
			w.tcp(true, 45000, 443, fin|ack, uint32(1001+len(p)), 5020, nil)
			w.tcp(false, 443, 45000, fin|ack, 5020, uint32(1002+len(p)), nil)
			recs := w.finish()
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.Name != tt.wantName || r.NameSource != tt.source || r.Verdict != rules.Other || r.RuleKey != "" ||
				!strings.Contains(r.Reason, "not a host name") {
				t.Errorf("record: name %q source %s verdict %s rule %q reason %q", r.Name, r.NameSource, r.Verdict, r.RuleKey, r.Reason)
			}
		})
	}
}

// TestStreamGapsOverCap: a hello in more pieces with holes than the reassembly keeps is counted, not silent.
func TestStreamGapsOverCap(t *testing.T) {
	w := newWire(t, analyze.Options{})
	hello := clientHello(t, "manage.microsoft.com")
	w.handshake(46000, 443)
	for i := 0; i < 20; i++ { // every other 10-byte piece after the first: 20 holes
		off := 10 + 20*i
		w.tcp(true, 46000, 443, ack|psh, uint32(1001+off), 5001, hello[off:off+10])
	}
	recs := w.finish()
	if q := w.out.summary.Capture.Quality; q.StreamGapsOverCap != 1 || len(recs) != 1 {
		t.Errorf("stream_gaps_over_cap %d, want 1 (%d records)", q.StreamGapsOverCap, len(recs))
	}
}

// TestDNSFalseCounts: an answer whose header counts more records than it holds, captured whole, is blamed on
// its sender, not on snaplen; one cut by snaplen still is.
func TestDNSFalseCounts(t *testing.T) {
	msg := hostile.DNSAnswer(3, "enrollment.manage.microsoft.com", 0, [][4]byte{hostile.Server(1)}, 5)
	for _, tt := range []struct {
		name    string
		wireLen int
		warning string
		count   uint64
	}{
		{"false counts", len(msg), "fewer records than its header counts", 1},
		{"cut by snaplen", len(msg) + 40, "cut short in the capture (snaplen)", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			w.send(decode.Packet{Src: w.server, Dst: w.client, IPProto: 17, SrcPort: 53, DstPort: 5000,
				Payload: bytes.Clone(msg), PayloadWireLen: tt.wireLen})
			recs := w.finish()
			if len(recs) != 1 || !strings.Contains(recs[0].Warning, tt.warning) {
				t.Fatalf("records %+v, want a warning with %q", recs, tt.warning)
			}
			if got := w.out.summary.Capture.Quality.DNSFalseCounts; got != tt.count {
				t.Errorf("dns_false_counts %d, want %d", got, tt.count)
			}
		})
	}
}
