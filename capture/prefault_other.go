//go:build !linux

package capture

// prefault does nothing where the kernel has no MADV_POPULATE_WRITE: pages are faulted in as they are written.
func prefault([]byte) {}
