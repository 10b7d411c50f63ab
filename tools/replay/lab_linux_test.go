package main

import (
	"bytes"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"golang.org/x/sys/unix"

	"github.com/intunecap/intunecap/internal/vethlab"
)

// TestReplayOnVeth sends a capture from one end of a veth pair and reads it at the other: every frame
// arrives, byte for byte and in the capture's order, looping over the capture, paced or not.
func TestReplayOnVeth(t *testing.T) {
	l := newLab(t)
	frames := testFrames(37)
	path := writeCapture(t, filepath.Join(t.TempDir(), "frames.pcap"), layers.LinkTypeEthernet, frames)
	for _, tt := range []struct {
		rate, count, batch int
	}{
		{0, 37, 64},
		{0, 2000, 64},
		{20_000, 1000, 16},
		{0, 500, 1},
	} {
		rx := l.listen(t)
		var out bytes.Buffer
		args := []string{"-i", "veth0", "-rate", strconv.Itoa(tt.rate), "-count", strconv.Itoa(tt.count), "-batch", strconv.Itoa(tt.batch), path}
		if err := vethlab.InNetns(l.TX, func() error { return run(args, &out) }); err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		if !strings.HasPrefix(out.String(), "sent "+strconv.Itoa(tt.count)+" packets in ") ||
			!strings.HasSuffix(out.String(), " packets/s\n") {
			t.Errorf("%+v: output %q", tt, out.String())
		}
		got := rx.read(t, tt.count)
		if len(got) != tt.count {
			t.Fatalf("%+v: %d frames arrived, want %d", tt, len(got), tt.count)
		}
		for i, f := range got {
			if !bytes.Equal(f, frames[i%len(frames)]) {
				t.Fatalf("%+v: frame %d arrived as %x, want %x", tt, i, f, frames[i%len(frames)])
			}
		}
	}
}

// lab is two network namespaces joined by a veth pair, as scripts/live-bench.sh builds them.
type lab struct{ *vethlab.Pair }

func newLab(t *testing.T) *lab { return &lab{vethlab.New(t, "icap-rpl")} }

// receiver is a packet socket on the rx end of the lab.
type receiver struct{ fd int }

// listen opens a packet socket for every frame that reaches the rx end, with room to queue thousands.
func (l *lab) listen(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{fd: -1}
	err := vethlab.InNetns(l.RX, func() error {
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
		t.Fatalf("listen on %s: %v", l.RX, err)
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
