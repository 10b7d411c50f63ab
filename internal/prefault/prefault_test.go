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
