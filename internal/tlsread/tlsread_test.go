package tlsread

import (
	"bytes"
	"errors"
	"testing"
)

func TestReader(t *testing.T) {
	r := Reader{B: []byte{1, 0, 2, 0, 0, 3, 2, 'h', '2', 0, 1, 'x', 9}}
	if r.U8() != 1 || r.U16() != 2 || r.U24() != 3 || !bytes.Equal(r.Vec8(), []byte("h2")) ||
		!bytes.Equal(r.Vec16(), []byte("x")) || r.Err != nil {
		t.Fatalf("reads went wrong: %+v", r)
	}
	if v := r.Vec8(); v != nil || !errors.Is(r.Err, ErrShort) {
		t.Fatalf("a vector past the end gave %v, err %v", v, r.Err)
	}
	if r.U8() != 0 || r.Take(0) != nil {
		t.Fatal("reads after a failure returned data")
	}
}
