// Package live captures packets from a network interface for "intunecap live" and "probe". It returns the
// same capture.Frame the file reader does, so the analysis cannot tell a live source from a file.
//
// Two capture methods sit behind one Handle: AF_PACKET with a TPACKET_V3 ring (Linux, pure Go, the default
// there) and libpcap (cgo). A build without cgo captures through AF_PACKET on Linux, without --bpf filters
// (compiling a filter expression needs libpcap); elsewhere it analyzes files only.
package live

import (
	"errors"
	"fmt"
	"net/netip"
)

// DefaultSnapLen keeps whole packets, as tcpdump does: a ClientHello is never cut, and neither are the large
// segments a gateway sees with GRO.
const DefaultSnapLen = 262144

// DefaultBufferSize is the kernel ring buffer: 64 MiB holds about half a second at 500,000 packets a second
// (a second of a busy gigabit link), enough for the bursts of an enrolment while the analysis catches up.
const DefaultBufferSize = 64 << 20

// Method is how packets come from the kernel.
type Method uint8

// The capture methods.
const (
	MethodAuto     Method = iota // AF_PACKET on Linux (libpcap for -i any), libpcap elsewhere
	MethodAFPacket               // AF_PACKET socket with a TPACKET_V3 ring, read in batches (Linux)
	MethodPcap                   // libpcap (cgo builds)
)

// methodNames are the spellings of --capture-method.
var methodNames = [...]string{MethodAuto: "auto", MethodAFPacket: "afpacket", MethodPcap: "pcap"}

// String is the method's --capture-method spelling.
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("method(%d)", m)
}

// ParseMethod reads a --capture-method value.
func ParseMethod(s string) (Method, error) {
	for m, name := range methodNames {
		if s == name {
			return Method(m), nil
		}
	}
	return 0, fmt.Errorf("capture method %q is not auto, afpacket or pcap", s)
}

// Options choose what to capture. Zero values take the defaults above; Interface is required.
type Options struct {
	Interface  string
	Method     Method
	SnapLen    int    // bytes kept of each packet
	Promisc    bool   // promiscuous mode: see traffic not addressed to this host (a SPAN port, a hub)
	BPF        string // libpcap filter expression; empty captures everything
	BufferSize int    // kernel ring buffer bytes
}

func (o Options) withDefaults() Options {
	if o.SnapLen <= 0 {
		o.SnapLen = DefaultSnapLen
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.Method == MethodAuto {
		o.Method = defaultMethod
		if o.Interface == "any" && hasLibpcap { // AF_PACKET here reads one interface's own link type
			o.Method = MethodPcap
		}
	}
	return o
}

// Stats are the kernel's counters since Open, so the report can say how much the capture itself lost.
type Stats struct {
	Received  uint64 // packets that passed the filter, dropped ones included (ps_recv, tp_packets)
	Dropped   uint64 // dropped because the ring buffer was full: the reader was too slow (ps_drop, tp_drops)
	IfDropped uint64 // dropped by the interface or its driver (ps_ifdrop; AF_PACKET does not count these)
	Freezes   uint64 // times the TPACKET_V3 ring was full and froze until the reader freed a block (tp_freeze_q_cnt)
}

// Interface is a capture device with its addresses, so a user can tell which one faces the devices.
type Interface struct {
	Name        string
	Description string
	Addresses   []netip.Prefix
	Up          bool
	Running     bool
	Loopback    bool
}

// Errors a caller tells apart to give the user the right advice.
var (
	// ErrPermission: the process may not capture (needs root or CAP_NET_RAW and CAP_NET_ADMIN).
	ErrPermission = errors.New("no permission to capture")
	// ErrNoLibpcap: this binary was built without cgo, so libpcap is not linked in.
	ErrNoLibpcap = errors.New("this build of intunecap has no libpcap (built without cgo)")
	// ErrNoCapture: this binary can capture by no method on this system (no cgo and not Linux).
	ErrNoCapture = errors.New("live capture needs Linux or the libpcap (cgo) build of intunecap; this build analyzes files only")
)
