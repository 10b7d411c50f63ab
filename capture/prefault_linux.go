package capture

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages in, writable, without writing to them.
const madvPopulateWrite = 23

// prefault maps the whole pages inside b in one system call, where touching them one by one takes a page
// fault each: a fresh chunk is written page after page by the read that fills it, and on virtual machines
// with costly faults (paravirtualised guests: ten microseconds or more a fault) that cost more than the read.
// Older kernels refuse the advice; the pages are then faulted in as they are written, as before.
func prefault(b []byte) {
	const page = 4096
	if len(b) < 2*page {
		return
	}
	start := (uintptr(unsafe.Pointer(&b[0])) + page - 1) &^ (page - 1)
	end := (uintptr(unsafe.Pointer(&b[0])) + uintptr(len(b))) &^ (page - 1)
	if end <= start {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateWrite)
}
