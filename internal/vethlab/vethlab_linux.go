// Package vethlab builds, for tests, the smallest network lab: two network namespaces joined by a veth pair
// (veth0 on both ends), as scripts/live-bench.sh builds it. Tests send frames from one end and capture or
// read them at the other, without touching the host's own interfaces. It needs root; under CI=true a test
// that cannot build it fails instead of skipping. It is used only by tests.
package vethlab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// Pair names the two namespaces of a lab; the interface in each is veth0.
type Pair struct{ TX, RX string }

// New builds a lab whose namespaces are named from prefix and the process id, and removes it when the test
// ends.
func New(t testing.TB, prefix string) *Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root for network namespaces and packet sockets")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		Unavailable(t, "needs ip (iproute2)")
	}
	id := fmt.Sprintf("%s%d", prefix, os.Getpid())
	p := &Pair{TX: id + "-tx", RX: id + "-rx"}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", p.TX).Run()
		exec.Command("ip", "netns", "del", p.RX).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", p.TX}, {"netns", "add", p.RX},
		{"link", "add", "veth0", "netns", p.TX, "type", "veth", "peer", "name", "veth0", "netns", p.RX},
		{"-n", p.TX, "link", "set", "veth0", "up"}, {"-n", p.RX, "link", "set", "veth0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return p
}

// Unavailable skips a test whose prerequisites are missing, and fails it under CI=true, where they must be
// there.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", why)
	}
	t.Skip(why)
}

// InNetns runs fn on an OS thread moved into the named network namespace; sockets fn opens stay there. The
// thread is thrown away afterwards rather than moved back.
func InNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the goroutine's end takes the thread with it
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
