//go:build cgo

package live

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// hasLibpcap: this build links libpcap.
const hasLibpcap = true

// pcapRing is a libpcap handle in immediate mode, so each packet reaches the analysis at once rather than
// when the ring buffer's block fills.
type pcapRing struct{ h *pcap.Handle }

func openPcap(opts Options) (ring, layers.LinkType, int, error) {
	in, err := pcap.NewInactiveHandle(opts.Interface)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("open capture on %s: %w", opts.Interface, err)
	}
	defer in.CleanUp()
	if err := configure(in, opts); err != nil {
		return nil, 0, 0, fmt.Errorf("open capture on %s: %w", opts.Interface, err)
	}
	h, err := in.Activate()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("open capture on %s: %w", opts.Interface, activateError(err))
	}
	if opts.BPF != "" {
		if err := h.SetBPFFilter(opts.BPF); err != nil {
			h.Close()
			return nil, 0, 0, fmt.Errorf("bpf filter %q: %w", opts.BPF, err)
		}
	}
	return pcapRing{h}, h.LinkType(), h.SnapLen(), nil
}

func configure(in *pcap.InactiveHandle, opts Options) error {
	return errors.Join(in.SetSnapLen(opts.SnapLen), in.SetPromisc(opts.Promisc), in.SetTimeout(pollTimeout),
		in.SetImmediateMode(true), in.SetBufferSize(opts.BufferSize))
}

func (r pcapRing) read() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := r.h.ZeroCopyReadPacketData()
	switch {
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return nil, ci, errTimeout
	case errors.Is(err, io.EOF), errors.Is(err, pcap.NextErrorNoMorePackets):
		return nil, ci, io.EOF
	}
	return data, ci, err
}

func (r pcapRing) stats() (Stats, error) {
	s, err := r.h.Stats()
	if err != nil {
		return Stats{}, err
	}
	return Stats{Received: uint64(s.PacketsReceived), Dropped: uint64(s.PacketsDropped),
		IfDropped: uint64(s.PacketsIfDropped)}, nil
}

func (r pcapRing) close() { r.h.Close() }

// compileBPF compiles a filter expression for the AF_PACKET socket with libpcap's compiler, so --bpf means
// the same with either capture method. Its return instructions keep snapLen bytes of a matching packet.
func compileBPF(expr string, lt layers.LinkType, snapLen int) ([]bpf.RawInstruction, error) {
	prog, err := pcap.CompileBPFFilter(lt, snapLen, expr)
	if err != nil {
		return nil, fmt.Errorf("bpf filter %q: %w", expr, err)
	}
	out := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		out[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
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
