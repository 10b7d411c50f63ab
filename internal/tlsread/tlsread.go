// Package tlsread reads the length-prefixed fields of TLS handshake messages (RFC 8446 3.4): the ClientHello
// parser and the server-flight parser share it.
package tlsread

import "errors"

// ErrShort is the error of a field whose length runs past its container.
var ErrShort = errors.New("field runs past its container")

// Reader consumes length-prefixed fields from B and fails, rather than panics, when a length runs past the
// end: after the first failure every read returns nothing and Err stays ErrShort.
type Reader struct {
	B   []byte
	Err error
}

// Take returns the next n bytes, or nil when fewer are left.
func (r *Reader) Take(n int) []byte {
	if r.Err != nil || n > len(r.B) {
		r.Err = ErrShort
		return nil
	}
	v := r.B[:n]
	r.B = r.B[n:]
	return v
}

// U8 reads one byte.
func (r *Reader) U8() int {
	if v := r.Take(1); v != nil {
		return int(v[0])
	}
	return 0
}

// U16 reads a big-endian 16-bit number.
func (r *Reader) U16() int {
	if v := r.Take(2); v != nil {
		return int(v[0])<<8 | int(v[1])
	}
	return 0
}

// U24 reads a big-endian 24-bit number.
func (r *Reader) U24() int {
	if v := r.Take(3); v != nil {
		return int(v[0])<<16 | int(v[1])<<8 | int(v[2])
	}
	return 0
}

// Vec8, Vec16 and Vec24 read a vector with a 1-, 2- or 3-byte length.
func (r *Reader) Vec8() []byte  { return r.Take(r.U8()) }
func (r *Reader) Vec16() []byte { return r.Take(r.U16()) }
func (r *Reader) Vec24() []byte { return r.Take(r.U24()) }
