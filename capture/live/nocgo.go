//go:build !cgo

package live

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// hasLibpcap: this build has no libpcap.
const hasLibpcap = false

func openPcap(opts Options) (ring, layers.LinkType, int, error) {
	return nil, 0, 0, fmt.Errorf("open capture on %s with libpcap: %w", opts.Interface, ErrNoLibpcap)
}

// compileBPF fails without libpcap, whose compiler turns filter expressions into BPF programs.
func compileBPF(expr string, _ layers.LinkType, _ int) ([]bpf.RawInstruction, error) {
	return nil, fmt.Errorf("bpf filter %q: compiling a filter needs libpcap: %w", expr, ErrNoLibpcap)
}

// Interfaces lists the system's network interfaces with their addresses (libpcap is not there to ask).
func Interfaces() ([]Interface, error) {
	list, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(list))
	for _, itf := range list {
		it := Interface{Name: itf.Name, Up: itf.Flags&net.FlagUp != 0, Running: itf.Flags&net.FlagRunning != 0,
			Loopback: itf.Flags&net.FlagLoopback != 0}
		addrs, _ := itf.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if p, ok := prefix(n.IP, n.Mask); ok {
					it.Addresses = append(it.Addresses, p)
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}
