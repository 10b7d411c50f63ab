// Package live captures packets from a network interface through libpcap, for "intunecap live". It returns
// the same capture.Frame the file reader does, so the analysis cannot tell a live source from a file.
//
// The libpcap half needs cgo; a build without cgo (CGO_ENABLED=0) keeps this package's API, and Open and
// Interfaces return ErrNoLibpcap, so the rest of intunecap still builds and analyzes files.
package live

import (
	"errors"
	"net/netip"
)

// DefaultSnapLen keeps whole packets, as tcpdump does: a ClientHello is never cut, and neither are the large
// segments a gateway sees with GRO.
const DefaultSnapLen = 262144

// DefaultBufferSize is the kernel ring buffer: 32 MiB holds about a second of a busy gigabit link, enough for
// the bursts of an enrolment while the analysis catches up.
const DefaultBufferSize = 32 << 20

// Options choose what to capture. Zero values take the defaults above; Interface is required.
type Options struct {
	Interface  string
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
	return o
}

// Stats are libpcap's counters since Open, so the report can say how much the capture itself lost.
type Stats struct {
	Received  uint64 // packets that passed the filter (ps_recv)
	Dropped   uint64 // dropped because the ring buffer was full: the reader was too slow (ps_drop)
	IfDropped uint64 // dropped by the interface or its driver (ps_ifdrop)
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
	ErrNoLibpcap = errors.New("live capture needs the libpcap (cgo) build of intunecap; this build analyzes files only")
)
