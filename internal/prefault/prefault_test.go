package prefault

import (
	"testing"
)

// TestEdges: empty, nil, tiny and unaligned ranges are taken without a fault, and memory stays as it was.
func TestEdges(t *testing.T) {
	Bytes(nil)
	Bytes([]byte{})
	Slice[int](nil)
	Slice(make([]struct{}, 10)) // zero-size elements: no bytes
	b := make([]byte, 5*page+123)
	for i := range b {
		b[i] = byte(i)
	}
	Bytes(b[17:])
	Slice(b[:0]) // up to the capacity
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
	type rec struct{ a, b int64 }
	s := make([]rec, 0, 3*page)
	Slice(s)
	s = append(s, rec{1, 2})
	if s[0] != (rec{1, 2}) || len(s) != 1 {
		t.Fatal("slice changed")
	}
}

// TestGrow: Grow keeps the elements and the length, leaves room for n more (doubling the capacity at least),
// and returns s itself when it has the room already.
func TestGrow(t *testing.T) {
	for _, tt := range []struct{ len, cap, n, wantCap int }{
		{0, 0, 1, 1},
		{0, 0, 5, 5},
		{3, 4, 1, 4}, // room already
		{4, 4, 1, 8},
		{4, 4, 9, 13},
		{16, 16, 1, 32},
		{256, 256, 1, 512},
		{3000, 3000, 1, 6000}, // several pages: mapped in
	} {
		s := make([]int64, tt.len, tt.cap)
		for i := range s {
			s[i] = int64(i*7 + 1)
		}
		g := Grow(s, tt.n)
		if len(g) != tt.len || cap(g) != tt.wantCap {
			t.Errorf("Grow(len %d cap %d, %d): len %d cap %d, want len %d cap %d", tt.len, tt.cap, tt.n, len(g), cap(g), tt.len, tt.wantCap)
		}
		for i := range g {
			if g[i] != int64(i*7+1) {
				t.Fatalf("Grow(len %d cap %d, %d): element %d is %d", tt.len, tt.cap, tt.n, i, g[i])
			}
		}
		if tt.n <= tt.cap-tt.len && &g[:1][0] != &s[:1][0] {
			t.Errorf("Grow(len %d cap %d, %d) moved a slice with room", tt.len, tt.cap, tt.n)
		}
		if g = append(g, make([]int64, tt.n)...); cap(g) != tt.wantCap {
			t.Errorf("Grow(len %d cap %d, %d): appending %d more moved it", tt.len, tt.cap, tt.n, tt.n)
		}
	}
}
