package prefault

import "syscall"

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages in, writable, without writing to them.
const madvPopulateWrite = 23

// populate maps in the n bytes at p, a whole number of pages. Older kernels refuse the advice; the pages are
// then faulted in as they are written, as without it.
func populate(p, n uintptr) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, p, n, madvPopulateWrite)
}
