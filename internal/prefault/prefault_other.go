//go:build !linux

package prefault

// populate does nothing where the kernel has no MADV_POPULATE_WRITE: pages are faulted in as they are
// written.
func populate(p, n uintptr) {}
