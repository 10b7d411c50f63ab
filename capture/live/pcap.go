//go:build cgo

package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"

	"github.com/intunecap/intunecap/capture"
)

// readTimeout bounds how long a read waits in the kernel, so Close never waits on a quiet interface.
const readTimeout = 250 * time.Millisecond

// Handle is an open live capture. Next may run in one goroutine while Close is called from another.
type Handle struct {
	h        *pcap.Handle
	name     string
	linkType layers.LinkType
	snapLen  int
	frames   uint64

	mu     sync.Mutex // guards closed and final against Stats racing Close
	closed bool
	final  Stats // the counters at Close: libpcap's are gone with the handle
}

// Open starts capturing on opts.Interface in immediate mode, so each packet reaches the analysis at once
// rather than when the ring buffer's block fills.
func Open(opts Options) (*Handle, error) {
	opts = opts.withDefaults()
	if opts.Interface == "" {
		return nil, errors.New("open capture: no interface given")
	}
	in, err := pcap.NewInactiveHandle(opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("open capture on %s: %w", opts.Interface, err)
	}
	defer in.CleanUp()
	if err := configure(in, opts); err != nil {
		return nil, fmt.Errorf("open capture on %s: %w", opts.Interface, err)
	}
	h, err := in.Activate()
	if err != nil {
		return nil, fmt.Errorf("open capture on %s: %w", opts.Interface, activateError(err))
	}
	if opts.BPF != "" {
		if err := h.SetBPFFilter(opts.BPF); err != nil {
			h.Close()
			return nil, fmt.Errorf("bpf filter %q: %w", opts.BPF, err)
		}
	}
	return &Handle{h: h, name: opts.Interface, linkType: h.LinkType(), snapLen: h.SnapLen()}, nil
}

func configure(in *pcap.InactiveHandle, opts Options) error {
	return errors.Join(in.SetSnapLen(opts.SnapLen), in.SetPromisc(opts.Promisc), in.SetTimeout(readTimeout),
		in.SetImmediateMode(true), in.SetBufferSize(opts.BufferSize))
}

// activateError turns libpcap's activation codes into errors a caller can test: permission problems are
// ErrPermission whichever way libpcap words them.
func activateError(err error) error {
	msg := err.Error()
	low := strings.ToLower(msg)
	if strings.Contains(low, "permission denied") || strings.Contains(low, "not permitted") {
		return fmt.Errorf("%w (%s)", ErrPermission, msg)
	}
	if msg == "No Such Device" {
		return errors.New("no such interface (intunecap interfaces lists them)")
	}
	return errors.New(strings.ToLower(msg[:1]) + msg[1:])
}

// Next returns the next packet. Its Data points into libpcap's buffer and is valid only until the next call:
// copy what you keep. After Close it returns io.EOF.
func (h *Handle) Next() (capture.Frame, error) {
	for {
		data, ci, err := h.h.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			h.frames++
			return capture.Frame{Data: data, Timestamp: ci.Timestamp.UTC(), WireLen: ci.Length,
				LinkType: h.linkType, Number: h.frames}, nil
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			continue
		case errors.Is(err, io.EOF):
			return capture.Frame{}, io.EOF
		default:
			return capture.Frame{}, fmt.Errorf("read %s: %w", h.name, err)
		}
	}
}

// LinkType is the interface's link type, for the report and a pcapng header.
func (h *Handle) LinkType() layers.LinkType { return h.linkType }

// SnapLen is the snapshot length libpcap really uses.
func (h *Handle) SnapLen() int { return h.snapLen }

// Name is the interface name.
func (h *Handle) Name() string { return h.name }

// Stats returns libpcap's counters since Open; after Close, the counters as they were then.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.final, nil
	}
	return h.stats()
}

func (h *Handle) stats() (Stats, error) {
	s, err := h.h.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture statistics on %s: %w", h.name, err)
	}
	return Stats{Received: uint64(s.PacketsReceived), Dropped: uint64(s.PacketsDropped),
		IfDropped: uint64(s.PacketsIfDropped)}, nil
}

// Close stops the capture; a Next blocked in another goroutine returns io.EOF.
// It is safe to call more than once.
func (h *Handle) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.final, _ = h.stats()
	h.closed = true
	h.mu.Unlock()
	h.h.Close()
}

// Interfaces lists the devices libpcap can capture on, with their addresses.
func Interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", activateError(err))
	}
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		itf := Interface{Name: d.Name, Description: d.Description}
		for _, a := range d.Addresses {
			if p, ok := prefix(a.IP, a.Netmask); ok {
				itf.Addresses = append(itf.Addresses, p)
			}
		}
		itf.Up, itf.Running, itf.Loopback = d.Flags&flagUp != 0, d.Flags&flagRunning != 0, d.Flags&flagLoopback != 0
		out = append(out, itf)
	}
	return out, nil
}

// libpcap's PCAP_IF_* flags.
const (
	flagLoopback = 0x1
	flagUp       = 0x2
	flagRunning  = 0x4
)

func prefix(ip net.IP, mask net.IPMask) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if ones, size := mask.Size(); size == bits {
		bits = ones
	}
	return netip.PrefixFrom(addr, bits), true
}
