package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is Linux's struct mmsghdr, which golang.org/x/sys/unix does not define: a message header and the
// number of bytes the kernel sent of it.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// sender writes frames to an AF_PACKET socket bound to one interface.
type sender struct {
	fd     int
	frames [][]byte
	iovs   []unix.Iovec
	// msgs has one header for each frame, then the first frames' again, so that any run of up to a batch of
	// frames, wrapping round the end of the capture, is one contiguous slice for sendmmsg.
	msgs []mmsghdr
}

// openSender opens a raw packet socket on iface that sends frames and receives nothing (protocol 0).
func openSender(iface string, frames [][]byte, batch int) (*sender, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w (replay needs root or CAP_NET_RAW)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind to %s: %w", iface, err)
	}
	s := &sender{fd: fd, frames: frames, iovs: make([]unix.Iovec, len(frames))}
	for i, f := range frames {
		s.iovs[i].Base = &f[0]
		s.iovs[i].SetLen(len(f))
	}
	s.msgs = make([]mmsghdr, len(frames)+batch)
	for i := range s.msgs {
		s.msgs[i].hdr.Iov = &s.iovs[i%len(frames)]
		s.msgs[i].hdr.SetIovlen(1)
	}
	return s, nil
}

// sendBatch sends frames first … first+n-1 (modulo the capture) in one sendmmsg call; it retries while the
// kernel's queue is full and returns how many frames went out (at least one).
func (s *sender) sendBatch(first, n int) (int, error) {
	k := first % len(s.frames)
	for {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msgs[k])),
			uintptr(n), 0, 0, 0)
		switch {
		case errno == 0 && r > 0:
			return int(r), nil
		case errno == 0, errors.Is(errno, unix.EINTR), errors.Is(errno, unix.EAGAIN), errors.Is(errno, unix.ENOBUFS):
			runtime.Gosched()
		default:
			return 0, errno
		}
	}
}

func (s *sender) close() { unix.Close(s.fd) }
