// Package prefault maps in, with one system call, the pages of memory that is about to be written page after
// page: a freshly allocated buffer, array or slice of records. Touched one by one, each page costs a fault,
// and on virtual machines where faults are costly (paravirtualised guests: ten microseconds or more a fault,
// against well under one a page for the call) that can cost more than the work that writes them.
package prefault

import "unsafe"

// Bytes maps in the whole pages inside b.
func Bytes(b []byte) {
	if len(b) > 0 {
		pages(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	}
}

// Slice maps in the whole pages of s's backing array, up to its capacity.
func Slice[T any](s []T) {
	var zero T
	if n := uintptr(cap(s)) * unsafe.Sizeof(zero); n > 0 {
		pages(uintptr(unsafe.Pointer(unsafe.SliceData(s))), n)
	}
}

// Grow returns s with room for n more elements, as slices.Grow does, for a slice about to be written element
// after element: when s must move, its new backing array (twice the old capacity, or more if n needs it) is
// mapped in whole (Slice) before s's elements are copied into it, so that filling it costs no fault a page.
func Grow[T any](s []T, n int) []T {
	if n <= cap(s)-len(s) { // small enough to be inlined where a slice is appended to per packet
		return s
	}
	return grow(s, n)
}

// grow is Grow for a slice that must move.
func grow[T any](s []T, n int) []T {
	t := make([]T, len(s), max(2*cap(s), len(s)+n))
	Slice(t)
	copy(t, s)
	return t
}

// page is the size of the pages the call maps in; a range is rounded inwards to them.
const page = 4096

// pages maps in the whole pages of the n bytes at p, when there are at least two of them.
func pages(p, n uintptr) {
	start := (p + page - 1) &^ (page - 1)
	end := (p + n) &^ (page - 1)
	if end <= start || end-start < 2*page {
		return
	}
	populate(start, end-start)
}
