package prefault

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"
)

// resident reports, page by page, which pages of b (page-aligned) the kernel has mapped in.
func resident(t *testing.T, b []byte) []bool {
	t.Helper()
	vec := make([]byte, len(b)/page)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out
}

// TestMapsPagesIn: on fresh anonymous memory, Bytes maps in exactly the whole pages inside its range, and the
// memory still reads as zeros. A kernel older than 5.14 has no MADV_POPULATE_WRITE: the test says so and skips.
func TestMapsPagesIn(t *testing.T) {
	const n = 16
	b, err := syscall.Mmap(-1, 0, n*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	if r := resident(t, b); r[3] {
		t.Fatal("fresh memory already mapped in")
	}
	Bytes(b[page+1 : 10*page+7]) // whole pages 2 to 9
	r := resident(t, b)
	if release, ok := kernelAtLeast(5, 14); !ok {
		t.Skipf("kernel %s is older than 5.14: it has no MADV_POPULATE_WRITE to test", release)
	}
	for i, in := range r {
		if want := i >= 2 && i <= 9; in != want {
			t.Errorf("page %d mapped in: %v, want %v", i, in, want)
		}
	}
	for i, c := range b {
		if c != 0 {
			t.Fatalf("byte %d is %d", i, c)
		}
	}
}

// kernelAtLeast reports the running kernel's release and whether it is major.minor or later.
func kernelAtLeast(major, minor int) (string, bool) {
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		return "", false
	}
	release := charsToString(uts.Release[:])
	var ma, mi int
	if _, err := fmt.Sscanf(release, "%d.%d", &ma, &mi); err != nil {
		return release, false
	}
	return release, ma > major || ma == major && mi >= minor
}

func charsToString(c []int8) string {
	b := make([]byte, 0, len(c))
	for _, v := range c {
		if v == 0 {
			break
		}
		b = append(b, byte(v))
	}
	return string(b)
}

// TestGrowMapsPagesIn: the backing array Grow makes (32 MiB here, fresh from the system) is mapped in whole,
// beyond the elements it copied, before anything is written there.
func TestGrowMapsPagesIn(t *testing.T) {
	if release, ok := kernelAtLeast(5, 14); !ok {
		t.Skipf("kernel %s is older than 5.14: it has no MADV_POPULATE_WRITE to test", release)
	}
	s := Grow(make([]int64, 1000), 4<<20)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), cap(s)*8)
	start := (page - int(uintptr(unsafe.Pointer(&raw[0])))%page) % page
	whole := raw[start : start+(len(raw)-start)/page*page]
	for i, in := range resident(t, whole) {
		if !in {
			t.Fatalf("page %d of %d of the grown slice is not mapped in", i, len(whole)/page)
		}
	}
}
