package analyze

import (
	"bytes"
	"testing"
)

func TestFirstBytes(t *testing.T) {
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	type seg struct {
		off, n int
		cut    int // bytes missing at the end (snaplen)
	}
	tests := []struct {
		name  string
		segs  []seg
		limit int
		want  string
		full  bool
	}{
		{"in order", []seg{{0, 10, 0}, {10, 10, 0}, {20, 16, 0}}, 64, string(data), false},
		{"out of order", []seg{{10, 10, 0}, {20, 16, 0}, {0, 10, 0}}, 64, string(data), false},
		{"hole stays a hole", []seg{{0, 10, 0}, {20, 16, 0}}, 64, "0123456789", false},
		{"retransmission overlaps", []seg{{0, 10, 0}, {5, 10, 0}, {0, 20, 0}}, 64, string(data[:20]), false},
		{"snaplen cut leaves a hole", []seg{{0, 10, 4}, {10, 10, 0}}, 64, "012345", false},
		{"capped", []seg{{0, 36, 0}}, 16, string(data[:16]), true},
		{"nothing from the start", []seg{{4, 10, 0}}, 64, "", false},
		{"before the start is trimmed", []seg{{-4, 10, 0}}, 64, "012345", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pool bufPool
			s := firstBytes{limit: tt.limit}
			const isn = 0xfffffff0 // sequence numbers wrap inside the test
			s.start(isn)
			for _, g := range tt.segs {
				var payload []byte
				if g.off < 0 {
					payload = append(bytes.Repeat([]byte{'!'}, -g.off), data[:g.n+g.off]...)
				} else {
					payload = data[g.off : g.off+g.n-g.cut]
				}
				s.add(uint32(isn+int64(g.off)), payload, &pool)
			}
			if got := string(s.contiguous()); got != tt.want {
				t.Errorf("contiguous = %q, want %q", got, tt.want)
			}
			if s.full() != tt.full {
				t.Errorf("full = %v, want %v", s.full(), tt.full)
			}
		})
	}
}

func TestFirstBytesSpanLimit(t *testing.T) {
	var pool bufPool
	s := firstBytes{limit: 1024}
	s.start(1000)
	for i := 0; i < 40; i++ { // every other byte: more holes than the table holds
		s.add(uint32(1000+2*i+2), []byte{'x'}, &pool)
	}
	if s.n > maxSpans {
		t.Fatalf("%d spans, limit %d", s.n, maxSpans)
	}
	s.add(1000, []byte{'a', 'b'}, &pool) // fills the first hole: merges with the first span
	if got := string(s.contiguous()); got != "abx" {
		t.Errorf("contiguous = %q", got)
	}
}

func TestHistory(t *testing.T) {
	var h history
	h.add(flagSYN, false, true)
	h.add(flagSYN, false, true)
	h.add(flagSYN|flagACK, false, false)
	h.add(flagACK, false, true)
	h.add(flagACK, true, true)
	h.add(flagACK, true, false)
	h.add(flagACK|flagFIN, false, true)
	h.add(flagACK|flagFIN, false, false)
	h.add(flagRST, false, false)
	if got := h.String(); got != "SThADdFfr" {
		t.Errorf("history = %q", got)
	}
}
