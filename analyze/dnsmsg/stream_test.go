package dnsmsg

import (
	"bytes"
	"strings"
	"testing"
)

func framed(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, byte(len(m)>>8), byte(len(m)))
		b = append(b, m...)
	}
	return b
}

// TestStreamSplits writes the same three messages cut at every pair of positions and expects them back whole.
func TestStreamSplits(t *testing.T) {
	msgs := [][]byte{mustHex(t, espnResponse), {}, bytes.Repeat([]byte{7}, 300)}
	wire := framed(msgs...)
	for i := 0; i <= len(wire); i += 7 {
		for j := i; j <= len(wire); j += 13 {
			var s Stream
			var got [][]byte
			for _, part := range [][]byte{wire[:i], wire[i:j], wire[j:]} {
				s.Write(part)
				for m, ok := s.Next(); ok; m, ok = s.Next() {
					got = append(got, append([]byte{}, m...))
				}
			}
			if len(got) != len(msgs) || s.Pending() != 0 || s.Err() != nil {
				t.Fatalf("split %d/%d: %d messages, %d pending, err %v", i, j, len(got), s.Pending(), s.Err())
			}
			for k := range msgs {
				if !bytes.Equal(got[k], msgs[k]) {
					t.Fatalf("split %d/%d: message %d differs", i, j, k)
				}
			}
		}
	}
}

func TestStreamBounds(t *testing.T) {
	tests := []struct {
		name     string
		writes   [][]byte
		want     int // messages returned
		pending  int
		overflow bool
	}{
		{"cut last message", [][]byte{framed([]byte("abc"))[:4]}, 0, 4, false},
		{"largest message in two writes", [][]byte{framed(make([]byte, 65535))[:40000], framed(make([]byte, 65535))[40000:]}, 1, 0, false},
		{"largest partial plus a full segment", [][]byte{framed(make([]byte, 65535))[:65536], append([]byte{0}, bytes.Repeat([]byte{0xff}, 65534)...)}, 1, 65534, false},
		{"undrained writes overflow", [][]byte{make([]byte, MaxBuffer), {1}}, 0, MaxBuffer, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Stream
			n := 0
			for i, w := range tc.writes {
				s.Write(w)
				if tc.overflow && i < len(tc.writes)-1 {
					continue // the caller forgets to drain
				}
				for _, ok := s.Next(); ok; _, ok = s.Next() {
					n++
				}
			}
			if n != tc.want || s.Pending() != tc.pending || (s.Err() != nil) != tc.overflow {
				t.Errorf("got %d messages, %d pending, err %v", n, s.Pending(), s.Err())
			}
			if tc.overflow && !strings.Contains(s.Err().Error(), "dropped") {
				t.Errorf("err = %v", s.Err())
			}
		})
	}
}

func BenchmarkStream(b *testing.B) {
	wire := framed(mustHex(b, espnResponse), mustHex(b, espnResponse))
	var s Stream
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		s.Write(wire[:50])
		s.Write(wire[50:])
		for msg, ok := s.Next(); ok; msg, ok = s.Next() {
			_ = m.Parse(msg)
		}
	}
}

func FuzzStream(f *testing.F) {
	f.Add(framed(mustHex(f, espnResponse), []byte{1, 2}), uint16(5))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		var s Stream
		at := min(int(cut), len(b))
		total := 0
		for _, part := range [][]byte{b[:at], b[at:]} {
			s.Write(part)
			for msg, ok := s.Next(); ok; msg, ok = s.Next() {
				total += 2 + len(msg)
			}
		}
		if total+s.Pending() != len(b) {
			t.Fatalf("%d bytes in, %d out and %d pending", len(b), total, s.Pending())
		}
	})
}
