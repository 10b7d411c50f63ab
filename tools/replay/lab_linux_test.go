package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lab is two network namespaces joined by a veth pair, as scripts/live-bench.sh builds them.
type lab struct{ tx, rx string }

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		labSkip(t, "needs root for network namespaces and packet sockets")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		labSkip(t, "needs ip (iproute2)")
	}
	id := fmt.Sprintf("icap-rpl%d", os.Getpid())
	l := &lab{tx: id + "-tx", rx: id + "-rx"}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.tx).Run()
		exec.Command("ip", "netns", "del", l.rx).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", l.tx}, {"netns", "add", l.rx},
		{"link", "add", "veth0", "netns", l.tx, "type", "veth", "peer", "name", "veth0", "netns", l.rx},
		{"-n", l.tx, "link", "set", "veth0", "up"}, {"-n", l.rx, "link", "set", "veth0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return l
}

// labSkip skips a test whose prerequisites are missing, and fails it under CI, where they must be there.
func labSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", why)
	}
	t.Skip(why)
}

// inNetns runs fn on an OS thread moved into the named network namespace; sockets fn opens stay there. The
// thread is thrown away afterwards rather than moved back.
func inNetns(ns string, fn func() error) error {
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

// receiver is a packet socket on the rx end of the lab.
type receiver struct{ fd int }

// listen opens a packet socket for every frame that reaches the rx end, with room to queue thousands.
func (l *lab) listen(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{fd: -1}
	err := inNetns(l.rx, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		r.fd = fd
		ifi, err := net.InterfaceByName("veth0")
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(500 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if r.fd >= 0 {
		t.Cleanup(func() { unix.Close(r.fd) })
	}
	if err != nil {
		t.Fatalf("listen on %s: %v", l.rx, err)
	}
	return r
}

// read returns the test frames that arrived, in order, until want have or none came for half a second.
func (r *receiver) read(t *testing.T, want int) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 65536)
	for len(got) < want {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) { // nothing for half a second
			break
		}
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if n >= 14+len(marker) && bytes.Equal(buf[14:14+len(marker)], marker) {
			got = append(got, append([]byte(nil), buf[:n]...))
		}
	}
	return got
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
