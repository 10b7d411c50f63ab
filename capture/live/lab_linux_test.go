package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/vethlab"
)

// The lab: two network namespaces joined by a veth pair, as tools/netlab and scripts/live-bench.sh build
// them. Frames are sent from the tx side with a raw AF_PACKET socket and captured on the rx side.

// labMarker starts the UDP payload of every test frame, so frames the kernel sends by itself (IPv6 router
// solicitations and the like) are told apart.
var labMarker = []byte("icap-lab")

// labLab is a veth pair between the namespaces TX and RX.
type labLab struct{ *vethlab.Pair }

func newLab(t *testing.T) *labLab { return &labLab{vethlab.New(t, "icap-afp")} }

// open opens a capture on the rx side of the lab.
func (l *labLab) open(t *testing.T, opts Options) *Handle {
	t.Helper()
	opts.Interface = "veth0"
	var h *Handle
	err := vethlab.InNetns(l.RX, func() (err error) {
		h, err = Open(opts)
		return err
	})
	if err != nil {
		t.Fatalf("open %v: %v", opts.Method, err)
	}
	t.Cleanup(h.Close)
	return h
}

// send sends frames from the tx side, a few at a time so the veth's backlog never overflows, and returns
// the wall time before the first and after the last.
func (l *labLab) send(t *testing.T, frames [][]byte) (start, end time.Time) {
	t.Helper()
	err := vethlab.InNetns(l.TX, func() error {
		itf, err := net.InterfaceByName("veth0")
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: itf.Index, Halen: 6}
		start = time.Now()
		for i, f := range frames {
			if err := unix.Sendto(fd, f, 0, to); err != nil {
				return fmt.Errorf("send frame %d: %w", i, err)
			}
			if i%64 == 63 {
				time.Sleep(time.Millisecond)
			}
		}
		end = time.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return start, end
}

// labFrame is test frame seq: broadcast Ethernet, IPv4 198.18.0.2 -> 198.18.0.1, UDP to dport, size bytes
// in all, the payload the marker and seq.
func labFrame(seq uint32, dport uint16, size int) []byte {
	const hdr = 14 + 20 + 8
	size = max(size, hdr+len(labMarker)+4)
	b := make([]byte, size)
	copy(b, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := b[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	copy(ip[12:], []byte{198, 18, 0, 2, 198, 18, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := b[34:42]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(size-34))
	copy(b[hdr:], labMarker)
	binary.BigEndian.PutUint32(b[hdr+len(labMarker):], seq)
	for i := hdr + len(labMarker) + 4; i < size; i++ {
		b[i] = byte(i)
	}
	return b
}

// labTraffic is n test frames of sizes from 60 to 1514 bytes, every third one to port 7000, the others to
// port 9000, every fifth one tagged for VLAN 100 (which the receiving veth takes off into the packet's
// metadata, and the capture must put back).
func labTraffic(n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		port := uint16(9000)
		if i%3 == 0 {
			port = 7000
		}
		frames[i] = labFrame(uint32(i), port, 60+(i*97)%1455)
		if i%5 == 4 {
			frames[i] = withVLAN(frames[i], 100)
		}
	}
	return frames
}

// withVLAN inserts an 802.1Q tag after the MAC addresses of an Ethernet frame.
func withVLAN(f []byte, id uint16) []byte {
	tag := []byte{0x81, 0x00, byte(id >> 8), byte(id)}
	return append(append(append([]byte(nil), f[:12]...), tag...), f[12:]...)
}

// collect starts reading the test frames (with the marker) from h, copying each, until want of them came;
// wait returns them, failing the test if they did not all come within 10 s.
func collect(h *Handle, want int) (wait func(t *testing.T) []capture.Frame) {
	var got []capture.Frame
	done := make(chan error, 1)
	go func() {
		b := NewBatch(DefaultBatchFrames, DefaultSnapLen) // as live does: the capture's snaplen is the kernel's to keep
		for len(got) < want {
			err := h.ReadBatch(b)
			for _, f := range b.Frames {
				if bytes.Contains(f.Data, labMarker) {
					f.Data = bytes.Clone(f.Data)
					got = append(got, f)
				}
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return func(t *testing.T) []capture.Frame {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: read: %v", h.Method(), err)
			}
		case <-time.After(10 * time.Second):
			h.Close()
			<-done
			t.Fatalf("%v: %d of %d frames within 10 s", h.Method(), len(got), want)
		}
		return got
	}
}

// checkFrames holds captured frames to what was sent: all of them, in order, with the wire length, the
// bytes up to snapLen, and a timestamp within the sending.
func checkFrames(t *testing.T, name string, got []capture.Frame, sent [][]byte, snapLen int, start, end time.Time) {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("%s: %d frames, want %d", name, len(got), len(sent))
	}
	var prev time.Time
	for i, f := range got {
		want := sent[i][:min(len(sent[i]), snapLen)]
		switch {
		case !bytes.Equal(f.Data, want):
			t.Fatalf("%s: frame %d: %d bytes differ from the %d sent (kept %d)", name, i, len(f.Data), len(sent[i]), len(want))
		case f.WireLen != len(sent[i]):
			t.Fatalf("%s: frame %d: wire length %d, want %d", name, i, f.WireLen, len(sent[i]))
		case f.Timestamp.Before(start.Add(-time.Millisecond)) || f.Timestamp.After(end.Add(time.Millisecond)):
			t.Fatalf("%s: frame %d: timestamp %v outside the sending, %v to %v", name, i, f.Timestamp, start, end)
		case f.Timestamp.Before(prev):
			t.Fatalf("%s: frame %d: timestamp %v before the previous %v", name, i, f.Timestamp, prev)
		case i > 0 && f.Number <= got[i-1].Number:
			t.Fatalf("%s: frame %d: number %d after %d", name, i, f.Number, got[i-1].Number)
		}
		prev = f.Timestamp
	}
}

func TestLiveAFPacketLab(t *testing.T) {
	l := newLab(t)
	h := l.open(t, Options{Method: MethodAFPacket})
	short := l.open(t, Options{Method: MethodAFPacket, SnapLen: 96})
	sent := labTraffic(5000)
	whole, cut := collect(h, len(sent)), collect(short, len(sent))
	start, end := l.send(t, sent)
	checkFrames(t, "whole", whole(t), sent, DefaultSnapLen, start, end)
	checkFrames(t, "snaplen 96", cut(t), sent, 96, start, end)
	st, err := h.Stats()
	if err != nil || st.Dropped != 0 || st.Received < uint64(len(sent)) {
		t.Errorf("stats %+v, %v: want %d received, none dropped", st, err, len(sent))
	}
}

func TestLiveAFPacketCloseWakesReader(t *testing.T) {
	l := newLab(t)
	h := l.open(t, Options{Method: MethodAFPacket})
	errc := make(chan error, 1)
	go func() {
		b := NewBatch(8, h.SnapLen())
		for {
			if err := h.ReadBatch(b); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	h.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Errorf("ReadBatch after Close: %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadBatch still waiting 2 s after Close")
	}
	if _, err := h.Stats(); err != nil {
		t.Errorf("Stats after Close: %v", err)
	}
}

func TestLiveAFPacketOpenErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		vethlab.Unavailable(t, "needs root to open an AF_PACKET socket")
	}
	if _, err := Open(Options{Interface: "intunecap-no-such-if0", Method: MethodAFPacket}); err == nil {
		t.Error("Open on a missing interface succeeded")
	}
}

// TestLiveAFFilter: the socket filter keeps snapLen bytes, and on loopback first drops the outgoing copy.
func TestLiveAFFilter(t *testing.T) {
	plain, err := afFilter(Options{SnapLen: 96}, 0, false)
	if err != nil || len(plain) != 1 || plain[0].Op != opRetK || plain[0].K != 96 {
		t.Errorf("filter without --bpf: %v, %v", plain, err)
	}
	lo, err := afFilter(Options{SnapLen: 96}, 0, true)
	if err != nil || len(lo) != 4 || lo[0].K != bpfLoadPktType || lo[1].K != packetOutgoing || lo[3] != plain[0] {
		t.Errorf("loopback filter: %v, %v", lo, err)
	}
}

// TestLiveAFPacketLoopbackOnce: on loopback AF_PACKET can deliver a packet's outgoing copy besides the
// incoming one (libpcap drops it, and so does the socket filter); each packet must come once.
func TestLiveAFPacketLoopbackOnce(t *testing.T) {
	l := newLab(t)
	if out, err := exec.Command("ip", "-n", l.RX, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	var h *Handle
	if err := vethlab.InNetns(l.RX, func() (err error) {
		h, err = Open(Options{Interface: "lo", Method: MethodAFPacket})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	const n = 20
	wait := collect(h, n+1)
	err := vethlab.InNetns(l.RX, func() error {
		c, err := net.ListenPacket("udp", "127.0.0.1:0") // sends to itself: no port unreachable
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.WriteTo(labMarker, c.LocalAddr()); err != nil {
				return err
			}
		}
		_, err = c.WriteTo(append(append([]byte(nil), labMarker...), "end"...), c.LocalAddr())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := wait(t)
	if last := got[len(got)-1].Data; !bytes.HasSuffix(last, []byte("end")) {
		t.Errorf("%d marked frames before the last one: each loopback packet was captured more than once", len(got)-1)
	}
}
